"""The rewrite engine's function builders: ``abs``, ``exp``, ``log``, even and odd functions, and numeric folding of
constant subtrees.

Every rewrite here is equal wherever its input is defined: ``exp(log x) -> x`` (x > 0 only on the left),
``log(exp x) -> x``, ``abs`` drops only when its argument is non-negative wherever it is defined,
``cos(-u) -> cos u``, ``sin(-u) -> -sin u``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..operators import derived, on_numbers
from .products import (PRODUCT_OPS, ProductState, even_den, even_num, factors, finish, merge_exp, normalise_bases,
                       power_into)
from .signs import even_context, is_nonneg
from .sums import sum_from_state
from .terms import EVEN, ODD, ONE, Unprintable, collect_sum, leaf_number, num_leaf


def build_abs(eng, u: tuple) -> tuple:
    v = leaf_number(u)
    if v is not None:
        return num_leaf(abs(v))
    w = even_context(eng, u)  # |w| == |u|: abs and neg dropped, sums sign-normal
    if is_nonneg(eng, w):
        return w
    if w[0] in PRODUCT_OPS:
        return _abs_product(eng, w)
    return ("abs", w)


def _abs_product(eng, u: tuple) -> tuple:
    """|c * P * Q| -> |c| * P * |Q| with P the factors that are non-negative wherever defined."""
    st = ProductState(eng)
    try:
        factors(eng, u, 1, st)
        coef = None if st.coef is None else abs(st.coef)
        keep = ProductState(eng)
        keep.coef = coef
        rest = ProductState(eng)
        for base, e in st.factors.items():
            if even_den(e) or even_num(e) or is_nonneg(eng, base):
                keep.add(base, e)
            else:
                rest.add(base, e)
        if not rest.factors:
            return finish(eng, keep)
        if len(rest.factors) == 1:
            # |b**e| -> |b|**e: abs(1/x) -> 1/abs(x), so it meets other powers of abs(x)
            (base, e), = rest.factors.items()
            keep.add(eng.node("abs", (base,)), e)
            return finish(eng, keep)
        inner = finish(eng, rest)
        if coef == 1 and not keep.factors:
            return ("abs", inner)
        keep.add(("abs", inner), 1)
        return finish(eng, keep)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return ("abs", u)


def _exact_fraction(c: float) -> Fraction | int | None:
    f = Fraction(c).limit_denominator(60)
    if float(f) != c:
        return None
    return int(f) if f.denominator == 1 else f


def build_exp(eng, u: tuple) -> tuple:
    if u[0] == "log":
        return u[1]
    st = collect_sum([(1.0, u)], eng.has_c)
    logs = [(m, _exact_fraction(c)) for m, c in st.terms.items() if m[0] == "log" and c is not None]
    logs = [(m, e) for m, e in logs if e is not None and e != 0]
    if not logs:
        return ("exp", u)
    ps = ProductState(eng)
    try:
        for m, e in logs:
            power_into(eng, m[1], e, ps)
            del st.terms[m]
        if st.terms or st.has_c or st.const != 0:
            factors(eng, eng.node("exp", (sum_from_state(eng, st),)), 1, ps)
        out = finish(eng, ps)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return ("exp", u)
    return out if eng.size(out) <= eng.size(u) + 1 else ("exp", u)


def build_log(eng, u: tuple) -> tuple:
    if u[0] == "exp":
        return u[1]
    if u[0] == "inv":  # log(1/x) -> -log(x): same domain, and the sign can then cancel or move
        return eng.node("neg", (eng.node("log", (u[1],)),))
    if u[0] not in PRODUCT_OPS:
        return ("log", u)
    ps = ProductState(eng)
    try:
        factors(eng, u, 1, ps)
        exps = [b for b in ps.factors if b[0] == "exp"]
        if not exps:
            return ("log", u)
        normalise_bases(eng, ps)
        merge_exp(eng, ps)
        exps = [(b, e) for b, e in ps.factors.items() if b[0] == "exp"]
        if len(exps) != 1 or exps[0][1] != 1:
            return ("log", u)
        base = exps[0][0]
        del ps.factors[base]
        rest = finish(eng, ps)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return ("log", u)
    out = base[1] if rest == ONE else eng.node("+", (base[1], eng.node("log", (rest,))))
    return out if eng.size(out) <= eng.size(u) else ("log", u)


def build_unary(eng, op: str, u: tuple) -> tuple:
    if op in EVEN:
        w = even_context(eng, u)
        return (op, u) if w == u else eng.node(op, (w,))
    if op in ODD and u[0] == "neg":
        return eng.node("neg", (eng.node(op, (u[1],)),))
    return (op, u)


# ---------------------------------------------------------------------------------------------------------- folding
# Scalar float versions of the operators, for folding constant subtrees.
_PYTHON = derived(lambda ops: {op.name: op.scalar or on_numbers(op) for op in ops})


def fold(op: str, values: list[float]) -> tuple | None:
    """A number leaf for ``op`` applied to numbers, or None where the result is not a finite real."""
    try:
        v = _PYTHON[op](*values)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    if type(v) is complex or not math.isfinite(v):
        return None
    return num_leaf(float(v))
