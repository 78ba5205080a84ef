"""Snapping fitted constants to the integers they stand for: ``1.0000000002 * (I * R)`` becomes ``I * R``; and
writing every remaining constant with the fewest significant digits that keep its fit (``9.810000000000004`` prints
as ``9.81``).

LM returns a constant as a float even when the law holds an exact integer (or a factor of one). After ranking, the
best few equations try each such constant as a literal, simplify, refit whatever constants remain, and keep the
snapped form only when the Flash-ANSR score (log10 FVU + parsimony · length) improves, or stays equal with a
shorter formula, or the shorter formula is still exact (``SNAP_EXACT_FVU``); a snap that costs accuracy is refused.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ...simplipy import CONSTANT
from ...simplipy.tokens import format_number
from ...simplipy import compile as compile_tokens
from .constants import FitConfig, FitResult, fit_constants, fvu_of, normalized_weights, weighted_var
from ..ranking import complexity, score

SNAP_RTOL = 1e-6  # a constant within this relative distance of an integer is tried as that integer
# Beyond this every float is within SNAP_RTOL of an integer (1e14 "is" 100000000000000): not a snap, only noise.
SNAP_MAX = 1e4
# A snapped form this exact is as good as any: on float32 data FVUs below it are rounding noise, not accuracy.
SNAP_EXACT_FVU = 1e-14
# A shorter decimal may raise the FVU by this relative share (or up to SNAP_EXACT_FVU): far below any difference
# between candidates, so only digits that carry no information are dropped.
DECIMAL_RTOL = 1e-9


def snap_targets(value: float, rtol: float = SNAP_RTOL) -> float | None:
    """The integer ``value`` is numerically indistinguishable from (at ``rtol``), or None."""
    nearest = float(np.round(value))
    if abs(nearest) > SNAP_MAX:
        return None
    if abs(value - nearest) <= rtol * max(1.0, abs(value)):
        return nearest
    return None


def snapped_skeleton(tokens: Sequence[str], constants: Sequence[float], rtol: float = SNAP_RTOL) -> list[str] | None:
    """``tokens`` with every near-integer constant written as a literal; None when no constant snaps."""
    out, i, changed = [], 0, False
    for token in tokens:
        if token != CONSTANT:
            out.append(token)
            continue
        target = snap_targets(constants[i], rtol)
        i += 1
        if target is None:
            out.append(token)
        else:
            out.append(format_number(target))
            changed = True
    return out if changed else None


def shortest_decimals(result: FitResult, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> FitResult:
    """``result`` with each constant rounded to the fewest significant digits (1 to 15) at which the FVU on
    ``(X, y)`` stays within ``DECIMAL_RTOL`` of the fitted one (or at most ``SNAP_EXACT_FVU``); ``result`` itself when
    no constant gets shorter."""
    if not result.constants or not np.isfinite(result.fvu):
        return result
    f = compile_tokens(result.tokens)
    w = normalized_weights(w, y.shape[0])
    var_y = weighted_var(y, w)
    if not var_y > 0:
        return result
    allowed = max(result.fvu * (1.0 + DECIMAL_RTOL), result.fvu + SNAP_EXACT_FVU)
    constants, fvu = list(result.constants), result.fvu
    with np.errstate(all="ignore"):
        for i, value in enumerate(result.constants):
            for digits in range(1, 16):
                short = float(f"{value:.{digits}g}")
                if short == value:
                    break
                trial = constants[:i] + [short] + constants[i + 1:]
                trial_fvu = fvu_of(np.asarray(f(X, trial), dtype=np.float64), y, var_y, w)
                if trial_fvu <= allowed:
                    constants, fvu = trial, trial_fvu
                    break
    if constants == list(result.constants):
        return result
    return FitResult(result.tokens, constants, fvu, result.n_restarts)


def snap(result: FitResult, X: np.ndarray, y: np.ndarray, parsimony: float, simplify: Callable | None,
         config: FitConfig, rng: np.random.Generator, w: np.ndarray | None = None) -> FitResult:
    """The snapped, simplified and refitted form of ``result`` when it scores at least as well, else ``result``;
    either way with its constants at their shortest decimals (``shortest_decimals``)."""
    return shortest_decimals(_snapped(result, X, y, parsimony, simplify, config, rng, w), X, y, w)


def _snapped(result: FitResult, X: np.ndarray, y: np.ndarray, parsimony: float, simplify: Callable | None,
             config: FitConfig, rng: np.random.Generator, w: np.ndarray | None = None) -> FitResult:
    skeleton = snapped_skeleton(result.tokens, result.constants)
    if skeleton is None:
        return result
    if simplify is not None:
        skeleton = list(simplify(skeleton))
    try:
        refit = fit_constants(skeleton, X, y, config, rng, w=w)
    except ValueError:
        return result
    old = score(result.fvu, complexity(result.tokens), parsimony)
    new = score(refit.fvu, complexity(refit.tokens), parsimony)
    # Equal scores favour the snap only when it made the formula shorter (``C`` -> ``0`` alone reads worse).
    shorter = len(refit.tokens) < len(result.tokens)
    if shorter and refit.fvu <= SNAP_EXACT_FVU:
        return refit
    return refit if new < old or (new == old and shorter) else result
