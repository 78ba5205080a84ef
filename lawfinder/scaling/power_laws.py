"""Scaling-law fits: power laws in log space with confidence intervals, IsoFLOP minima and compute-optimal allocation.

The methodology follows the scaling-laws paper (after Chinchilla): error against compute is a power law; for every
compute budget the loss-minimising model size is read off a parabola in log N (an IsoFLOP curve); the optimal size and
token count then follow power laws in compute, and their ratio is the tokens-per-parameter rule (≈ 15 in the paper).
Pure numpy/scipy, no plotting and no I/O, so every function is tested on synthetic data with known exponents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient · x^exponent``, fitted by least squares on (log10 x, log10 y)."""

    coefficient: float
    exponent: float
    exponent_ci: tuple[float, float]  # 95% interval of the exponent (Student t on the slope's standard error)
    log10_coefficient_se: float
    r2: float
    n: int

    def __call__(self, x):
        return self.coefficient * np.asarray(x, dtype=float) ** self.exponent

    def solve(self, y: float) -> float:
        """The x at which the law reaches ``y`` (extrapolation, e.g. the compute for a target error)."""
        return float((y / self.coefficient) ** (1.0 / self.exponent))

    def to_dict(self) -> dict:
        return asdict(self)


def fit_power_law(x: Sequence[float], y: Sequence[float], confidence: float = 0.95) -> PowerLaw:
    """Fit ``y = a·x^b`` by linear regression of log10 y on log10 x; needs >= 3 positive points."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of equal length, got shapes {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"a power-law fit with a confidence interval needs at least 3 points, got {len(x)}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("power-law fits need positive x and y (they are fitted in log space)")
    result = stats.linregress(np.log10(x), np.log10(y))
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 2) * result.stderr
    return PowerLaw(
        coefficient=float(10 ** result.intercept), exponent=float(result.slope),
        exponent_ci=(float(result.slope - half), float(result.slope + half)),
        log10_coefficient_se=float(result.intercept_stderr), r2=float(result.rvalue ** 2), n=len(x),
    )


@dataclass(frozen=True)
class IsoFlopMinimum:
    """The loss-minimising model size on one IsoFLOP curve (all runs sharing one compute budget)."""

    flops: float
    params: float   # N_opt
    tokens: float   # D_opt = tokens the optimal model sees at this budget (C / (6 N_opt) under C ≈ 6·N·D)
    loss: float     # the parabola's value at its minimum
    interior: bool  # False when the minimum lies outside the sizes tried (then it is the best run, not a fit)


def around_best(params: Sequence[float], losses: Sequence[float], window: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The sizes within ``window`` places (in order of N) of the best run, with their losses; all when None.

    A parabola in log N describes an IsoFLOP curve near its minimum only: over a 30x range of sizes the far side
    bends it and drags the vertex away from the best runs, so the fit is made on the neighbourhood of the best."""
    n = np.asarray(params, dtype=float)
    loss = np.asarray(losses, dtype=float)
    if n.shape != loss.shape or n.size == 0:
        raise ValueError("params and losses must be non-empty and of equal length")
    order = np.argsort(n, kind="stable")
    n, loss = n[order], loss[order]
    if window is None:
        return n, loss
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    best = int(np.argmin(loss))
    keep = slice(max(0, best - window), best + window + 1)
    return n[keep], loss[keep]


def isoflop_curve(params: Sequence[float], losses: Sequence[float]) -> tuple[float, float, float] | None:
    """Coefficients (a, b, c) of ``loss = a·(log10 N)^2 + b·log10 N + c`` through one IsoFLOP curve, or None with
    fewer than three distinct sizes (the plots draw the parabola; ``isoflop_minimum`` reads its vertex)."""
    n = np.asarray(params, dtype=float)
    loss = np.asarray(losses, dtype=float)
    if n.shape != loss.shape:
        raise ValueError("params and losses must be of equal length")
    if np.unique(n).size < 3:
        return None
    a, b, c = np.polyfit(np.log10(n), loss, 2)
    return float(a), float(b), float(c)


def isoflop_minimum(params: Sequence[float], losses: Sequence[float], flops: float,
                    window: int | None = None) -> IsoFlopMinimum:
    """Fit ``loss = a·(log10 N)^2 + b·log10 N + c`` to one IsoFLOP curve and return its minimum.

    With fewer than three sizes, or a curve that does not open upwards, or a vertex outside the sizes tried, the best
    run itself is returned and marked ``interior=False`` so callers can leave it out of the compute-optimal fit.
    ``window``: fit only the best run and this many neighbours on each side (``around_best``)."""
    n, loss = around_best(params, losses, window)
    best = int(np.argmin(loss))
    fallback = IsoFlopMinimum(float(flops), float(n[best]), float(flops / (6 * n[best])), float(loss[best]), False)
    if n.size < 3:
        return fallback
    log_n = np.log10(n)
    a, b, c = np.polyfit(log_n, loss, 2)
    if a <= 0:
        return fallback
    vertex = -b / (2 * a)
    if not (log_n.min() <= vertex <= log_n.max()):
        return fallback
    n_opt = 10 ** vertex
    return IsoFlopMinimum(float(flops), float(n_opt), float(flops / (6 * n_opt)), float(c - b * b / (4 * a)), True)


@dataclass(frozen=True)
class ComputeOptimal:
    minima: list[IsoFlopMinimum]
    params_law: PowerLaw | None   # N_opt ∝ C^a
    tokens_law: PowerLaw | None   # D_opt ∝ C^b
    tokens_per_param: float       # geometric mean of D_opt / N_opt over interior minima
    tokens_per_param_range: tuple[float, float]


def compute_optimal(runs: Iterable[dict], metric: str = "loss", window: int | None = None) -> ComputeOptimal:
    """IsoFLOP analysis over run records with keys ``flops_budget`` (the grid's budget label), ``params`` and ``metric``.

    Power laws for N_opt and D_opt need at least three interior minima; with fewer they are ``None`` and the
    tokens-per-parameter ratio comes from the minima there are."""
    groups: dict[float, list[dict]] = {}
    for run in runs:
        groups.setdefault(float(run["flops_budget"]), []).append(run)
    minima = [isoflop_minimum([r["params"] for r in rs], [r[metric] for r in rs], budget, window)
              for budget, rs in sorted(groups.items())]
    interior = [m for m in minima if m.interior]
    use = interior or minima
    ratios = np.array([m.tokens / m.params for m in use])
    if len(interior) >= 3:
        flops = [m.flops for m in interior]
        params_law = fit_power_law(flops, [m.params for m in interior])
        tokens_law = fit_power_law(flops, [m.tokens for m in interior])
    else:
        params_law = tokens_law = None
    return ComputeOptimal(minima, params_law, tokens_law, float(np.exp(np.mean(np.log(ratios)))),
                          (float(ratios.min()), float(ratios.max())))


def frontier(runs: Iterable[dict], metric: str, lower_is_better: bool = True) -> list[dict]:
    """The best run at each compute budget: the points an error-against-compute power law is fitted to."""
    best: dict[float, dict] = {}
    for run in runs:
        budget = float(run["flops_budget"])
        if budget not in best:
            best[budget] = run
            continue
        value, current = run[metric], best[budget][metric]
        if (value < current) if lower_is_better else (value > current):
            best[budget] = run
    return [best[b] for b in sorted(best)]


def error_law(runs: Iterable[dict], accuracy: str = "acc_solved") -> PowerLaw:
    """Error rate (1 − accuracy) of the best run per budget against that run's FLOPs, as a power law."""
    points = frontier(runs, accuracy, lower_is_better=False)
    errors = [1.0 - p[accuracy] for p in points]
    if any(e <= 0 for e in errors):
        raise ValueError(f"an error-rate power law needs accuracies below 1; {accuracy} reached 1.0")
    return fit_power_law([p["flops"] for p in points], errors)
