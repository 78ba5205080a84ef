"""Never a wrong answer without a warning: when a fit counts as a law found, and when the data deserve a warning.

A formula with FVU >= 1 (R^2 <= 0 on the data) explains no more than the mean of y does: it is not a law, however it
ranks among the candidates, so ``Regressor.found_`` is False and ``lawfinder fit`` says so with a non-zero exit code.
Nor is a formula fitted on no more rows than it has constants (underdetermined): it fits exactly whatever the law.
Values spanning many decades fit (the fitting works relative to y's spread), but a least-squares fit is then
dominated by the largest values; the user is told which columns do.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

FOUND_MAX_FVU = 1.0   # FVU at or above this (R^2 <= 0) is no law
SPAN_DECADES = 8.0    # columns whose nonzero magnitudes span more decades than this are named in a warning


def law_found(fvu: float) -> bool:
    """Whether a best fit with this FVU counts as a law found (finite and better than the mean)."""
    return math.isfinite(fvu) and fvu < FOUND_MAX_FVU


def not_found_message(expression: str, fvu: float) -> str:
    return (f"no law found: the best candidate, {expression}, explains no more of y than its mean does "
            f"(FVU {fvu:.3g} >= {FOUND_MAX_FVU:g}, R^2 {1.0 - fvu:.3g}); sample more, give more time, or check the "
            f"inputs")


def underdetermined_message(expression: str, rows: int, constants: int) -> str:
    return (f"underdetermined: {expression} has {constants} fitted constant(s) for {rows} row(s), and with no more "
            f"rows than constants nearly any formula fits exactly; it is not a law found: give at least "
            f"{constants + 1} rows (many more to tell formulas apart)")


def decades(values: np.ndarray) -> float:
    """Decades spanned by the bulk (1st to 99th percentile) of the nonzero magnitudes of ``values``: a column that
    crosses zero has a few tiny values, which say nothing about its range (0 when fewer than two are nonzero)."""
    magnitudes = np.abs(values[values != 0])
    if magnitudes.size < 2:
        return 0.0
    low, high = np.percentile(magnitudes, [1, 99])
    return float(np.log10(high / low)) if low > 0 else math.inf


def span_warning(X: np.ndarray, y: np.ndarray, names: Sequence[str], target: str = "y") -> str | None:
    """A one-line warning naming the columns whose values span more than ``SPAN_DECADES`` decades, or None."""
    wide = [(n, decades(X[:, j])) for j, n in enumerate(names)] + [(target, decades(y))]
    wide = [(n, d) for n, d in wide if d > SPAN_DECADES]
    if not wide:
        return None
    listed = ", ".join(f"{n} ({d:.0f} decades)" for n, d in wide)
    return (f"values span many decades in {listed}: least squares is dominated by the largest values, so the small "
            f"ones may fit poorly; consider a log transform or fitting ranges apart")
