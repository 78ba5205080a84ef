"""The rewrite engine's sign analysis: where a tree is non-negative or bounded, a sign-normal form for sums and
products (``split_sign``), and the "even context" in which abs and signs can be dropped because only ``|t|``
matters (arguments of even functions, of abs, bases of even powers).

Each answer holds wherever the tree is defined: ``is_nonneg`` is True only if the tree is >= 0 at every point where
it is defined; ``even_context(u)`` has the same absolute value and domain as ``u``.
"""

from __future__ import annotations

import math

from ..operators import derived
from .products import EVEN_ROOT_OPS, PRODUCT_OPS, ProductState, even_den, factors, finish
from .terms import EVEN, ODD, SCALE, Unprintable, collect_sum, lead_is_negative, leaf_number, num_leaf, plain_term

_NONNEG = derived(lambda ops: {op.name for op in ops if op.sign == "nonneg"})
# Sign of the result follows the sign of the argument (odd, increasing, or positive scalings).
_SIGN_KEEPING = derived(lambda ops: {op.name for op in ops if op.sign == "follows"})


def is_nonneg(eng, t: tuple) -> bool:
    """True only if ``t >= 0`` wherever it is defined."""
    if len(t) == 1:
        v = leaf_number(t)
        return v is not None and v >= 0
    hit = eng.nonneg.get(t)
    if hit is not None:
        return hit
    op = t[0]
    if op in _NONNEG:
        out = True
    elif op in _SIGN_KEEPING:
        out = is_nonneg(eng, t[1])
    elif op in ("*", "/", "+"):
        out = is_nonneg(eng, t[1]) and is_nonneg(eng, t[2])
    elif op == "pow":
        v = leaf_number(t[2])
        out = (v is not None and v == int(v) and int(v) % 2 == 0) or is_nonneg(eng, t[1])
    elif op == "cos":
        b = bound(eng, t[1])
        out = b is not None and b <= math.pi / 2
    else:
        out = False
    eng.nonneg[t] = out
    return out


_BOUNDED = derived(lambda ops: {op.name: op.bound for op in ops if op.bound is not None})
_POWER_BOUND = derived(lambda ops: {op.name: float(op.power) for op in ops if op.power is not None and op.power > 0})


def bound(eng, t: tuple) -> float | None:
    """An upper bound on ``|t|`` wherever it is defined, or None: lets ``cos`` of a bounded argument count as
    non-negative (``abs(cos(sin x)) -> cos(sin x)``)."""
    if len(t) == 1:
        v = leaf_number(t)
        return None if v is None else abs(v)
    op = t[0]
    b = _BOUNDED.get(op)
    if b is not None:
        return b
    if op in ("neg", "abs"):
        return bound(eng, t[1])
    if op in _POWER_BOUND:
        a = bound(eng, t[1])
        return None if a is None else a ** _POWER_BOUND[op]
    if op in SCALE:
        a = bound(eng, t[1])
        return None if a is None else a * SCALE[op]
    if op in ("+", "-", "*"):
        a, c = bound(eng, t[1]), bound(eng, t[2])
        if a is None or c is None:
            return None
        return a + c if op != "*" else a * c
    return None


def split_sign(eng, t: tuple) -> tuple[int, tuple]:
    """``(s, u)`` with ``t == s*u`` and ``u`` in a sign-normal form: not a neg, not a sum led by a subtraction, not a
    negative number or a product with a negative numeric coefficient."""
    op = t[0]
    if op == "neg":
        return -1, t[1]
    if len(t) == 1:
        v = leaf_number(t)
        return (-1, num_leaf(-v)) if v is not None and v < 0 else (1, t)
    hit = eng.signs.get(t)
    if hit is not None:
        return hit
    out = (1, t)
    if (op == "+" or op == "-") and plain_term(t[1]) and plain_term(t[2]) and t[1] != t[2]:
        # Two plain terms (the common case): led by the smaller one; -(b - a) is a - b.
        if op == "-" and t[2] < t[1]:
            out = (-1, eng.node("-", (t[2], t[1])))
    elif op == "+" or op == "-":
        st = collect_sum([(1.0, t)], eng.has_c)
        if lead_is_negative(st):
            out = (-1, negated_sum(eng, t))
    elif op == "*" or op == "/":
        v = leaf_number(t[1])
        if v is not None and v < 0:
            out = (-1, eng.node("neg", (t,)))
    eng.signs[t] = out
    return out


def negated_sum(eng, t: tuple) -> tuple:
    return eng.node("neg", (t,))


def even_context(eng, u: tuple) -> tuple:
    """A tree ``w`` no longer than ``u`` with ``|w| == |u|`` and the same domain, so ``f(w) == f(u)`` for every even
    ``f``: drops abs and neg, through odd functions and odd powers of factors, and normalises a sum's sign.
    ``cos(C*abs(x)) -> cos(C*x)``, ``abs(sin(abs(x))) -> abs(sin(x))``, ``sin(abs x)**2 -> sin(x)**2``."""
    op = u[0]
    while op == "abs" or op == "neg":
        u = u[1]
        op = u[0]
    if len(u) == 1:
        v = leaf_number(u)
        return num_leaf(-v) if v is not None and v < 0 else u
    hit = eng.evens.get(u)
    if hit is not None:
        return hit
    out = u
    if op in ODD:
        inner = even_context(eng, u[1])
        if inner != u[1]:
            out = eng.node(op, (inner,))
    elif op == "+" or op == "-":
        out = split_sign(eng, u)[1]
    elif op in PRODUCT_OPS and op not in EVEN_ROOT_OPS:
        out = _even_product(eng, u)
    eng.evens[u] = out
    return out


def _even_product(eng, u: tuple) -> tuple:
    st = ProductState(eng)
    try:
        factors(eng, u, 1, st)
        out = ProductState(eng)
        out.coef = None if st.coef is None else abs(st.coef)
        changed = st.coef is not None and st.coef < 0
        for base, e in st.factors.items():
            head = base[0]
            if not even_den(e) and (head in ODD or head == "abs" or head == "+" or head == "-"):
                new = even_context(eng, base)
                if new != base:
                    changed = True
                    factors(eng, new, e, out)
                    continue
            out.add(base, e)
        if not changed:
            return u
        w = finish(eng, out)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return u
    return w if eng.size(w) <= eng.size(u) else u


def negated_odd(eng, t: tuple) -> tuple | None:
    """``-f(u)`` as ``f(-u)`` for odd ``f`` when ``-u`` is no longer than ``u`` (a sum that can swap its sides,
    ``sin(C - x)`` for ``-sin(x + C)``), else None."""
    if t[0] not in ODD:
        return None
    w = eng.node("neg", (t[1],))
    if w[0] == "neg" or eng.size(w) > eng.size(t[1]):
        return None
    return eng.node(t[0], (w,))
