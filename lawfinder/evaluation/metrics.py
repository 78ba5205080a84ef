"""Per-dataset scores of one prediction, as Flash-ANSR defines them: FVU and numeric recovery (FVU <= float32
epsilon) on the fit and validation splits, R^2 accuracy, symbolic recovery of the simplified skeleton, and the length
ratio of simplified skeletons. Pure functions over numpy arrays and token lists.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from ..simplipy import CONSTANT
from ..inference.candidates import free_scalings
from ..simplipy.tokens import from_tree, is_number, is_variable, to_tree

# A fit counts as numerically perfect at the float32 machine epsilon, 2**-23 = 1.1920929e-7 (Flash-ANSR's
# ``is_perfect_fit``), judged separately on the fit split (fNRR) and the validation split (vNRR).
FVU_THRESHOLD = float(np.finfo(np.float32).eps)
R2_THRESHOLD = 0.99


def fvu(y_true, y_pred) -> float:
    """Fraction of variance unexplained, mean((y - y_hat)^2) / var(y) with the population variance.

    Computed in float64 after dividing both by max|y| so that targets near 1e-40 or 1e30 neither underflow nor
    overflow when squared (the ratio is scale-free). A non-finite prediction scores ``inf``; constant targets score
    0 when matched exactly, else ``inf``.
    """
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64)
    p = np.broadcast_to(p, t.shape) if p.size == 1 else p.ravel()
    if p.shape != t.shape:
        raise ValueError(f"prediction has {p.size} values for {t.size} targets")
    if t.size == 0:
        raise ValueError("cannot score an empty split")
    if not np.all(np.isfinite(t)):
        raise ValueError("targets must be finite")
    if not np.all(np.isfinite(p)):
        return math.inf
    scale = float(np.max(np.abs(t)))
    if scale == 0.0:
        scale = 1.0
    with np.errstate(all="ignore"):
        tt, pp = t / scale, p / scale
        ss_res = float(np.mean((tt - pp) ** 2))
        ss_tot = float(np.mean((tt - np.mean(tt)) ** 2))
    if not math.isfinite(ss_res):
        return math.inf
    if ss_tot == 0.0:
        return 0.0 if ss_res == 0.0 else math.inf
    return ss_res / ss_tot


def recovered(fvu_value: float, threshold: float = FVU_THRESHOLD) -> bool:
    """Numeric recovery: FVU at or below the float32 machine epsilon."""
    return bool(fvu_value <= threshold)


def r2(fvu_value: float) -> float:
    return 1.0 - fvu_value


def accurate(fvu_value: float, threshold: float = R2_THRESHOLD) -> bool:
    """SRBench-style accuracy solution: R^2 above ``threshold``."""
    return bool(r2(fvu_value) > threshold)


# ------------------------------------------------------------------------------------------------------- skeletons
def _fold_constants(node: tuple) -> tuple:
    """Every subtree without a variable becomes one ``<constant>`` (numbers are free parameters up to fitting)."""
    if len(node) == 1:
        return node if is_variable(node[0]) else (CONSTANT,)
    children = tuple(_fold_constants(c) for c in node[1:])
    if all(c == (CONSTANT,) for c in children):
        return (CONSTANT,)
    return (node[0], *children)


def skeleton(tokens: Sequence[str], simplify: Callable[[list[str]], list[str]] | None = None) -> list[str]:
    """Tokens with every number masked to ``<constant>`` and constant subtrees folded; then, when a simplifier is
    given, simplified and folded again (the simplifier may merge constants or emit literals)."""
    # multK/divK are a fixed integer factor, a constant like any other (the snapping of fitted constants writes them).
    tokens = free_scalings(tokens)
    folded = from_tree(_fold_constants(to_tree([CONSTANT if is_number(t) else t for t in tokens])))
    if simplify is None:
        return folded
    simplified = free_scalings(simplify(folded))
    return from_tree(_fold_constants(to_tree([CONSTANT if is_number(t) else t for t in simplified])))


def length_ratio(predicted: Sequence[str], truth: Sequence[str],
                 simplify: Callable[[list[str]], list[str]] | None = None) -> float:
    """len(predicted skeleton) / len(ground-truth skeleton), both simplified the same way."""
    return len(skeleton(predicted, simplify)) / len(skeleton(truth, simplify))


def symbolic_match(predicted: Sequence[str], truth: Sequence[str],
                   simplify: Callable[[list[str]], list[str]] | None = None) -> bool:
    """Symbolic recovery: equal skeletons after masking constants and simplifying. Variables are matched by column
    (the truth's ``vK`` is column ``xK``), which is the renaming between the benchmark's names and the data's."""
    return skeleton(predicted, simplify) == skeleton(truth, simplify)


def load_simplifier() -> Callable[[list[str]], list[str]] | None:
    """``lawfinder.simplipy.simplify`` when the rule engine is installed, else ``None`` (skeletons then compare
    after constant folding only; results record which was used)."""
    try:
        from ..simplipy.simplify import simplify  # noqa: PLC0415 - optional until the rule engine lands
    except ImportError:
        return None
    return simplify
