"""The rewrite engine's bottom layer: leaves, numbers, coefficients, sizes, and sums.

Trees are nested tuples ``(token, *children)`` (see ``tokens.to_tree``). A *coefficient* is a float, or ``None``
for an absorbing free constant (``<constant>`` times anything is ``<constant>``). Sums are read into a dict
``mono -> coefficient`` plus a constant term, like terms are combined, and the sum is printed back in one canonical
spelling: operands sorted by tree order (plain string comparisons, so the order is the same in every process),
terms with equal coefficients grouped under one ``multK``/``divK``/``* c``, subtrahends collected behind one ``-``.
"""

from __future__ import annotations

import math

from ..operators import CONSTANT, derived
from ..tokens import format_number, is_number, is_variable, number_value

C = (CONSTANT,)
ONE = ("1",)
ZERO = ("0",)

# Unary scalings: token -> factor, and the reverse lookups used when printing a coefficient.
SCALE = derived(lambda ops: {op.name: float(op.scale) for op in ops if op.scale is not None})
SCALE_TOKEN = derived(lambda ops: {float(op.scale): op.name for op in ops if op.scale is not None})

# Number token -> value for every number leaf the engine has seen or made. Bounded only by the vocabulary in
# practice; ``leaf_number`` refills it on a miss, so clearing it is safe.
_NUMBERS: dict[str, float] = {}
_NAMED = {math.pi: "pi", math.e: "e"}


# The unary operators with algebra of their own in the engine; every other unary one that is neither a power nor a
# scale is an opaque function (sin, abs, or an operator registered later).
OWN_RULES = ("neg", "exp", "log")


def _is_function(op) -> bool:
    return op.arity == 1 and op.power is None and op.scale is None and op.name not in OWN_RULES


# Heads of nodes that a sum treats as one opaque term with coefficient 1 / a product as one opaque factor.
FUNCTIONS = derived(lambda ops: {op.name for op in ops if _is_function(op)})
PLAIN_TERM = derived(lambda ops: {op.name for op in ops if _is_function(op) or op.power is not None} | {"exp"})
PLAIN_FACTOR = derived(lambda ops: {op.name for op in ops if _is_function(op)} | {"log"})
# Even and odd functions: f(-u) == f(u), f(-u) == -f(u).
EVEN = derived(lambda ops: {op.name for op in ops if op.parity == "even"})
ODD = derived(lambda ops: {op.name for op in ops if op.parity == "odd"})


def plain_term(t: tuple) -> bool:
    """A variable or a node a sum keeps as one term with coefficient 1 (no like-term or log merging possible)."""
    head = t[0]
    if len(t) == 1:
        return head != CONSTANT and leaf_number(t) is None
    if head in PLAIN_TERM:
        return True
    if head == "*" or head == "/":
        first = t[1]
        return not (len(first) == 1 and (first[0] == CONSTANT or leaf_number(first) is not None))
    return False


class Unprintable(Exception):
    """A normal form that has no spelling in the vocabulary (an exponent such as 1/7): keep the input node."""


_NOT_NUMBERS: set = derived(lambda ops: {CONSTANT, *(op.name for op in ops)})


def leaf_number(t: tuple) -> float | None:
    """Value of a number leaf, else None."""
    tok = t[0]
    v = _NUMBERS.get(tok)
    if v is not None or tok in _NOT_NUMBERS:
        return v
    if isinstance(tok, str) and not is_variable(tok) and is_number(tok):
        v = _NUMBERS[tok] = number_value(tok)
        return v
    if len(_NOT_NUMBERS) < 100_000 and isinstance(tok, str):
        _NOT_NUMBERS.add(tok)
    return None


def num_leaf(v: float) -> tuple:
    """The canonical leaf for a number (``2``, ``0.5``, ``pi``); -0.0 prints as ``0``."""
    name = _NAMED.get(v)
    tok = name if name is not None else format_number(v)
    _NUMBERS.setdefault(tok, float(v) if name is None else v)
    return (tok,)


def cmul(a, b):
    return None if a is None or b is None else a * b


def cneg(a):
    return None if a is None else -a


def apply_coef(c, t: tuple) -> tuple:
    """Tokens for ``c * t`` with ``t`` coefficient-free: ``neg``, ``multK``/``divK``, ``* c t`` or ``/ c D``."""
    if c is None:
        return ("/", C, t[1]) if t[0] == "inv" else ("*", C, t)
    if c == 1:
        return t
    if c == 0:
        return ZERO
    a = -c if c < 0 else c
    if a == 1:
        return ("neg", t)
    token = SCALE_TOKEN.get(a)
    if token is not None:
        return ("neg", (token, t)) if c < 0 else (token, t)
    if t[0] == "inv":
        return ("/", num_leaf(c), t[1])
    return ("*", num_leaf(c), t)


def chain(op: str, items: list) -> tuple:
    """Right-nested ``op`` over already sorted items: ``+ a + b c``."""
    out = items[-1]
    for item in reversed(items[:-1]):
        out = (op, item, out)
    return out


# ------------------------------------------------------------------------------------------------------------- sums
class Distinct(tuple):
    """A tree that equals only itself. Every ``<constant>`` is its own free constant, so two equal-looking subtrees
    that contain one are different functions: ``sin(x+C) - sin(x+C)`` is not 0 and ``(x+C)*(x+C)`` is not a
    square. Sums and products key such terms and factors by a fresh ``Distinct`` so they never merge."""

    __slots__ = ()
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


class SumState:
    """Like terms being collected: ``terms`` maps a coefficient-free monomial to its coefficient; ``const`` is the
    numeric constant term, ``has_c`` whether a free constant absorbs it. ``contains_c(t)`` says whether ``t`` has
    a free constant inside (see ``Distinct``)."""

    __slots__ = ("terms", "const", "has_c", "contains_c")

    def __init__(self, contains_c):
        self.terms: dict[tuple, float | None] = {}
        self.const = 0.0
        self.has_c = False
        self.contains_c = contains_c

    def add(self, mono: tuple, k) -> None:
        if self.contains_c(mono):
            self.terms[Distinct(mono)] = k
            return
        old = self.terms.get(mono, 0.0)
        self.terms[mono] = None if (old is None or k is None) else old + k


def sum_terms(t: tuple, k, st: SumState) -> None:
    """Add ``k * t`` to ``st``, reading through ``+ - neg``, scalings and numeric or free-constant coefficients.

    A free-constant coefficient is never distributed over a sum (``C*(x+y)`` stays one term): that would add a
    constant and lengthen the expression.
    """
    op = t[0]
    if len(t) == 1:
        if op == CONSTANT:
            st.has_c = True
            return
        v = leaf_number(t)
        if v is not None:
            if k is None:
                st.has_c = True
            else:
                st.const += k * v
            return
        st.add(t, k)
        return
    if op == "+" or op == "-":
        if k is None:
            st.add(t, None)
            return
        sum_terms(t[1], k, st)
        sum_terms(t[2], -k if op == "-" else k, st)
        return
    if op == "neg":
        sum_terms(t[1], cneg(k), st)
        return
    f = SCALE.get(op)
    if f is not None:
        sum_terms(t[1], cmul(k, f), st)
        return
    if op == "*" or op == "/":
        a = t[1]
        if len(a) == 1:
            if a[0] == CONSTANT:
                if op == "*":
                    sum_terms(t[2], None, st)
                else:
                    st.add(("inv", t[2]), None)
                return
            v = leaf_number(a)
            if v is not None:
                if op == "*":
                    sum_terms(t[2], cmul(k, v), st)
                else:
                    st.add(("inv", t[2]), cmul(k, v))
                return
    st.add(t, k)


def collect_sum(items, contains_c) -> SumState:
    st = SumState(contains_c)
    for k, t in items:
        sum_terms(t, k, st)
    if st.has_c:
        st.const = 0.0
    return st


def lead_is_negative(st: SumState) -> bool:
    """True when the first numerically weighted term (in tree order) is subtracted: ``- y x`` leads with ``-x``."""
    best = None
    for mono, c in st.terms.items():
        if c is not None and c != 0 and (best is None or mono < best[0]):
            best = (mono, c)
    if best is None:
        return (not st.has_c) and st.const < 0 and not st.terms
    return best[1] < 0


def print_sum(st: SumState, scale=apply_coef) -> tuple:
    """One canonical spelling of a collected sum (zero terms dropped). ``scale(c, mono)`` spells a scaled term
    (``c > 0`` or ``None``); the engine passes one that builds it as a product node, so it is canonical too."""
    terms = [(m, c) for m, c in st.terms.items() if c != 0]
    const = None if st.has_c else st.const
    if not terms:
        return C if const is None else num_leaf(const)
    if len(terms) == 1 and const == 0:
        return apply_coef(terms[0][1], terms[0][0])
    pos: list = []
    neg: list = []
    groups: dict[float, list] = {}
    for mono, c in terms:
        if c is None:
            pos.append(scale(None, mono))
        else:
            groups.setdefault(abs(c), []).append((c > 0, mono))
    if const is None:
        pos.append(C)
    elif const != 0:
        groups.setdefault(abs(const), []).append((const > 0, ONE))
    for g, members in groups.items():
        if g == 1:
            for s, m in members:
                (pos if s else neg).append(m)
            continue
        if len(members) == 1:
            s, m = members[0]
            (pos if s else neg).append(num_leaf(g) if m == ONE else scale(g, m))
            continue
        ps = sorted(m for s, m in members if s)
        ns = sorted(m for s, m in members if not s)
        if not ps:
            neg.append(scale(g, chain("+", ns)))
        elif not ns:
            pos.append(scale(g, chain("+", ps)))
        else:
            pos.append(scale(g, ("-", chain("+", ps), chain("+", ns))))
    pos.sort()
    neg.sort()
    if not neg:
        return chain("+", pos)
    if not pos:
        return ("neg", chain("+", neg))
    return ("-", chain("+", pos), chain("+", neg))
