"""Numeric equivalence of a simplifier's output with its input, for the benchmark and the tests.

``check(inp, out, seed)`` draws 64 points (x = +-10^U(-1,1), input constants +-10^U(-0.5,0.5)), keeps the points
where the input is a finite real, and asks whether the output reproduces it there: directly when the output has no
``<constant>``, else after refitting the output's constants by least squares from seeds built from the input's
constants (their transforms and combinations, and the numbers the simplifier itself produces when the constants are
substituted as literals). Float misses are re-evaluated at 50 digits with mpmath before counting.
Verdicts: ``ok``, ``different`` (constant-free output differs), ``nofit`` (no constants found that reproduce the
input: unverified, not proven wrong), ``undetermined`` (the input is defined at fewer than 8 points).
"""

from __future__ import annotations

import itertools
import math
from typing import Sequence

import mpmath
import numpy as np

from .compile import compile_expression
from .operators import CONSTANT, derived, on_numbers
from .tokens import format_number, is_variable, number_value, to_tree, variable_index

N_POINTS = 64
RTOL = 1e-6


# Each operator's 50-digit version; one registered without one runs its numpy function at float precision.
_MP = derived(lambda ops: {op.name: op.mpmath or on_numbers(op, mpmath.mpf) for op in ops})


def mp_value(tokens: Sequence[str], x: Sequence[float], constants: Sequence[float], dps: int = 50) -> float | None:
    """High-precision real value at one point, or None where undefined or not representable as a float."""
    tree = to_tree(tokens)
    consts = iter(constants)
    nan = mpmath.mpf("nan")

    def ev(t):
        tok = t[0]
        if len(t) == 1:
            if tok == CONSTANT:
                return mpmath.mpf(next(consts))
            if is_variable(tok):
                return mpmath.mpf(x[variable_index(tok)])
            return mpmath.mpf(number_value(tok)) if tok not in ("pi", "e") else (mpmath.pi if tok == "pi" else
                                                                                  mpmath.e)
        args = [ev(c) for c in t[1:]]
        if any(not mpmath.isfinite(a) for a in args):
            return nan
        try:
            v = _MP[tok](*args)
        except (ValueError, ZeroDivisionError, OverflowError):
            return nan
        return v if isinstance(v, mpmath.mpf) else nan

    with mpmath.workdps(dps):
        v = ev(tree)
        if not mpmath.isfinite(v) or abs(v) > 1e300:
            return None
        return float(v)


def _variables(*exprs) -> int:
    return max([variable_index(t) + 1 for e in exprs for t in e if is_variable(t)] or [1])


def _close(z, y):
    return np.isfinite(z) & (np.abs(z - y) <= RTOL * (1e-3 + np.abs(y)))


def _confirm(out, X, consts, y, mask, z, inp, c_in) -> bool:
    """Every masked point matches, float misses re-judged at 50 digits (points where the input is not stable at
    50 digits or not representable are skipped)."""
    for j in np.where(mask & ~_close(z, y))[0]:
        yj = mp_value(inp, X[j], c_in)
        if yj is None:
            continue
        zj = mp_value(out, X[j], consts)
        if zj is None or abs(zj - yj) > RTOL * (1e-3 + abs(yj)):
            return False
    return True


def _pool(c_in: np.ndarray, extra: Sequence[float]) -> np.ndarray:
    vals = [0.0, 1.0, -1.0, 0.5, 2.0, math.pi, math.e, *extra]
    with np.errstate(all="ignore"):
        one = []
        for c in c_in:
            one += [c, 1 / c, np.exp(c), np.exp(-c), np.log(abs(c)), np.sin(c), np.cos(c), np.cbrt(c),
                    np.sqrt(abs(c)), c**2, c**3, 2 * c, c / 2, c + 1, c - 1, np.tan(c), np.tanh(c), np.arctan(c)]
        for a, b in itertools.permutations(c_in, 2):
            one += [a * b, a / b, a + b, a - b, a * b * b, np.exp(a) * b, np.exp(a + b)]
        vals += one + [-v for v in one]
        vals += [-v for v in extra] + [1 / v for v in extra if v != 0]
    vals = np.array([v for v in vals if np.isfinite(v)], dtype=float)
    return np.unique(vals)


def _literal_twin(inp, c_in, simplify) -> list[float]:
    """Numbers the simplifier produces with the constants written as literals: usually the refit's answer."""
    if simplify is None:
        return []
    it = iter(c_in)
    lit = [format_number(next(it)) if t == CONSTANT else t for t in inp]
    try:
        out = simplify(lit)
    except ValueError:
        return []
    vals = []
    for t in out:
        try:
            vals.append(float(number_value(t)))
        except (ValueError, KeyError):
            continue
    return vals


def _grid_costs(f_out, X, ym, grid) -> np.ndarray:
    """Cost of every candidate constant vector in one vectorised call: constants broadcast along a new axis."""
    costs = []
    for chunk in np.array_split(grid, max(1, len(grid) // 512)):
        with np.errstate(all="ignore"):
            z = np.asarray(f_out._f(X[:, :, None], chunk.T), dtype=float)
        z = np.broadcast_to(z, (X.shape[0], chunk.shape[0]))
        r = (z - ym[:, None]) / np.sqrt((1 + z * z) * (1 + ym[:, None] ** 2))
        costs.append(np.sum(np.where(np.isfinite(r), r, 1.0) ** 2, axis=0))
    return np.concatenate(costs)


def check(inp: Sequence[str], out: Sequence[str], seed: int = 0, simplify=None) -> str:
    with np.errstate(all="ignore"):
        return _check(inp, out, seed, simplify)


def _check(inp, out, seed, simplify) -> str:
    from scipy.optimize import least_squares

    inp, out = list(inp), list(out)
    rng = np.random.default_rng(seed)
    d = _variables(inp, out)
    f_in, f_out = compile_expression(inp), compile_expression(out)
    for _ in range(5):
        X = rng.choice([-1.0, 1.0], (N_POINTS, d)) * 10 ** rng.uniform(-1, 1, (N_POINTS, d))
        c_in = rng.choice([-1.0, 1.0], f_in.n_constants) * 10 ** rng.uniform(-0.5, 0.5, f_in.n_constants)
        y = f_in(X, c_in)
        mask = np.isfinite(y)
        if mask.sum() >= 8:
            break
    else:
        return "undetermined"
    m = f_out.n_constants
    if m == 0:
        z = f_out(X, [])
        return "ok" if _confirm(out, X, [], y, mask, z, inp, c_in) else "different"

    ym = y[mask]

    def resid(c):
        z = f_out(X, c)[mask]
        r = (z - ym) / np.sqrt((1 + z * z) * (1 + ym * ym))  # bounded, so poles do not dominate
        return np.where(np.isfinite(r), r, 1.0)

    def cost(c):
        return float(np.sum(resid(c) ** 2))

    def accepts(c):
        z = f_out(X, c)
        return bool(np.mean(_close(z[mask], ym)) > 0.9) and _confirm(out, X, c, y, mask, z, inp, c_in)

    pool = _pool(c_in, _literal_twin(inp, c_in, simplify))
    if len(pool) ** m <= 6000:
        grid = np.array(list(itertools.product(pool, repeat=m)))
    else:
        grid = rng.choice(pool, size=(6000, m))
    costs = _grid_costs(f_out, X[mask], ym, grid)
    order = np.argsort(costs, kind="stable")
    def relative(c):  # plain relative error: steeper than the bounded one far from the answer
        z = f_out(X, c)[mask]
        r = (z - ym) / (1 + np.abs(ym))
        return np.where(np.isfinite(r), r, 1e3)

    for i in order[:8]:
        c0 = grid[i]
        if accepts(c0):
            return "ok"
        for fun in (resid, relative):
            try:
                c1 = least_squares(fun, c0, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=200 * (m + 1)).x
            except ValueError:
                continue
            if accepts(c1):
                return "ok"
    return "nofit"
