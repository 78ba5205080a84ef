"""Where constant fits run: in this process, or spread over Ray workers in chunks by the FitterPool.

The decision and the chunking are pure functions here; ``lawfinder.inference.ray_pool`` is the Ray shell. Ray is
used only when it is already running or ``n_jobs > 1`` asks for it, so a plain ``Regressor().fit`` never pays
Ray's start-up. Fits travel in chunks of 16-64 because one Ray task per fit costs more than the fit itself.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Sequence

import numpy as np

from .fitting import FitConfig, FitResult, draw_seed, fit_candidates

MIN_CHUNK = 16
MAX_CHUNK = 64
CHUNKS_PER_WORKER = 4  # several chunks per worker even out candidates that take longer than others


def ray_is_running() -> bool:
    """Whether this process is connected to Ray, without importing Ray when nothing else did."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` -> 1, ``-1`` -> every core of this machine, a positive count as given."""
    if n_jobs is None:
        return 1
    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive number of processes or -1 (all cores), got {n_jobs}")
    return int(n_jobs)


def use_ray(n_jobs: int | None, n_candidates: int) -> bool:
    """Ray when asked (``n_jobs > 1`` or -1) or already running (and ``n_jobs`` not pinned to 1), and when there are
    enough candidates for more than one chunk; fewer run faster here than the round trip to a worker."""
    if n_candidates <= MIN_CHUNK:
        return False
    if n_jobs is None:
        return ray_is_running()
    return resolve_n_jobs(n_jobs) > 1


def chunk_bounds(n_candidates: int, n_workers: int, min_chunk: int = MIN_CHUNK,
                 max_chunk: int = MAX_CHUNK) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering the candidates: about ``CHUNKS_PER_WORKER`` chunks per worker, each of
    ``min_chunk``..``max_chunk`` candidates (the last one may be shorter)."""
    if n_candidates <= 0:
        return []
    size = math.ceil(n_candidates / (max(n_workers, 1) * CHUNKS_PER_WORKER))
    size = min(max(size, min_chunk), max_chunk)
    return [(start, min(start + size, n_candidates)) for start in range(0, n_candidates, size)]


def fit_all(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray, config: FitConfig | None = None,
            seed: int | None = None, n_jobs: int | None = None, deadline: float | None = None) -> list[FitResult]:
    """Fit every candidate's constants, in this process or on Ray (see ``use_ray``); the same restarts either way for
    the same ``seed``. With a ``deadline`` (``time.time()`` value) candidates not started by then are left out."""
    seed = draw_seed() if seed is None else seed
    if not use_ray(n_jobs, len(candidates)):
        return fit_candidates(candidates, X, y, config, seed, deadline=deadline)
    from .ray_pool import FitterPool

    n_workers = None if n_jobs is None else resolve_n_jobs(n_jobs)
    return FitterPool(n_workers).fit(candidates, X, y, config, seed, deadline)
