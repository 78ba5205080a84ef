"""Where LM restarts begin for the nonlinear constants: any magnitude, not only the N(0, 5^2) prior.

Physical constants (c^2, hbar, k_B, epsilon_0, G) sit tens of decades away from N(0, 5^2), where LM cannot walk.
So a restart's start mixes three sources: a coarse scan over decades (``DECADES``, both signs, one constant at a time
with the others held, done by the fitting on a few rows), the model's prior N(0, 5^2) (Flash-ANSR's own starts),
and magnitudes drawn log-uniformly over ``LOG_SPREAD`` decades. LM then runs in units of each start's magnitude, so
its finite-difference steps and its trust region are relative to the constant's own size.
"""

from __future__ import annotations

import numpy as np

DECADES = np.arange(-36.0, 37.0, 1.0)  # magnitudes 10^-36 .. 10^36 tried by the scan (c^2 ~ 1e17, G ~ 1e-11, ...)
LOG_SPREAD = 12.0                      # log-uniform draws: 10^U(-12, 12)


def scan_grid(values: np.ndarray, i: int) -> np.ndarray:
    """Rows of start vectors that set constant ``i`` of ``values`` to +-10^d for every scanned decade ``d``."""
    magnitudes = 10.0 ** DECADES
    grid = np.repeat(values[None, :], 2 * magnitudes.size, axis=0)
    grid[:, i] = np.concatenate([magnitudes, -magnitudes])
    return grid


def restart_starts(best: np.ndarray, top: list[np.ndarray], n_restarts: int, init_std: float,
                   rng: np.random.Generator) -> list[np.ndarray]:
    """``n_restarts`` start vectors: the scan's best, one prior draw, then a mix per constant of the scan's top
    values (jittered by a factor 10^N(0, 0.3)), prior draws and log-uniform magnitudes with random signs.

    ``top[i]`` holds the scan's best few values of constant ``i``, best first."""
    k = best.size
    starts = [best.copy()]
    if n_restarts > 1:
        starts.append(rng.normal(0.0, init_std, k))
    while len(starts) < n_restarts:
        start = np.empty(k)
        for i in range(k):
            source = rng.integers(3)
            if source == 0 and top[i].size:
                start[i] = rng.choice(top[i]) * 10.0 ** rng.normal(0.0, 0.3)
            elif source == 1:
                start[i] = rng.normal(0.0, init_std)
            else:
                start[i] = rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-LOG_SPREAD, LOG_SPREAD)
        starts.append(start)
    return starts[:n_restarts]
