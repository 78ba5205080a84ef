"""Ranking fitted candidates as Flash-ANSR does (Eq. 3): ``log10(max(FVU, floor)) + parsimony * length``, lower is
better, ties broken by the shorter expression.

Clamping FVU at a floor makes every fit exact to the data's precision equal, so among exact fits the shortest wins;
each extra token must cut FVU by a factor of ``10**-parsimony`` (about 11% at the default 0.05) to pay for itself.
Flash-ANSR's floor is float64 epsilon. On data stored in float32 (FastSRB's, most instruments') a fit exact to the
data's precision already has an FVU of ~1e-15 from rounding alone, and a longer formula can lower it a little by
fitting that rounding (``v1 v2 v3 / (v4 - 0.03 v2)`` for ``v1 v2 v3 / v4``): ``precision_floor`` raises the floor to
what the data's own rounding leaves, so such a form no longer outranks the law.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .defaults import PARSIMONY

FVU_FLOOR = float(np.finfo(np.float64).eps)
# The floor is this many times the FVU that rounding y alone leaves: the inputs are rounded too, and their rounding
# reaches y through the law (a square doubles it, a sine of a large argument multiplies it). Measured on the 115
# FastSRB datasets (float32): the true law's FVU is within 16x of y's rounding for 85 % of them (median 3.8x).
PRECISION_FACTOR = 16.0


def precision_floor(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """The FVU below which fits to ``y`` cannot be told apart. For ``y`` held exactly in float32 (stored so, or read
    from float32 into float64): ``PRECISION_FACTOR`` times the (weighted) variance of rounding to float32 (``s**2 /
    12`` for a value whose float32 spacing is ``s``) over the variance of ``y``. Never below float64 epsilon, which is
    the floor of float64 data, of whole numbers (counts are exact, not rounded) and of a constant ``y``."""
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0 or not np.all(np.isfinite(y)) or np.all(y == np.round(y)):
        return FVU_FLOOR
    with np.errstate(over="ignore"):
        narrow = y.astype(np.float32)
    if not np.array_equal(narrow.astype(np.float64), y):
        return FVU_FLOOR
    weights = None if w is None else np.asarray(w, dtype=np.float64)
    var_y = float(np.average(np.square(y - np.average(y, weights=weights)), weights=weights))
    rounding = float(np.average(np.square(np.spacing(np.abs(narrow)).astype(np.float64)) / 12.0, weights=weights))
    floor = PRECISION_FACTOR * rounding / var_y if var_y > 0 else FVU_FLOOR
    return max(FVU_FLOOR, floor) if math.isfinite(floor) else FVU_FLOOR


def score(fvu: float, complexity: int, parsimony: float = PARSIMONY, floor: float = FVU_FLOOR) -> float:
    """Flash-ANSR's score of one candidate; ``inf`` when its FVU is not finite (NaN, overflow)."""
    if not math.isfinite(fvu):
        return math.inf
    return math.log10(max(fvu, floor)) + parsimony * complexity


def complexity(tokens: Sequence[str]) -> int:
    """Length of the prefix skeleton: operators, variables, literals and ``<constant>`` placeholders count one each."""
    return len(tokens)


def rank_order(fvus: Iterable[float], complexities: Iterable[int], parsimony: float = PARSIMONY,
               floor: float = FVU_FLOOR) -> list[int]:
    """Indices of the candidates, best first: by score, then by length, then by input order (stable)."""
    keys = [(score(f, c, parsimony, floor), c) for f, c in zip(fvus, complexities)]
    return sorted(range(len(keys)), key=lambda i: keys[i])


@dataclass(frozen=True)
class Ranking:
    """How one search ranks its candidates: the parsimony and the FVU floor of its data (``precision_floor``)."""

    parsimony: float = PARSIMONY
    floor: float = FVU_FLOOR

    def score(self, fvu: float, length: int) -> float:
        return score(fvu, length, self.parsimony, self.floor)

    def of(self, result) -> float:
        """The score of a fit (anything with ``fvu`` and ``tokens``)."""
        return self.score(result.fvu, complexity(result.tokens))

    def order(self, results: Sequence) -> list[int]:
        """``rank_order`` of fits (anything with ``fvu`` and ``tokens``)."""
        return rank_order([r.fvu for r in results], [complexity(r.tokens) for r in results], self.parsimony,
                          self.floor)

    def longest_that_can_win(self, best_score: float) -> float:
        """Length beyond which not even a fit at the floor beats ``best_score``."""
        if self.parsimony <= 0 or not math.isfinite(best_score):
            return math.inf
        return (best_score - math.log10(self.floor)) / self.parsimony
