"""How a list of candidates is cut into chunks for other processes: pure arithmetic, shared by the Ray pool
(``ray_pool.py``) and the dispatch (``parallel.py``) so that neither imports the other for it.

Fits travel in chunks of 16-64 because one task per fit costs more than the fit itself.
"""

from __future__ import annotations

import math

MIN_CHUNK = 16
MAX_CHUNK = 64
CHUNKS_PER_WORKER = 4  # several chunks per worker even out candidates that take longer than others


def chunk_bounds(n_candidates: int, n_workers: int, min_chunk: int = MIN_CHUNK,
                 max_chunk: int = MAX_CHUNK) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering the candidates: about ``CHUNKS_PER_WORKER`` chunks per worker, each of
    ``min_chunk``..``max_chunk`` candidates (the last one may be shorter)."""
    if n_candidates <= 0:
        return []
    size = math.ceil(n_candidates / (max(n_workers, 1) * CHUNKS_PER_WORKER))
    size = min(max(size, min_chunk), max_chunk)
    return [(start, min(start + size, n_candidates)) for start in range(0, n_candidates, size)]
