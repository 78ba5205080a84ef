"""Prefix tokens -> LaTeX, from the operator table's templates, with brackets only where precedence needs them."""

from __future__ import annotations

from typing import Sequence

from .operators import CONSTANT, OPERATORS, PREC_ATOM, PREC_NEG
from .tokens import Tree, is_variable, room_for, to_tree, variable_name

_NAMED = {"pi": "\\pi", "e": "e"}


def _leaf(token: str, names: Sequence[str] | None, counter: list[int]) -> str:
    if token == CONSTANT:
        counter[0] += 1
        return f"c_{{{counter[0] - 1}}}"
    if is_variable(token):
        if names is not None:
            name = variable_name(token, names)
            escaped = name.replace("_", "\\_")
            return name if len(name) == 1 else f"\\mathrm{{{escaped}}}"
        return f"x_{{{token[1:]}}}"
    return _NAMED.get(token, token)


def _prec(node: Tree) -> int:
    if len(node) == 1:
        return PREC_NEG if node[0].startswith("-") else PREC_ATOM
    return OPERATORS[node[0]].precedence


def _is_superscript(token: str) -> bool:
    return token == "pow" or (token.startswith("pow") and not token.startswith("pow1_"))


def _latex(node: Tree, names, counter) -> tuple[str, int]:
    if len(node) == 1:
        return _leaf(node[0], names, counter), _prec(node)
    op = OPERATORS[node[0]]
    parts = []
    for i, child in enumerate(node[1:]):
        text, prec = _latex(child, names, counter)
        # Left-associative binaries need brackets on an equal-precedence right operand (a - (b - c)).
        need = prec < op.precedence or (i == 1 and op.arity == 2 and prec == op.precedence and node[0] != "pow")
        if i == 0 and _is_superscript(node[0]):
            # A base that already carries a superscript (e^{x}, x^{2}) gets brackets: (e^{x})^{2}, not e^{x}^{2}.
            need = prec <= op.precedence or (len(child) > 1 and (child[0] == "exp" or _is_superscript(child[0])))
        if op.wrap[i] and need:
            text = f"\\left({text}\\right)"
        parts.append(text)
    return op.latex.format(*parts), op.precedence


def to_latex(tokens: Sequence[str], variable_names: Sequence[str] | None = None) -> str:
    """Prefix tokens -> LaTeX; constants print as ``c_{0}``, ``c_{1}``, .. in order of appearance."""
    with room_for(tokens):
        return _latex(to_tree(tokens), variable_names, [0])[0]
