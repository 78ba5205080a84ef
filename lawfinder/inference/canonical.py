"""The simplest form of each answer: the few formulas a user sees, rewritten by SymPy and kept when shorter.

The rule-based simplifier stays fast for training; the Pareto front of one fit is a dozen formulas and can afford
SymPy. Each front formula (constants written in) first has every part that reads a variable but is constant on the
rows replaced by its value (``sin(1e+28 - I)``: the argument rounds to 1e+28 on every row), then through SymPy's
``expand`` (not factor, cancel or together: they expand fully inside and took minutes on a FastSRB fit); a rewrite
replaces it only when it has fewer tokens **and** gives the same values on the user's rows (relative 1e-9,
non-finite where the original is), so an answer never changes, only its spelling: ``Q*(O - 1) + Q`` becomes ``O*Q``. Numbers that are not integers become fitted constants
again (``<constant>``), integers stay literals. The chosen answer goes first, then the front simplest first; the pass
stops at the fit's deadline (``SECONDS`` when the fit has none), and formulas it did not reach keep their form.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np

from ..simplipy import CONSTANT, compile as compile_tokens, from_sympy, to_sympy
from ..simplipy.tokens import is_number, number_value
from .fitting import FitResult, substitute
from .ranking import Ranking, complexity

# SymPy cannot be stopped mid-call, so the pass only takes formulas whose rewrite stays small: at most this many tokens,
# expand alone (factor, cancel and together expand fully inside: a FastSRB fit spent minutes in factor), and expand
# never multiplies out powers of sums ((a + b)**40 would take minutes: seen in a FastSRB fit).
MAX_TOKENS = 24
CHECK_ROWS = 512       # rows the rewrite is checked on (a fixed subsample of larger tables)
SECONDS = 1.0          # the pass's time when the fit has no time budget (SymPy takes ~0.02-0.15 s a formula)
RTOL = 1e-9


def _as_skeleton(tokens: Sequence[str]) -> tuple[list[str], list[float]]:
    """Literal tokens -> a skeleton whose non-integer numbers are ``<constant>`` placeholders, and their values."""
    skeleton, constants = [], []
    for token in tokens:
        if is_number(token) and not float(number_value(token)).is_integer():
            skeleton.append(CONSTANT)
            constants.append(float(number_value(token)))
        else:
            skeleton.append(token)
    return skeleton, constants


def _values(skeleton: Sequence[str], constants: Sequence[float], X: np.ndarray) -> np.ndarray | None:
    try:
        with np.errstate(all="ignore"):
            return np.asarray(compile_tokens(list(skeleton))(X, list(constants)), dtype=np.float64)
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        return None


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two formulas' values agree on every row: equal where finite (relative ``RTOL``), non-finite alike."""
    finite = np.isfinite(a)
    if a.shape != b.shape or not np.array_equal(finite, np.isfinite(b)):
        return False
    scale = float(np.max(np.abs(a[finite]), initial=0.0))
    return bool(np.allclose(a[finite], b[finite], rtol=RTOL, atol=RTOL * scale))


def _spans(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every subtree of a prefix token list, outermost first."""
    from ..simplipy.operators import OPERATORS

    ends = [0] * len(tokens)
    stack: list[int] = []  # ends of the subtrees read so far, right to left
    for i in range(len(tokens) - 1, -1, -1):
        op = OPERATORS.get(tokens[i])
        end = i + 1
        for _ in range(op.arity if op else 0):
            end = stack.pop()
        ends[i] = end
        stack.append(end)
    return [(i, ends[i]) for i in range(len(tokens))]


def fold_constant_parts(tokens: list[str], X: np.ndarray) -> list[str]:
    """Literal tokens with every subtree that reads a variable but is constant on ``X`` (``sin(1e+28 - I)``, whose
    argument rounds to 1e+28 on every row) replaced by its value."""
    from ..simplipy.tokens import format_number, is_variable

    out, i = [], 0
    spans = dict(_spans(tokens))
    while i < len(tokens):
        end = spans[i]
        if end - i > 1 and any(is_variable(t) for t in tokens[i:end]):
            values = _values(tokens[i:end], [], X)
            if values is not None and values.size and np.isfinite(values).all() and \
                    np.ptp(values) <= RTOL * max(abs(float(values[0])), 1e-300):
                out.append(format_number(float(values[0])))
                i = end
                continue
        out.append(tokens[i])
        i += 1
    return out


def shortest_form(result: FitResult, X: np.ndarray, accept=None) -> FitResult | None:
    """``result`` in a shorter form that gives the same values on ``X`` (and that ``accept`` takes, when given), or
    None when no rewrite is shorter."""
    import sympy as sp

    raw = _values(result.tokens, result.constants, X)
    if raw is None:
        return None
    best = None
    folded = fold_constant_parts(substitute(result.tokens, result.constants), X)
    skeleton, constants = _as_skeleton(folded)
    if len(skeleton) < len(result.tokens) and (accept is None or accept(skeleton)):
        values = _values(skeleton, constants, X)
        if values is not None and same_values(raw, values):
            best = FitResult(skeleton, constants, result.fvu, result.n_restarts)
    try:
        expr = to_sympy(folded)
    except (ValueError, TypeError, RecursionError):
        return best
    if len(result.tokens) > MAX_TOKENS:
        return best
    try:
        tokens = from_sympy(sp.expand(expr, multinomial=False, power_exp=False))
    except Exception:  # noqa: BLE001 - a rewrite that fails or yields an unknown function is just not taken
        return best
    skeleton, constants = _as_skeleton(tokens)
    longest = len(best.tokens if best else result.tokens)
    if len(skeleton) >= longest or (accept is not None and not accept(skeleton)):
        return best
    values = _values(skeleton, constants, X)
    if values is not None and same_values(raw, values):
        best = FitResult(skeleton, constants, result.fvu, result.n_restarts)
    return best


def canonical_forms(results: list[FitResult], chosen: Sequence[int], X: np.ndarray,
                    deadline: float | None = None, accept=None) -> tuple[list[FitResult], dict[int, FitResult]]:
    """``results`` with each index of ``chosen`` in its shortest verified form, and {index: its raw result} for the
    ones that changed. Stops at ``deadline`` (a ``time.time()`` value)."""
    rows = X if X.shape[0] <= CHECK_ROWS else X[np.linspace(0, X.shape[0] - 1, CHECK_ROWS).astype(int)]
    out, raws = list(results), {}
    for i in chosen:
        if deadline is not None and time.time() >= deadline:
            break
        if not math.isfinite(results[i].fvu):
            continue
        shorter = shortest_form(results[i], rows, accept)
        if shorter is not None:
            out[i], raws[i] = shorter, results[i]
    return out, raws


def shown_indices(results: Sequence[FitResult], ranking: Ranking) -> list[int]:
    """The results a user sees first, in the order the pass takes them: the best by ``ranking``, then the rest of the
    Pareto front (complexity vs FVU), simplest first."""
    from types import SimpleNamespace

    from .pareto import pareto_mask

    mask = pareto_mask([SimpleNamespace(complexity=complexity(r.tokens), fvu=r.fvu) for r in results])
    order = ranking.order(results)
    front = sorted((i for i in np.flatnonzero(mask).tolist() if i not in order[:1]),
                   key=lambda i: complexity(results[i].tokens))
    return [*order[:1], *front]
