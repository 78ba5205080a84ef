"""Percentile bootstrap confidence intervals, resampling whole equations (the unit Flash-ANSR's CIs are over)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

N_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval; ``n`` is the number of resampled units (equations)."""

    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def bootstrap_ci(values: Sequence[float], statistic: str = "mean", n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = 0) -> Estimate:
    """Point estimate and percentile interval of ``statistic`` ("mean" or "median") over ``values``.

    NaN values (a metric undefined for that unit, e.g. no prediction) are dropped before resampling. With no
    values left the estimate is NaN; with one value the interval collapses onto it.
    """
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    reduce = np.mean if statistic == "mean" else np.median
    value = float(reduce(x))
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    # Chunks keep the index matrix small when n is large (per-dataset resampling of thousands of rows).
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        stats[start:stop] = reduce(x[idx], axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Estimate(value, float(low), float(high), n)
