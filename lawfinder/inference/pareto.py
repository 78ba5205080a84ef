"""The Pareto front of fitted equations (complexity against FVU), PySR's score along it, model selection, and the
equations table users read (a pandas DataFrame when pandas is installed).

Pure functions over plain lists of ``Equation``; ``Regressor`` calls them. FVU is floored at float64 epsilon as in
``ranking`` so that fits exact to float precision tie and the shortest of them is the one on the front.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .defaults import MODEL_SELECTIONS
from .equation import LATEX_PRECISION, Equation
from .ranking import FVU_FLOOR

TABLE_COLUMNS = ("complexity", "loss", "score", "objective", "pareto", "equation", "sympy", "latex", "underdetermined",
                 "raw")


def _loss(equation: Equation) -> float:
    return max(equation.fvu, FVU_FLOOR)


def pareto_mask(equations: Sequence[Equation]) -> np.ndarray:
    """True for equations no other one beats: none is at most as complex with a lower FVU. Among equal (complexity,
    FVU) pairs the first in the list (the better ranked) is the one on the front."""
    order = sorted(range(len(equations)), key=lambda i: (equations[i].complexity, _loss(equations[i]), i))
    mask = np.zeros(len(equations), dtype=bool)
    best = math.inf
    for i in order:
        if _loss(equations[i]) < best:
            mask[i] = True
            best = _loss(equations[i])
    return mask


def pareto_scores(equations: Sequence[Equation], mask: np.ndarray) -> np.ndarray:
    """PySR's score, higher is better: ``-d log(FVU) / d complexity`` from the previous equation on the front (0 for
    the simplest); NaN off the front."""
    scores = np.full(len(equations), np.nan)
    front = sorted(np.flatnonzero(mask), key=lambda i: equations[i].complexity)
    for previous, i in zip([None, *front[:-1]], front):
        if previous is None:
            scores[i] = 0.0
        else:
            scores[i] = -(math.log(_loss(equations[i])) - math.log(_loss(equations[previous]))) / (
                equations[i].complexity - equations[previous].complexity)
    return scores


def check_model_selection(model_selection: Any) -> str:
    if model_selection not in MODEL_SELECTIONS:
        raise ValueError(f"model_selection must be one of {list(MODEL_SELECTIONS)}, got {model_selection!r}")
    return model_selection


def select(equations: Sequence[Equation], model_selection: str) -> int:
    """Index of the chosen equation in ``equations`` (ranked by objective, best first):

    ``best``      the lowest objective ``log10(FVU) + parsimony * complexity`` (Flash-ANSR's ranking): the first
    ``accuracy``  the lowest FVU, the shorter (then better ranked) one on ties
    ``score``     the highest PySR score on the Pareto front: the largest drop in log FVU per token
    """
    check_model_selection(model_selection)
    if model_selection == "best":
        return 0
    if model_selection == "accuracy":
        return min(range(len(equations)), key=lambda i: (_loss(equations[i]), equations[i].complexity, i))
    scores = pareto_scores(equations, pareto_mask(equations))
    return int(np.nanargmax(scores))


def table_rows(equations: Sequence[Equation], precision: int = LATEX_PRECISION) -> list[dict[str, Any]]:
    """One dict per equation, in the ``equations`` order, with the ``TABLE_COLUMNS``."""
    mask = pareto_mask(equations)
    scores = pareto_scores(equations, mask)
    return [{"complexity": e.complexity, "loss": e.fvu, "score": float(s), "objective": e.objective,
             "pareto": bool(m), "equation": e.expression, "sympy": e.sympy(), "latex": e.latex(precision),
             "underdetermined": e.underdetermined, "raw": e.raw_expression}
            for e, m, s in zip(equations, mask, scores)]


def equations_table(equations: Sequence[Equation]):
    """A pandas DataFrame of ``table_rows`` (index = position in ``equations``), or the list of rows without pandas."""
    rows = table_rows(equations)
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def front_text(equations: Sequence[Equation], chosen: int, width: int = 60) -> str:
    """The Pareto front, simplest first, with the chosen equation marked ``>>>>`` (PySR's repr)."""
    mask = pareto_mask(equations)
    scores = pareto_scores(equations, mask)
    front = sorted(np.flatnonzero(mask), key=lambda i: equations[i].complexity)
    lines = [f"{'pick':>4}  {'index':>5}  {'complexity':>10}  {'loss':>9}  {'score':>7}  equation"]
    for i in front:
        e = equations[i]
        text = e.expression if len(e.expression) <= width else e.expression[: width - 3] + "..."
        lines.append(f"{'>>>>' if i == chosen else '':>4}  {i:>5}  {e.complexity:>10}  {e.fvu:>9.3g}  "
                     f"{scores[i]:>7.3f}  {text}")
    return "\n".join(lines)


def latex_table(equations: Sequence[Equation], precision: int = LATEX_PRECISION) -> str:
    """The Pareto front as a LaTeX ``longtable`` (equation, complexity, FVU), simplest first, as PySR's."""
    mask = pareto_mask(equations)
    front = sorted(np.flatnonzero(mask), key=lambda i: equations[i].complexity)
    lines = [r"\begin{longtable}{@{}lcc@{}}", r"\toprule", r"Equation & Complexity & FVU \\", r"\midrule",
             r"\endhead"]
    for i in front:
        e = equations[i]
        lines.append(f"$y = {e.latex(precision)}$ & ${e.complexity}$ & ${_latex_number(e.fvu, precision)}$ \\\\")
    lines += [r"\bottomrule", r"\end{longtable}"]
    return "\n".join(lines)


def _latex_number(value: float, precision: int) -> str:
    mantissa, _, exponent = f"{value:.{precision}g}".partition("e")
    return mantissa if not exponent else f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
