"""The rewrite engine's product layer: products and powers.

A product is read into a coefficient (float, or ``None`` for an absorbing free constant) and a dict
``base -> exponent`` (int or Fraction), through ``* / inv neg``, scalings, ``powK``, real odd roots and ``pow E n``
with a literal integer ``n``. Exponents add, so ``x*x -> pow2 x`` and ``x/x -> 1``. All ``exp`` factors merge into
one, which absorbs constant terms of its argument into a numeric or free coefficient.

Domains: integer powers and real odd roots distribute over products; an even root does only where that cannot
make the result undefined where the input was defined: ``sqrt(x**2) -> abs(x)``, ``sqrt(4*x) -> 2*sqrt(x)``, but
``sqrt(x*y)`` stays (x and y may both be negative). Removable singularities are accepted: ``x/x -> 1``,
``sqrt(x)**2 -> x`` (the output may be defined where the input was not, never the reverse).

Products and sums nest in each other, so this layer needs the sign, abs and sum builders that sit above it: it
reaches them through the engine (``eng.split_sign``, ``eng.is_nonneg``, ``eng.even_context``, ``eng.negated_odd``,
``eng.build_abs``, ``eng.sum_from_state``), which binds them, so the modules import one way only.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..operators import CONSTANT, derived
from .terms import C, ODD, SCALE, Distinct, Unprintable, apply_coef, chain, collect_sum, leaf_number, num_leaf

# The power operators by kind: u**k for integers k >= 2, and the odd and even roots u**(1/k) (inv is u**-1, its own
# case below).
_INT_POWERS = derived(lambda ops: {op.name: int(op.power) for op in ops
                                   if op.power is not None and op.power.denominator == 1 and op.power >= 2})
_ODD_ROOTS = derived(lambda ops: {op.name: op.power for op in ops if op.power is not None
                                  and op.power.numerator == 1 and op.power.denominator % 2 == 1 and op.power < 1})
_EVEN_ROOTS = derived(lambda ops: {op.name: op.power for op in ops if op.power is not None
                                   and op.power.numerator == 1 and op.power.denominator % 2 == 0})
PRODUCT_OPS = derived(lambda ops: {"*", "/", "inv"} | {op.name for op in ops if op.scale is not None or (
    op.power is not None and op.power > 0)})
EVEN_ROOT_OPS = derived(lambda ops: {op.name for op in ops if op.power is not None and op.power.numerator == 1
                                     and op.power.denominator % 2 == 0})
_SUM_HEADS = ("+", "-")
# Heads of bases that are themselves products: an even root left one as an atom; expand once legal again.
_COMPOUND = derived(lambda ops: {"*", "/", "inv", "neg", "pow"} | {op.name for op in ops if op.scale is not None or (
    op.power is not None and op.power > 0)})


def _norm(e):
    if type(e) is Fraction and e.denominator == 1:
        return int(e.numerator)
    return e


def even_den(e) -> bool:
    return type(e) is Fraction and e.denominator % 2 == 0


def even_num(e) -> bool:
    return (e if type(e) is int else e.numerator) % 2 == 0


def _coef_pow(c, e):
    """Real ``c ** e`` for exponents with odd denominators (sign kept by odd roots); raises ZeroDivisionError."""
    if c is None:
        return None
    if type(e) is int:
        return c**e if e >= 0 else 1.0 / (c ** (-e))
    if c < 0:
        mag = (-c) ** float(e)
        return -mag if e.numerator % 2 else mag
    if c == 0 and e < 0:
        raise ZeroDivisionError
    return c ** float(e)


class ProductState:
    """``coef * prod(base ** exponent)``; ``reshape`` marks bases that may need a second look (see finish). A base
    with a free constant inside is keyed by a fresh ``Distinct``: it never merges with an equal-looking one."""

    __slots__ = ("coef", "factors", "reshape", "contains_c")

    def __init__(self, eng):
        self.coef = 1.0
        self.factors: dict[tuple, int | Fraction] = {}
        self.reshape = False
        self.contains_c = eng.has_c

    def add(self, base: tuple, e) -> None:
        if self.contains_c(base):
            self.factors[Distinct(base)] = _norm(e)
            return
        old = self.factors.get(base)
        self.factors[base] = _norm(e if old is None else old + e)


def factors(eng, t: tuple, e, st: ProductState) -> None:
    """Multiply ``st`` by ``t ** e``; ``e`` is an int or a Fraction with an odd denominator (those distribute)."""
    op = t[0]
    if len(t) == 1:
        if op == CONSTANT:
            st.coef = None
            return
        v = leaf_number(t)
        if v is not None:
            if st.coef is not None:
                st.coef *= _coef_pow(v, e)
            return
        st.add(t, e)
        return
    if op == "*":
        factors(eng, t[1], e, st)
        factors(eng, t[2], e, st)
    elif op == "/":
        factors(eng, t[1], e, st)
        factors(eng, t[2], -e, st)
    elif op == "inv":
        factors(eng, t[1], -e, st)
    elif op == "neg":
        if st.coef is not None and (e if type(e) is int else e.numerator) % 2:
            st.coef = -st.coef
        factors(eng, t[1], e, st)
    elif op in SCALE:
        if st.coef is not None:
            st.coef *= _coef_pow(SCALE[op], e)
        factors(eng, t[1], e, st)
    elif op in _INT_POWERS:
        factors(eng, t[1], e * _INT_POWERS[op], st)
    elif op in _ODD_ROOTS:
        factors(eng, t[1], _norm(e * _ODD_ROOTS[op]), st)
    elif op in _EVEN_ROOTS:
        _even_root(eng, t[1], _EVEN_ROOTS[op], e, st)
    elif op == "pow":
        v = leaf_number(t[2])
        if v is not None and v == int(v) and abs(v) <= 64:
            factors(eng, t[1], e * int(v), st)
        else:
            st.add(t, e)
    elif op in _SUM_HEADS:
        s, u = eng.split_sign(t)
        if s < 0 and st.coef is not None and (e if type(e) is int else e.numerator) % 2:
            st.coef = -st.coef
        st.add(u, e)
    else:
        if op == "abs":
            st.reshape = True
        st.add(t, e)


def power_into(eng, t: tuple, e, st: ProductState) -> None:
    """Multiply ``st`` by ``t ** e`` for any rational ``e`` (an even denominator takes the careful path)."""
    if even_den(e):
        _even_root(eng, t, e, 1, st)
    else:
        factors(eng, t, e, st)


def _even_root(eng, a: tuple, b: Fraction, e, st: ProductState) -> None:
    """Multiply ``st`` by ``(a ** b) ** e`` for an even-denominator ``b``: distribute where that is sound."""
    sub = ProductState(eng)
    factors(eng, a, 1, sub)
    out = _raise_even(eng, sub, b)
    if out is None:
        st.add(a, _norm(b * e))
        st.reshape = True
        return
    if st.coef is not None:
        st.coef = None if out.coef is None else st.coef * _coef_pow(out.coef, e)
    for base, x in out.factors.items():
        st.add(base, _norm(x * e))
    st.reshape = st.reshape or out.reshape


def _raise_even(eng, sub: ProductState, b: Fraction) -> ProductState | None:
    """``sub ** b`` factor by factor, or None where that could be undefined where the input is defined."""
    c = sub.coef
    if c is not None and c < 0:
        return None
    out = ProductState(eng)
    out.coef = None if c is None else c ** float(b)
    out.reshape = sub.reshape
    single = len(sub.factors) == 1 and c is not None
    for base, a in sub.factors.items():
        if even_den(a) or eng.is_nonneg(base):
            out.add(base, _norm(a * b))
        elif even_num(a):
            out.add(eng.build_abs(base), _norm(a * b))
            out.reshape = True
        elif single:
            out.add(base, _norm(a * b))
        else:
            return None
    return out


def build_product(eng, t: tuple) -> tuple | None:
    """Canonical spelling of the product node ``t`` (children canonical), or None to keep ``t``."""
    st = ProductState(eng)
    try:
        factors(eng, t, 1, st)
        return finish(eng, st)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return None


def finish(eng, st: ProductState) -> tuple:
    normalise_bases(eng, st)
    merge_exp(eng, st)
    coef = st.coef
    if coef is not None and not math.isfinite(coef):
        raise OverflowError
    fs = {b: e for b, e in st.factors.items() if e != 0}
    if coef == 0:
        return num_leaf(0.0)
    if not fs:
        return C if coef is None else num_leaf(coef)
    return print_product(eng, coef, fs)


def normalise_bases(eng, st: ProductState) -> None:
    """|b|**(2k) -> b**(2k), sin(|x|)**2 -> sin(x)**2; compound bases left by an even root expand once their
    exponent allows it."""
    if not st.reshape:
        for base, e in st.factors.items():
            if base[0] in ODD and type(e) is int and e % 2 == 0:
                st.reshape = True
                break
        else:
            return
    st.reshape = False
    items = list(st.factors.items())
    st.factors = {}
    for base, e in items:
        if e == 0:
            continue
        if (base[0] == "abs" or base[0] in ODD) and not even_den(e) and even_num(e):
            factors(eng, eng.even_context(base), e, st)
        elif (base[0] in _COMPOUND or base[0] in _SUM_HEADS or len(base) == 1) and not even_den(e) \
                and base[0] != "pow":
            factors(eng, base, e, st)  # also gives a sum its normal sign once the exponent allows it
        else:
            st.add(base, e)


def merge_exp(eng, st: ProductState) -> None:
    """exp(a)**p * exp(b)**q -> exp(p*a + q*b); its constant term moves into a free or non-unit coefficient."""
    exps = [(b, e) for b, e in st.factors.items() if b[0] == "exp"]
    if not exps:
        return
    absorb = st.coef is None or st.coef != 1
    if len(exps) == 1 and exps[0][1] == 1 and not absorb:
        return
    arg = collect_sum([(float(e), b[1]) for b, e in exps], eng.has_c)
    if absorb and (arg.has_c or arg.const != 0):
        if st.coef is not None:
            if arg.has_c:
                st.coef = None
            else:
                st.coef *= math.exp(arg.const)
        arg.has_c = False
        arg.const = 0.0
    for b, _ in exps:
        del st.factors[b]
    merged = eng.node("exp", (eng.sum_from_state(arg),))
    if merged[0] == "exp":
        st.add(merged, 1)
    else:
        factors(eng, merged, 1, st)


def _power(base: tuple, e) -> tuple:
    """Tokens for ``base ** e`` with ``e > 0``."""
    if type(e) is int:
        if e == 1:
            return base
        if e <= 5:
            return (f"pow{e}", base)
        return ("pow", base, num_leaf(float(e)))
    q = e.denominator
    root = base
    for k in (4, 2, 5, 3):
        while q % k == 0 and (k != 4 or q % 4 == 0):
            root = (f"pow1_{k}", root)
            q //= k
    if q != 1:
        raise Unprintable(e)
    return _power(root, int(e.numerator))


def _product_of(eng, groups: dict) -> tuple:
    """Sorted product of powers; equal integer/odd-root exponents share one power: x**2*y**2 -> pow2(x*y)."""
    parts = []
    for e, bases in groups.items():
        if len(bases) > 1 and not even_den(e):
            bases.sort()
            parts.append(_power(chain("*", bases), e))
        else:
            parts.extend(_power(b, e) for b in bases)
    parts.sort()
    return chain("*", parts)


def print_product(eng, coef, fs: dict) -> tuple:
    if coef is not None and coef < 0:
        # Give the sign to a sum (or an odd function of one) raised to an odd power instead of a leading neg:
        # (y-x)*z, not -((x-y)*z); sin(C-x)*z, not -(sin(x+C)*z). Only where that is no longer.
        for base in sorted(b for b, e in fs.items() if (b[0] in _SUM_HEADS or b[0] in ODD)
                           and not even_den(e) and not even_num(e)):
            flipped = eng.node("neg", (base,)) if base[0] in _SUM_HEADS else eng.negated_odd(base)
            if flipped is None or flipped[0] == "neg" or eng.size(flipped) > eng.size(base):
                continue
            e = fs.pop(base)
            fs[flipped] = _norm(fs.get(flipped, 0) + e)
            coef = -coef
            break
    num: dict = {}
    den: dict = {}
    for b, e in fs.items():
        if e > 0:
            num.setdefault(e, []).append(b)
        elif e < 0:
            den.setdefault(-e, []).append(b)
    if not num and not den:
        return C if coef is None else num_leaf(coef)
    n = _product_of(eng, num) if num else None
    d = _product_of(eng, den) if den else None
    if coef is None:
        if d is None:
            return ("*", C, n)
        if n is None:
            return ("/", C, d)
        return ("*", C, ("/", n, d))
    core = n if d is None else (("inv", d) if n is None else ("/", n, d))
    if coef < 0 and core[0] in _SUM_HEADS:
        # A negated sum is spelled by the sum builder (`neg` is its operator), so re-reading it gives it back.
        return eng.node("neg", (apply_coef(-coef, core),))
    return apply_coef(coef, core)
