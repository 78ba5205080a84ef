"""Prefix tokens <-> SymPy expressions.

``to_sympy`` builds unevaluated SymPy trees (``evaluate=False``) so that ``from_sympy(to_sympy(t))`` gives ``t``
back. SymPy has no subtraction, division or negation nodes, so three token pairs share one SymPy form and read back
as the first: ``- a b`` / ``+ a neg(b)``, ``/ a b`` / ``* a inv(b)``, ``neg a`` / ``* -1 a``. ``from_sympy`` also
reads evaluated expressions (as SymPy's ``simplify`` returns them), folding n-ary sums and products into binary
tokens.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from .operators import CONSTANT, OPERATORS, SYMPY_NAMED_NUMBERS, derived
from .tokens import Tree, format_number, is_variable, power_spelling, room_for, to_tree, variable_name

# SymPy function class -> operator token, for reading SymPy's own output back.
_FUNCTIONS = derived(lambda ops: {op.sympy_function: op.name for op in ops if op.sympy_function is not None})


def _variable(token: str) -> sp.Symbol:
    return sp.Symbol(token, real=True)


def to_sympy(tokens: Sequence[str], variable_names: Sequence[str] | None = None) -> sp.Expr:
    """Prefix tokens -> an unevaluated SymPy expression.

    Variables become real symbols ``x1``.. (or ``variable_names``); each ``<constant>`` becomes its own real
    symbol ``c0``, ``c1``, .. in order of appearance.
    """
    tree = to_tree(tokens)
    counter = iter(range(10**9))

    def build(node: Tree) -> sp.Expr:
        token = node[0]
        if len(node) == 1:
            if token == CONSTANT:
                return sp.Symbol(f"c{next(counter)}", real=True)
            if is_variable(token):
                if variable_names is not None:
                    return sp.Symbol(variable_name(token, variable_names), real=True)
                return _variable(token)
            if token in SYMPY_NAMED_NUMBERS:
                return SYMPY_NAMED_NUMBERS[token]
            return sp.Integer(int(token)) if token.lstrip("-").isdigit() else sp.Float(float(token))
        return OPERATORS[token].sympy(*(build(c) for c in node[1:]))

    with room_for(tokens, 20):  # SymPy's constructors take several frames per level
        return build(tree)


def _is_minus_one(e: sp.Expr) -> bool:
    return e.is_Number and e == -1


def _fold(op: str, parts: list[list[str]]) -> list[str]:
    out = parts[0]
    for p in parts[1:]:
        out = [op, *out, *p]
    return out


def from_sympy(expr: sp.Expr, variable_names: Sequence[str] | None = None,
               constants: Sequence[sp.Symbol] | None = None) -> list[str]:
    """SymPy expression -> prefix tokens.

    Symbols ``x1``.. (or those named in ``variable_names``) become variables; symbols in ``constants`` (default:
    any symbol named ``c<k>``) become ``<constant>``. Anything else is a ``ValueError`` naming it.
    """
    names = {n: f"x{i + 1}" for i, n in enumerate(variable_names or ())}
    constant_set = set(constants) if constants is not None else None

    def leaf(e: sp.Symbol) -> list[str]:
        if constant_set is not None and e in constant_set:
            return [CONSTANT]
        if e.name in names:
            return [names[e.name]]
        if is_variable(e.name):
            return [e.name]
        if constant_set is None and e.name[:1] == "c" and e.name[1:].isdigit():
            return [CONSTANT]
        raise ValueError(f"unknown symbol {e.name!r} in {expr}")

    def real_root(factors: list[sp.Expr]) -> tuple[list[list[str]], list[sp.Expr]]:
        """Pair sign(a) with Abs(a)**(1/k) (k = 3, 5) into pow1_k(a); return those and the other factors."""
        roots, rest = [], list(factors)
        for s in [f for f in factors if isinstance(f, sp.sign)]:
            for k in (3, 5):
                partner = next((f for f in rest if f.is_Pow and isinstance(f.args[0], sp.Abs)
                                and f.args[0].args[0] == s.args[0] and f.args[1] == sp.Rational(1, k)), None)
                if partner is not None:
                    rest.remove(s)
                    rest.remove(partner)
                    roots.append([f"pow1_{k}", *build(s.args[0])])
                    break
        return roots, rest

    def build(e: sp.Expr) -> list[str]:
        if e.is_Symbol:
            return leaf(e)
        if e is sp.pi:
            return ["pi"]
        if e is sp.E:
            return ["e"]
        if e.is_Integer:
            return [format_number(int(e))]
        if e.is_Rational:
            return ["/", format_number(int(e.p)), format_number(int(e.q))]
        if e.is_Number:
            if not e.is_real:
                raise ValueError(f"complex number {e} has no token")
            return [format_number(float(e))]
        if e.is_Add:
            args = list(e.args)
            out = build(args[0])
            for a in args[1:]:
                negated = _negated(a)
                out = ["-", *out, *build(negated)] if negated is not None else ["+", *out, *build(a)]
            return out
        if e.is_Mul:
            args = list(e.args)
            if len(args) == 2 and _is_minus_one(args[0]) and not e.is_Number:
                return ["neg", *build(args[1])]
            roots, rest = real_root(args)
            numer = [build(a) for a in rest if not _is_reciprocal(a)] + roots
            denom = [build(a.args[0]) if a.args[1] == -1 else build(sp.Pow(a.args[0], -a.args[1], evaluate=False))
                     for a in rest if _is_reciprocal(a)]
            if len(numer) == 1 and numer[0] == ["-1"] and not denom:
                return ["-1"]
            if not numer:
                out = ["inv", *_fold("*", denom)] if len(denom) == 1 else ["/", "1", *_fold("*", denom)]
                return out
            out = _fold("*", numer)
            for d in denom:
                out = ["/", *out, *d]
            return out
        if e.is_Pow:
            base, exponent = e.args
            if base is sp.E:
                return ["exp", *build(exponent)]
            return power_spelling(build(base), build(exponent))
        if isinstance(e, sp.Function) and type(e) in _FUNCTIONS:
            return [_FUNCTIONS[type(e)], *build(e.args[0])]
        if isinstance(e, sp.sign):
            raise ValueError(f"sign() outside a real root has no token: {e}")
        raise ValueError(f"SymPy node {type(e).__name__} ({e}) has no token")

    return build(expr)


def _is_reciprocal(e: sp.Expr) -> bool:
    return e.is_Pow and e.args[1].is_Number and e.args[1] < 0 and e.args[0] is not sp.E


def _negated(e: sp.Expr) -> sp.Expr | None:
    """For a term ``-1*a`` (SymPy's spelling of a subtrahend), return ``a``; else None."""
    if e.is_Mul and len(e.args) >= 2 and _is_minus_one(e.args[0]):
        rest = e.args[1:]
        return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
    return None
