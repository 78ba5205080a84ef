"""Power laws read off a log-log fit: ``y = C * x1^a1 * ... * xd^ad`` with whole or half exponents.

Many laws of physics are products of powers (``F = G m1 m2 / r^2``), and a least-squares line through
``log|y|`` against the ``log|xj|`` finds their exponents at any scale of the values, where a model trained on values
of order one may not read them (a Boltzmann constant times a temperature). The exponents are rounded to whole numbers
and, as a second guess, to halves; each guess becomes a skeleton with one free constant that goes through the same
simplify -> fit -> rank path as every other candidate, so a wrong guess simply ranks low. Pure numpy, no model.
"""

from __future__ import annotations

import numpy as np

STRAIGHT = 0.01          # a column whose square and cube of its log explain less of the log-log residual is a power
ROUND = 0.1              # ... when its exponent also lies this close to a whole or half number
EXACT = 1e-12            # a log-log fit leaving less of the variance of log|y| is a power law already
MAX_EXPONENT = 5          # |exponent| beyond this: no skeleton (the vocabulary's largest power is pow5)
DENOMINATORS = (1, 2)     # whole exponents, then halves

# x^e for e > 0 as unary operators applied to x (innermost last): the vocabulary's powers and square root.
_POSITIVE = {1.0: (), 2.0: ("pow2",), 3.0: ("pow3",), 4.0: ("pow4",), 5.0: ("pow5",), 0.5: ("pow1_2",),
             1.5: ("pow1_2", "pow3"), 2.5: ("pow1_2", "pow5")}


def log_rows(X: np.ndarray, y: np.ndarray, unknowns: int) -> np.ndarray | None:
    """``log|[X, y]|`` over the rows where every value has a logarithm (a row with a 0, e.g. y = 0 where an integer x
    is 0, is left out); None when fewer than half the rows, or no more rows than ``unknowns``, are left."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.abs(np.column_stack([X, y])))
    logs = logs[np.all(np.isfinite(logs), axis=1)]
    return None if 2 * logs.shape[0] < X.shape[0] or logs.shape[0] <= unknowns else logs


def exponents(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The least-squares exponents of ``log|y| = b + sum_j a_j log|x_j|`` over the rows ``log_rows`` keeps; None
    when it keeps too few."""
    logs = log_rows(X, y, X.shape[1] + 1)
    if logs is None:
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


def power_factor(X: np.ndarray, y: np.ndarray, keep: int) -> tuple[tuple[int, ...], np.ndarray] | None:
    """For a table wider than a search can read: the columns to factor out as a power law, ``y = prod_j x_j^e_j *
    f(the other keep columns)``, and their exponents (the log-log fit's, rounded to halves); None when the fit
    cannot say.

    A column that enters the law as a power leaves ``log|y|`` linear in ``log|x_j|`` whatever the other columns do
    (they are drawn independently); one inside a sine or a sum bends it. So each column's bend is measured (how much
    of the log-log fit's residual a square and a cube of its log explain): every column straight enough, with an
    exponent near a nonzero whole or half number, is factored out (at least ``d - keep``, at most all but one;
    else None). ``f`` is then searched over the other columns, on ``y`` divided by the factor
    (``factored_target``)."""
    d, n_out = X.shape[1], X.shape[1] - keep
    logs = log_rows(X, y, d + 3)
    if n_out < 1 or logs is None:
        return None
    base = np.column_stack([np.ones(logs.shape[0]), logs[:, :-1]])
    target = logs[:, -1]
    coef, *_ = np.linalg.lstsq(base, target, rcond=None)
    rss = float(np.sum((target - base @ coef) ** 2))
    if rss <= EXACT * float(np.sum((target - target.mean()) ** 2)):
        return None   # y is a power law itself: the power-law baseline fits it, nothing is left to search
    bends = []
    for j in range(d):
        centred = logs[:, j] - logs[:, j].mean()
        bent = np.column_stack([base, centred ** 2, centred ** 3])
        c, *_ = np.linalg.lstsq(bent, target, rcond=None)
        bends.append((rss - float(np.sum((target - bent @ c) ** 2))) / max(rss, 1e-300))
    halves = np.round(coef[1:] * 2) / 2
    usable = sorted((j for j in range(d) if halves[j] != 0 and factor("x", float(halves[j])) is not None),
                    key=lambda j: (bends[j], j))
    # The columns as straight as a power, straightest first: at least the d - keep the model cannot read, and all of
    # them (the fewer columns the model is left with, the simpler the law it has to find), leaving it one at least.
    straight = [j for j in usable if bends[j] < STRAIGHT and abs(coef[1 + j] - halves[j]) < ROUND]
    if len(straight) < n_out:
        return None
    out = tuple(sorted(straight[:d - 1]))
    return out, halves[list(out)]


def factored_target(X: np.ndarray, y: np.ndarray, columns: tuple[int, ...], exps: np.ndarray) -> np.ndarray:
    """``y / prod_j x_j^e_j`` over ``columns``."""
    with np.errstate(all="ignore"):
        return y / np.prod(X[:, list(columns)] ** exps, axis=1)


def times_factor(tokens: list[str], columns: tuple[int, ...], exps: np.ndarray) -> list[str] | None:
    """Prefix tokens of ``f * prod_j x_j^e_j`` (the factor's variables named as in the full table, ``f``'s already
    so); None when a power has no spelling."""
    out = list(tokens)
    for j, e in zip(reversed(columns), reversed(list(exps))):
        f = factor(f"x{j + 1}", float(e))
        if f is None:
            return None
        out = ["*", *f, *out]
    return out
