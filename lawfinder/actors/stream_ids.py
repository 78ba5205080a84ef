"""Random-stream ids for producers: a producer's stream is derived from (launch, restart count), so neither a Ray
restart of the producer nor a relaunch of the whole job ever replays data already produced.

The generator seeds itself from (seed, worker_index, stream); the seed and worker index are fixed per producer slot,
so the stream alone must change whenever a producer starts again.
"""

from __future__ import annotations

# A producer may restart at most this many times within one launch before its streams would run into the next
# launch's; the actor's max_restarts is checked against it where producers are created.
RESTARTS_PER_LAUNCH = 1 << 16


def stream_id(launch: int, restarts: int) -> int:
    """The generator stream for a producer in its ``restarts``-th restart during the ``launch``-th launch."""
    if launch < 0:
        raise ValueError(f"launch must be >= 0, got {launch}")
    if not 0 <= restarts < RESTARTS_PER_LAUNCH:
        raise ValueError(f"restarts must be in [0, {RESTARTS_PER_LAUNCH}), got {restarts}")
    return launch * RESTARTS_PER_LAUNCH + restarts


def split_stream(stream: int) -> tuple[int, int]:
    """Inverse of ``stream_id``: (launch, restarts)."""
    if stream < 0:
        raise ValueError(f"stream must be >= 0, got {stream}")
    return divmod(stream, RESTARTS_PER_LAUNCH)
