"""Infix text: ``parse("1.5*x1*sin(x2)")`` -> prefix tokens, and ``to_infix(tokens)`` back.

The printer's output parses back to the same tokens: unary operators without a common infix spelling print in
function-call form (``inv(x1)``, ``pow1_5(x2)``), ``pow2``..``pow5`` print as ``x**2``.., ``pow1_2`` as ``sqrt(x)``,
``<constant>`` as ``C``. The parser also reads the usual spellings (``^``, ``ln``, ``arcsin``, ``np.sin``).
"""

from __future__ import annotations

import math

import re
from typing import Sequence

from .operators import ALIASES, CONSTANT, OPERATORS, PREC_ADD, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POW
from .tokens import (MAX_DEPTH, Tree, check_depth, deep_recursion, format_number, is_number, is_variable,
                     power_spelling, room_for, to_tree, variable_name)

# Function names people write, mapped to table names.
_FUNCTION_ALIASES = {
    "ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "Abs": "abs", **ALIASES,
}
_PRINT_NAMES = {"pow1_2": "sqrt", "pow1_3": "cbrt"}
_CONSTANT_NAMES = ("C", CONSTANT)

_LEXEME = re.compile(
    r"\s*(?:(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<const><constant>)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?)"
    r"|(?P<op>\*\*|[-+*/^(),]))"
)


# --------------------------------------------------------------------------------------------------------- printing
def _precedence(node: Tree) -> int:
    token = node[0]
    if len(node) == 1:
        return PREC_NEG if token.startswith("-") else PREC_ATOM
    op = OPERATORS[token]
    if op.infix is not None:
        return op.precedence
    if token == "neg":
        return PREC_NEG
    if token in ("pow2", "pow3", "pow4", "pow5"):
        return PREC_POW
    return PREC_ATOM


def _leaf_text(token: str, names: Sequence[str] | None) -> str:
    if token == CONSTANT:
        return "C"
    if names is not None and is_variable(token):
        return variable_name(token, names)
    return token


def _infix(node: Tree, names: Sequence[str] | None) -> str:
    token = node[0]
    if len(node) == 1:
        return _leaf_text(token, names)
    op = OPERATORS[token]
    prec = _precedence(node)

    def wrapped(child: Tree, min_prec: int) -> str:
        text = _infix(child, names)
        return f"({text})" if _precedence(child) < min_prec else text

    if op.infix is not None:
        left, right = node[1], node[2]
        if token == "pow":
            # Right-associative and tighter than unary minus: (-x)**y, x**(y**z) is fine as x**y**z.
            return f"{wrapped(left, PREC_POW + 1)}**{wrapped(right, PREC_POW)}"
        # Left-associative: the right operand of - and / (and of + and * too, to keep the tree) needs brackets
        # when it has the same precedence.
        return f"{wrapped(left, prec)} {op.infix} {wrapped(right, prec + 1)}"
    if token == "neg":
        child = node[1]
        # "-(2)" keeps neg of a literal apart from the literal -2; "-(-x)" avoids "--x".
        if len(child) == 1 and is_number(child[0]) or child[0] == "neg" or (
                len(child) == 1 and child[0].startswith("-")):
            return f"-({_infix(child, names)})"
        return f"-{wrapped(child, PREC_NEG)}"
    if token in ("pow2", "pow3", "pow4", "pow5"):
        return f"{wrapped(node[1], PREC_POW + 1)}**{token[3]}"
    name = _PRINT_NAMES.get(token, token)
    return f"{name}({', '.join(_infix(c, names) for c in node[1:])})"


def to_infix(tokens: Sequence[str], variable_names: Sequence[str] | None = None) -> str:
    """Prefix tokens -> infix text; ``variable_names[i]`` replaces ``x{i+1}`` when given."""
    with room_for(tokens):
        return _infix(to_tree(tokens), variable_names)


# ---------------------------------------------------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, text: str, variables: dict[str, str]):
        self.text = text
        self.variables = variables
        self.lexemes: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _LEXEME.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                bad = len(text) - len(text[pos:].lstrip())
                raise ValueError(f"cannot read {text[bad:bad + 20]!r} at position {bad} of {text!r}")
            kind = m.lastgroup
            self.lexemes.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.lexemes[self.i] if self.i < len(self.lexemes) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        lex = self.peek()
        if lex is None:
            raise ValueError(f"unexpected end of {self.text!r}" + (f": expected {value!r}" if value else ""))
        if value is not None and lex[1] != value:
            raise ValueError(f"expected {value!r} at character {lex[2]} of {self.text!r}, found {lex[1]!r}")
        self.i += 1
        return lex

    def expression(self) -> list[str]:
        left = self.term()
        while (lex := self.peek()) is not None and lex[1] in "+-" and lex[0] == "op":
            self.take()
            left = [lex[1], *left, *self.term()]
        return left

    def term(self) -> list[str]:
        left = self.unary()
        while (lex := self.peek()) is not None and lex[0] == "op" and lex[1] in ("*", "/"):
            self.take()
            left = [lex[1], *left, *self.unary()]
        return left

    def unary(self) -> list[str]:
        lex = self.peek()
        if lex is not None and lex[0] == "op" and lex[1] in "+-":
            self.take()
            nxt = self.peek()
            if lex[1] == "-" and nxt is not None and nxt[0] == "number" and not self._followed_by_power():
                self.take()
                return [format_number(-self._finite(nxt))]
            operand = self.unary()
            return ["neg", *operand] if lex[1] == "-" else operand
        return self.power()

    def _finite(self, lex) -> float:
        """A number literal's value; one beyond float64's range is an error naming it, not an 'inf' token."""
        value = float(lex[1])
        if not math.isfinite(value):
            raise ValueError(f"the number {lex[1]} at character {lex[2]} of {self.text!r} is beyond float64's range "
                             f"(±1.8e308)")
        return value

    def _followed_by_power(self) -> bool:
        nxt = self.lexemes[self.i + 1] if self.i + 1 < len(self.lexemes) else None
        return nxt is not None and nxt[1] in ("**", "^")

    def power(self) -> list[str]:
        base = self.atom()
        lex = self.peek()
        if lex is not None and lex[1] in ("**", "^"):
            self.take()
            exponent = self.unary()
            return power_spelling(base, exponent)
        return base

    def atom(self) -> list[str]:
        kind, value, where = self.take()
        if kind == "number":
            return [format_number(self._finite((kind, value, where)))]
        if kind == "const":
            return [CONSTANT]
        if kind == "op":
            if value == "(":
                inner = self.expression()
                self.take(")")
                return inner
            raise ValueError(f"unexpected {value!r} at character {where} of {self.text!r}")
        # A name: function call, variable, constant.
        nxt = self.peek()
        if nxt is not None and nxt[1] == "(":
            name = value.removeprefix("np.").removeprefix("numpy.").removeprefix("math.")
            name = _FUNCTION_ALIASES.get(name, name)
            if name not in OPERATORS:
                raise ValueError(f"unknown function {value!r} at character {where} of {self.text!r}")
            self.take("(")
            args = [self.expression()]
            while (lex := self.peek()) is not None and lex[1] == ",":
                self.take()
                args.append(self.expression())
            self.take(")")
            if len(args) != OPERATORS[name].arity:
                raise ValueError(f"function {value!r} at character {where} takes {OPERATORS[name].arity} "
                                 f"argument(s), got {len(args)}")
            if name == "pow":
                return power_spelling(args[0], args[1])
            return [name, *(t for a in args for t in a)]
        if value in self.variables:
            return [self.variables[value]]
        if is_variable(value):
            return [value]
        if value in _CONSTANT_NAMES:
            return [CONSTANT]
        named = {"pi": "pi", "np.pi": "pi", "math.pi": "pi", "e": "e", "E": "e", "np.e": "e", "math.e": "e"}
        if value in named:
            return [named[value]]
        raise ValueError(f"unknown name {value!r} at character {where} of {self.text!r}")


def parse(text: str, variables: Sequence[str] | None = None) -> list[str]:
    """Infix text -> prefix tokens.

    ``variables`` optionally names the columns: ``parse("m*a", variables=["m", "a"])`` gives ``["*", "x1", "x2"]``.
    Without it, only ``x1``, ``x2``, ... are variables. ``C`` or ``<constant>`` is a free constant.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a formula as text, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("empty formula")
    mapping = {name: f"x{i + 1}" for i, name in enumerate(variables or ())}
    parser = _Parser(text, mapping)
    # The descent takes about five frames per bracket level: make room for MAX_DEPTH levels, and turn anything
    # deeper (brackets, or chains of unary minus or powers) into the same one-line error as a deep tree.
    try:
        with deep_recursion(8):
            tokens = parser.expression()
    except RecursionError:
        raise ValueError(f"the formula is nested more than {MAX_DEPTH} levels deep; the maximum depth is "
                         f"{MAX_DEPTH}") from None
    if parser.peek() is not None:
        _, value, where = parser.peek()
        raise ValueError(f"unexpected {value!r} at character {where} of {text!r}")
    check_depth(tokens)
    return tokens


__all__ = ["parse", "to_infix", "PREC_ADD", "PREC_MUL"]
