"""Where constant fits run: in this process, on the Ray FitterPool, or in a local process pool.

The decision is a pure function here; ``ray_pool.py`` is the Ray shell and ``chunks.py`` the chunking both use, so
the imports run one way (dispatch -> ray_pool -> chunks). By default fitting uses every core: the Ray pool when Ray
is running, else a pool of forked worker processes (``concurrent.futures``, started once and kept; where ``fork``
does not exist, this process: spawned workers would re-run a user's unguarded script); ``n_jobs`` limits it,
``n_jobs=1`` keeps everything in this process. A pool that breaks is dropped and its round fitted here. A round with a single chunk's worth of candidates is fitted here,
faster than the round trip to a worker.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Sequence

import numpy as np

from .chunks import MAX_CHUNK, MIN_CHUNK, chunk_bounds  # noqa: F401 - MIN/MAX_CHUNK re-exported for callers
from .constants import FitConfig, FitResult, draw_seed, fit_candidates


def ray_is_running() -> bool:
    """Whether this process is connected to Ray, without importing Ray when nothing else did."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` or ``-1`` -> every core of this machine, a positive count as given."""
    if n_jobs is None or n_jobs == -1:
        return os.cpu_count() or 1
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive number of processes or -1 (all cores), got {n_jobs!r}")
    return int(n_jobs)


def backend(n_jobs: int | None, n_candidates: int) -> str:
    """``"here"``, ``"ray"`` or ``"processes"``: Ray when it is running (and ``n_jobs`` is not pinned to 1), else
    worker processes when more than one core is allowed; here when there is at most one chunk of candidates."""
    if n_candidates <= MIN_CHUNK:
        return "here"
    if n_jobs == 1:
        return "here"
    if ray_is_running():
        return "ray"
    if resolve_n_jobs(n_jobs) > 1 and "fork" in multiprocessing.get_all_start_methods():
        return "processes"
    return "here"


def use_ray(n_jobs: int | None, n_candidates: int) -> bool:
    return backend(n_jobs, n_candidates) == "ray"


_POOL: dict[int, ProcessPoolExecutor] = {}


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """One pool per worker count, kept for the life of this process (starting processes costs more than a round)."""
    pool = _POOL.get(workers)
    if pool is None:
        # fork: the children never import __main__ again (a user's script without a main guard would run twice),
        # and they only run numpy/SciPy, never torch, so the parent's torch threads do not matter to them.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        _POOL[workers] = pool
    return pool


@atexit.register
def _shutdown_pools() -> None:
    for pool in _POOL.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _POOL.clear()


def fit_all(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray, config: FitConfig | None = None,
            seed: int | None = None, n_jobs: int | None = None, deadline: float | None = None,
            w: np.ndarray | None = None) -> list[FitResult]:
    """Fit every candidate's constants (weighted least squares with row weights ``w``; see ``backend``); the same
    restarts wherever they run, for the same ``seed``. With a ``deadline`` (``time.time()`` value) candidates not
    started by then are left out."""
    seed = draw_seed() if seed is None else seed
    where = backend(n_jobs, len(candidates))
    if where == "here":
        return fit_candidates(candidates, X, y, config, seed, deadline=deadline, w=w)
    if where == "ray":
        from .ray_pool import FitterPool

        n_workers = None if n_jobs is None else resolve_n_jobs(n_jobs)
        return FitterPool(n_workers).fit(candidates, X, y, config, seed, deadline, w)
    workers = resolve_n_jobs(n_jobs)
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    pool = _process_pool(workers)
    try:
        futures = [pool.submit(fit_candidates, [list(t) for t in candidates[start:stop]], X, y, config, seed, start,
                               deadline, w)
                   for start, stop in chunk_bounds(len(candidates), workers)]
        return [result for future in futures for result in future.result()]
    except BrokenProcessPool:
        _POOL.pop(workers, None)
        return fit_candidates(candidates, X, y, config, seed, deadline=deadline, w=w)
