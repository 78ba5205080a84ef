"""Power laws read off a log-log fit: ``y = C * x1^a1 * ... * xd^ad`` with whole or half exponents.

Many laws of physics are products of powers (``F = G m1 m2 / r^2``), and a least-squares line through
``log|y|`` against the ``log|xj|`` finds their exponents at any scale of the values, where a model trained on values
of order one may not read them (a Boltzmann constant times a temperature). The exponents are rounded to whole numbers
and, as a second guess, to halves; each guess becomes a skeleton with one free constant that goes through the same
simplify -> fit -> rank path as every other candidate, so a wrong guess simply ranks low. Pure numpy, no model.
"""

from __future__ import annotations

import numpy as np

MAX_EXPONENT = 5          # |exponent| beyond this: no skeleton (the vocabulary's largest power is pow5)
DENOMINATORS = (1, 2)     # whole exponents, then halves

# x^e for e > 0 as unary operators applied to x (innermost last): the vocabulary's powers and square root.
_POSITIVE = {1.0: (), 2.0: ("pow2",), 3.0: ("pow3",), 4.0: ("pow4",), 5.0: ("pow5",), 0.5: ("pow1_2",),
             1.5: ("pow1_2", "pow3"), 2.5: ("pow1_2", "pow5")}


def exponents(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The least-squares exponents of ``log|y| = b + sum_j a_j log|x_j|`` over the rows where every value has a
    logarithm (a row with a 0, e.g. y = 0 where an integer x is 0, is left out); None when fewer than half the rows,
    or no more rows than unknowns, are left."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.abs(np.column_stack([X, y])))
    logs = logs[np.all(np.isfinite(logs), axis=1)]
    if 2 * logs.shape[0] < X.shape[0] or logs.shape[0] <= X.shape[1] + 1:
        return None
    design = np.column_stack([np.ones(logs.shape[0]), logs[:, :-1]])
    solution, *_ = np.linalg.lstsq(design, logs[:, -1], rcond=None)
    return solution[1:]


def factor(variable: str, exponent: float) -> list[str] | None:
    """Prefix tokens of ``variable ** exponent`` (a nonzero whole exponent up to 5 in size, or a half up to 5/2),
    else None."""
    ops = _POSITIVE.get(abs(exponent))
    if ops is None:
        return None
    tokens = [*ops, variable]
    return ["inv", *tokens] if exponent < 0 else tokens


def skeleton(exps: np.ndarray) -> list[str] | None:
    """``C * prod_j x_j^e_j`` in prefix tokens (zero exponents left out), or None when a power has no spelling."""
    factors = []
    for j, e in enumerate(exps):
        if e == 0:
            continue
        f = factor(f"x{j + 1}", float(e))
        if f is None:
            return None
        factors.append(f)
    tokens = ["<constant>"]
    for f in reversed(factors):
        tokens = ["*", *f, *tokens]
    return tokens


def power_laws(X: np.ndarray, y: np.ndarray) -> list[list[str]]:
    """The skeletons of the power laws the log-log fit suggests: exponents rounded to whole numbers, then to halves
    (each kept once, none beyond ``MAX_EXPONENT`` or all zero); [] when the data admit no logarithm."""
    exps = exponents(X, y)
    if exps is None:
        return []
    out: list[list[str]] = []
    for q in DENOMINATORS:
        rounded = np.round(exps * q) / q
        if np.all(rounded == 0) or np.any(np.abs(rounded) > MAX_EXPONENT):
            continue
        tokens = skeleton(rounded)
        if tokens is not None and tokens not in out:
            out.append(tokens)
    return out
