"""The rewrite engine's sum builder: collect like terms (``terms``), let a lone scaled term be a product,
absorb exp's constant term into a scaled term's coefficient, and merge logarithms where that is shorter
(``log a + log b -> log(a*b)``: defined wherever the left side is, and equal there).
"""

from __future__ import annotations

from .products import PRODUCT_OPS, ProductState, factors, finish
from .signs import negated_odd
from .terms import C, Unprintable, SCALE_TOKEN, SumState, apply_coef, collect_sum, num_leaf, print_sum, sum_terms


def build_sum(eng, t: tuple) -> tuple:
    return sum_from_state(eng, collect_sum([(1.0, t)], eng.has_c))


def sum_from_state(eng, st: SumState) -> tuple:
    """Canonical sum: a lone scaled term goes to the product builder; scaled terms are built as product nodes."""
    terms = [(m, c) for m, c in st.terms.items() if c != 0]
    if len(terms) == 1 and not st.has_c and st.const == 0 and terms[0][1] != 1:
        m, c = terms[0]
        if c != -1 or m[0] in PRODUCT_OPS:
            return eng.node("*", (C if c is None else num_leaf(c), m))
        flipped = negated_odd(eng, m)
        if flipped is not None:
            return flipped
    _normalise_scaled_exps(eng, st)
    scale = eng.scale
    plain = print_sum(st, scale)
    best = plain
    for i, merged in enumerate(_merge_logs(eng, st)):
        # The first merge wins ties with the plain sum: the plain one would merge its own sub-sums when re-read.
        n = eng.size(merged)
        if n < eng.size(best) or (i == 0 and n == eng.size(best)):
            best = merged
    return best


def make_scale(eng):
    """``scale(c, mono)`` for print_sum: the scaled term as the engine's own product node."""
    node = eng.node

    def scale(c, m):
        if c is None:
            return node("/", (C, m[1])) if m[0] == "inv" else node("*", (C, m))
        token = SCALE_TOKEN.get(c)
        if token is not None:
            return node(token, (m,))
        if m[0] == "inv":
            return node("/", (num_leaf(c), m[1]))
        return node("*", (num_leaf(c), m))

    return scale


def _has_exp_factor(t: tuple) -> bool:
    op = t[0]
    if op == "exp":
        return True
    if op == "*" or op == "/":
        return _has_exp_factor(t[1]) or _has_exp_factor(t[2])
    return op == "inv" and _has_exp_factor(t[1])


def _normalise_scaled_exps(eng, st: SumState) -> None:
    """A scaled term with an exp factor absorbs exp's constant term into its coefficient, as a product would:
    2*exp(x+1) -> 5.43*exp(x), C*exp(x+C) -> C*exp(x)."""
    todo = [(m, c) for m, c in st.terms.items() if c != 1 and c != -1 and c != 0 and _has_exp_factor(m)]
    for m, c in todo:
        canonical = eng.node("*", (C if c is None else num_leaf(c), m))
        if canonical != apply_coef(c, m):
            del st.terms[m]
            sum_terms(canonical, 1.0, st)
    if st.has_c:
        st.const = 0.0


def _merge_logs(eng, st: SumState) -> list[tuple]:
    """Sums with logarithms spelled with fewer logs, best first on ties: added logs merged into one and subtracted
    ones into another (``log a + log b - log c -> log(a*b) - log c``), then all into one (``log(a*b/c)``).
    ``k*log(a) -> log(a**k)`` for small integers k: defined wherever the left side is."""
    logs = [(m, c) for m, c in st.terms.items() if m[0] == "log" and c is not None and c != 0 and c == int(c)
            and abs(c) <= 5]
    if len(logs) < 2:
        return []
    pos = [(m, c) for m, c in logs if c > 0]
    neg = [(m, -c) for m, c in logs if c < 0]
    out = []
    if len(pos) > 1 or len(neg) > 1:
        out.append(_with_logs(eng, st, logs, [(pos, 1.0), (neg, -1.0)]))
    out.append(_with_logs(eng, st, logs, [(logs, 1.0)]))
    return [t for t in out if t is not None]


def _with_logs(eng, st: SumState, logs: list, groups: list) -> tuple | None:
    rest = SumState(eng.has_c)
    drop = {m for m, _ in logs}
    rest.terms = {m: c for m, c in st.terms.items() if m not in drop}
    rest.const, rest.has_c = st.const, st.has_c
    try:
        for members, sign in groups:
            if len(members) == 1 and abs(members[0][1]) != 1:
                sum_terms(members[0][0], sign * members[0][1], rest)
                continue
            if not members:
                continue
            ps = ProductState(eng)
            for m, c in members:
                factors(eng, m[1], int(c), ps)
            sum_terms(eng.node("log", (finish(eng, ps),)), sign, rest)
    except (ZeroDivisionError, OverflowError, Unprintable):
        return None
    return sum_from_state(eng, rest)
