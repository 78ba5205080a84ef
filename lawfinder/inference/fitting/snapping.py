"""Snapping fitted constants to the simple values they stand for: ``1.0000000002 * (I * R)`` becomes ``I * R``, and
on noisy data ``0.4993 * m * v**2`` becomes ``0.5 * m * v**2`` and ``6.2797 * r`` becomes ``2 * pi * r``; then writing
every remaining constant with the fewest significant digits that keep its fit (``9.810000000000004`` prints as
``9.81``).

LM returns a constant as a float even when the law holds an exact number. After ranking, each of the best few
equations tries its constants one at a time as the simple values near them (``snap_options``: integers, halves,
thirds, quarters, and those times or over pi, simplest first, within ``SNAP_WINDOW``), simplifies, refits whatever
constants remain, and keeps the snapped form when ``keeps_fit`` says the data cannot tell it from the fitted one:

- it scores better (Flash-ANSR's log10 FVU + parsimony · length), or equal and shorter, or is shorter and exact; or
- it removed constants and its FVU grew by no more than the Bayesian information criterion allows for them
  (``n ln(FVU_new / FVU_old) <= removed · ln n``): on noisy data a constant's last digits are noise, and fixing it at
  the value it stands for costs less than a free parameter is worth. On clean data a fit is exact to rounding, any
  wrong value multiplies the FVU by orders of magnitude, and the criterion refuses it.

A snap that costs accuracy the data can see is refused.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np

from ...simplipy import CONSTANT
from ...simplipy.tokens import format_number
from ...simplipy import compile as compile_tokens
from .constants import FitConfig, FitResult, fit_constants, fvu_of, normalized_weights, weighted_var
from ..ranking import Ranking

# A constant within this relative distance (of max(1, |value|)) of a simple value is tried as that value; whether the
# snap is kept is for keeps_fit to say, so the window only bounds the work.
SNAP_WINDOW = 0.01
DENOMINATORS = (1, 2, 3, 4)  # simple values: n/q for these q, alone, times pi, or over pi ...
MAX_NUMERATOR = 16           # ... with |n| at most this, except plain integers (up to SNAP_MAX)
# Beyond this every float is near an integer (1e14 "is" 100000000000000): not a snap, only noise.
SNAP_MAX = 1e4
# A snapped form this exact is as good as any: on float32 data FVUs below it are rounding noise, not accuracy.
SNAP_EXACT_FVU = 1e-14
# A trial is refitted only when fixing the constant, the others unchanged, raises the FVU by at most this many times
# the criterion's allowance: a cheap look that spares refits of hopeless snaps.
PRECHECK_SLACK = 20.0
SNAP_TRIALS = 8  # refits one formula may spend on snapping
# A shorter decimal may raise the FVU by this relative share (or up to SNAP_EXACT_FVU): far below any difference
# between candidates, so only digits that carry no information are dropped.
DECIMAL_RTOL = 1e-9


def snap_options(value: float, window: float = SNAP_WINDOW, zero: bool = True) -> list[tuple[float, list[str]]]:
    """The simple values within ``window`` of ``value`` (relative to ``max(1, |value|)``), simplest first, each with
    the tokens that write it: ``(2.0, ["2"])``, ``(0.5, ["0.5"])``, ``(2 pi, ["*", "2", "pi"])``,
    ``(1/(4 pi), ["/", "0.25", "pi"])``. ``zero=False`` leaves 0 out (a term snapped to 0 is gone only when a
    simplifier then drops it; unsimplified, ``x + 0`` reads worse than ``x + C``)."""
    if not math.isfinite(value) or abs(value) > SNAP_MAX:
        return []
    tolerance = window * max(1.0, abs(value))
    options: list[tuple[float, list[str]]] = []
    seen: set[float] = set()
    for factor, write in ((1.0, lambda m: [format_number(m)]),
                          (math.pi, lambda m: ["pi"] if m == 1 else ["*", format_number(m), "pi"]),
                          (1 / math.pi, lambda m: ["/", format_number(m), "pi"])):
        for q in DENOMINATORS:
            m = round(value / factor * q) / q
            target = m * factor
            plain_integer = factor == 1.0 and q == 1
            if (m == 0 and (factor != 1.0 or not zero)) or abs(target - value) > tolerance or target in seen \
                    or (not plain_integer and abs(m * q) > MAX_NUMERATOR):
                continue
            seen.add(target)
            options.append((target, write(m)))
    return options


def with_value(tokens: Sequence[str], index: int, written: Sequence[str]) -> list[str]:
    """``tokens`` with its ``index``-th ``<constant>`` (0-based, in order of appearance) replaced by ``written``."""
    out, seen = [], -1
    for token in tokens:
        seen += token == CONSTANT
        out.extend(written if token == CONSTANT and seen == index else [token])
    return out


def effective_rows(n: int, w: np.ndarray | None) -> float:
    """How many rows the data are worth: ``n``, or Kish's ``(sum w)^2 / sum w^2`` with weights."""
    if w is None:
        return float(n)
    w = np.asarray(w, dtype=np.float64)
    return float(np.sum(w) ** 2 / np.sum(w * w))


def allowance(removed: int, n: float) -> float:
    """The factor by which the FVU may grow when ``removed`` constants are fixed, by the Bayesian information
    criterion: ``exp(removed ln n / n)``."""
    return math.exp(removed * math.log(n) / n) if removed > 0 and n > 1 else 1.0


def keeps_fit(old: FitResult, new: FitResult, ranking: Ranking, n: float) -> bool:
    """Whether ``new`` (a snapped form of ``old``) is to be kept: see the module docstring."""
    if not math.isfinite(new.fvu):
        return False
    shorter = len(new.tokens) < len(old.tokens)
    if shorter and new.fvu <= SNAP_EXACT_FVU:
        return True
    old_score, new_score = ranking.of(old), ranking.of(new)
    # Equal scores favour the snap only when it made the formula shorter (``C`` -> ``0`` alone reads worse).
    if new_score < old_score or (new_score == old_score and shorter):
        return True
    removed = len(old.constants) - len(new.constants)
    return removed > 0 and new.fvu <= old.fvu * allowance(removed, n)


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


def snap(result: FitResult, X: np.ndarray, y: np.ndarray, ranking: Ranking, simplify: Callable | None,
         config: FitConfig, rng: np.random.Generator, w: np.ndarray | None = None,
         deadline: float | None = None) -> FitResult:
    """The snapped, simplified and refitted form of ``result`` that ``keeps_fit``, else ``result``; either way with its
    constants at their shortest decimals (``shortest_decimals``). No refit starts after ``deadline`` (a
    ``time.time()`` value)."""
    return shortest_decimals(_snapped(result, X, y, ranking, simplify, config, rng, w, deadline), X, y, w)


def _snapped(result: FitResult, X: np.ndarray, y: np.ndarray, ranking: Ranking, simplify: Callable | None,
             config: FitConfig, rng: np.random.Generator, w: np.ndarray | None = None,
             deadline: float | None = None) -> FitResult:
    """Greedy: the first constant with a kept snap is snapped, and the search starts again on the new form (whose
    constants simplification may have merged or reordered), until no constant snaps, the trials are spent or the
    deadline has passed."""
    # With no more rows than constants any values fit: they stand for nothing, and snapping one would only pick a
    # formula out of a continuum (the Regressor flags such a fit as underdetermined instead).
    if not result.constants or not math.isfinite(result.fvu) or y.shape[0] <= len(result.constants):
        return result
    n = effective_rows(y.shape[0], w)
    w_norm = normalized_weights(w, y.shape[0])
    var_y = weighted_var(y, w_norm)
    if not var_y > 0:
        return result
    current, trials = result, 0
    while current.constants and trials < SNAP_TRIALS:
        found = None
        f = compile_tokens(current.tokens)
        for i, value in enumerate(current.constants):
            for target, written in snap_options(value, zero=simplify is not None):
                fixed = list(current.constants)
                fixed[i] = target
                with np.errstate(all="ignore"):
                    look = fvu_of(np.asarray(f(X, fixed), dtype=np.float64), y, var_y, w_norm)
                if not look <= max(SNAP_EXACT_FVU, current.fvu * allowance(1, n) ** PRECHECK_SLACK):
                    continue
                if deadline is not None and time.time() > deadline:
                    return current
                trials += 1
                skeleton = with_value(current.tokens, i, written)
                if simplify is not None:
                    skeleton = list(simplify(skeleton))
                try:
                    refit = fit_constants(skeleton, X, y, config, rng, w=w)
                except ValueError:
                    refit = None
                if refit is not None and keeps_fit(current, refit, ranking, n):
                    found = refit
                    break
                if trials >= SNAP_TRIALS:
                    break
            if found is not None or trials >= SNAP_TRIALS:
                break
        if found is None:
            break
        current = found
    return current
