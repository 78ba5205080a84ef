"""Ranking fitted candidates as Flash-ANSR does (Eq. 3): ``log10(max(FVU, eps)) + parsimony * length``, lower is
better, ties broken by the shorter expression.

Clamping FVU at float64 epsilon makes every fit exact to float precision equal, so among exact fits the shortest
wins; each extra token must cut FVU by a factor of ``10**-parsimony`` (about 11% at the default 0.05) to pay for itself.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from .defaults import PARSIMONY

FVU_FLOOR = float(np.finfo(np.float64).eps)


def score(fvu: float, complexity: int, parsimony: float = PARSIMONY) -> float:
    """Flash-ANSR's score of one candidate; ``inf`` when its FVU is not finite (NaN, overflow)."""
    if not math.isfinite(fvu):
        return math.inf
    return math.log10(max(fvu, FVU_FLOOR)) + parsimony * complexity


def complexity(tokens: Sequence[str]) -> int:
    """Length of the prefix skeleton: operators, variables, literals and ``<constant>`` placeholders count one each."""
    return len(tokens)


def rank_order(fvus: Iterable[float], complexities: Iterable[int], parsimony: float = PARSIMONY) -> list[int]:
    """Indices of the candidates, best first: by score, then by length, then by input order (stable)."""
    keys = [(score(f, c, parsimony), c) for f, c in zip(fvus, complexities)]
    return sorted(range(len(keys)), key=lambda i: keys[i])
