"""FitterPool: constant fitting on every core of a Ray cluster, one Ray task per chunk of candidates.

A thin shell: the fitting is ``lawfinder.inference.fitting.fit_candidates`` and the chunking
``chunks.chunk_bounds``. The data go to the object store once and every task reads them from
there (zero-copy for numpy arrays on the same node).
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import ray

from ...ray_connect import connect
from .constants import FitConfig, FitResult, draw_seed, fit_candidates
from .chunks import chunk_bounds


@ray.remote(num_cpus=1)
def _fit_chunk(candidates: list[list[str]], X: np.ndarray, y: np.ndarray, config: FitConfig, seed: int,
               offset: int, deadline: float | None, w: np.ndarray | None = None) -> tuple[list[FitResult], float, float]:
    """-> (results, wall seconds, CPU seconds) of this chunk; the times tell a busy machine from pool overhead."""
    wall, cpu = time.perf_counter(), time.process_time()
    results = fit_candidates(candidates, X, y, config, seed, offset, deadline, w)
    return results, time.perf_counter() - wall, time.process_time() - cpu


class FitterPool:
    """Fits candidates on Ray workers. ``n_workers`` starts a local Ray with that many CPUs when none is running;
    with Ray running, chunks are sized for the cluster's CPUs."""

    def __init__(self, n_workers: int | None = None):
        connect(num_cpus=n_workers, log_to_driver=False)
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.n_workers = min(n_workers or cluster_cpus, cluster_cpus)
        self.last_stats: dict[str, float] = {}

    def fit(self, candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray,
            config: FitConfig | None = None, seed: int | None = None,
            deadline: float | None = None, w: np.ndarray | None = None) -> list[FitResult]:
        """Results in candidate order (row weights ``w``: weighted least squares); each chunk stops at ``deadline``,
        so late candidates may be missing."""
        config = config or FitConfig()
        seed = draw_seed() if seed is None else seed
        X_ref = ray.put(np.ascontiguousarray(X, dtype=np.float64))
        y_ref = ray.put(np.ascontiguousarray(y, dtype=np.float64))
        w_ref = None if w is None else ray.put(np.ascontiguousarray(w, dtype=np.float64))
        refs = [_fit_chunk.remote([list(t) for t in candidates[start:stop]], X_ref, y_ref, config, seed, start,
                                  deadline, w_ref)
                for start, stop in chunk_bounds(len(candidates), self.n_workers)]
        chunks = ray.get(refs)
        self.last_stats = {"tasks": len(chunks), "task_wall_seconds": sum(c[1] for c in chunks),
                           "task_cpu_seconds": sum(c[2] for c in chunks)}
        return [result for chunk in chunks for result in chunk[0]]

    def warm_up(self) -> None:
        """Run one tiny chunk per worker so that imports and process start-up are paid before timing."""
        X = np.linspace(1.0, 2.0, 8)[:, None]
        y = 2.0 * X[:, 0] + 1.0
        candidates = [["+", "*", "<constant>", "x1", "<constant>"]]
        ray.get([_fit_chunk.remote(candidates, X, y, FitConfig(n_restarts=1), 0, 0, None)
                 for _ in range(self.n_workers)])
