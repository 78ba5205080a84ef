"""The scaling-laws paper's spelling of expressions: LaTeX tokens with integers written digit by digit.

``latex_tokens`` turns a canonical prefix expression into the token list the ``"latex"`` tokenizer encodes, and
``parse_latex_tokens`` reads such a list back; the two are exact inverses on canonical prefix expressions. The token
syntax (operators and their arity, variables, numbers) is the one of ``operators`` and ``tokens``; this module adds
only the LaTeX spellings.
"""

from __future__ import annotations

import re
from typing import Sequence

from .operators import OPERATORS, derived
from .tokens import is_variable, to_tree, variable_index

# Grammar produced by latex_tokens and read by parse_latex_tokens (brackets only where needed, so the map is 1:1 on
# canonical prefix expressions, i.e. lawfinder.simplipy.normalize output):
#   sum     := product (("+" | "-") product)*                   left-associative
#   product := unary ("\cdot" unary)*                           left-associative
#   unary   := "-" digits          (a negative integer literal, unless "^" follows)
#            | "-" unary           (neg)
#            | power
#   power   := primary ("^" "{" sum "}")*                       x^{2} -> pow2, x^{-1} -> inv, other -> pow
#   primary := digits | "x_{i}" | "\pi" | "e" | "(" sum ")" | "\frac" "{" sum "}" "{" sum "}"
#            | "\sqrt" "{" sum "}" | ("\exp" | "\log" | "\sin" | "\cos" | "\tan") "(" sum ")"

LATEX_MAX_VARIABLES = 9
LATEX_DIGITS = [str(d) for d in range(10)]
LATEX_VARIABLES = [f"x_{{{i}}}" for i in range(1, LATEX_MAX_VARIABLES + 1)]
LATEX_SYMBOLS = ["+", "-", "\\cdot", "\\frac", "\\sqrt", "^", "{", "}", "(", ")", "\\pi", "e"]
# Operators written as a named function, ``\\sin(...)``: those whose record has a LaTeX-vocabulary token.
LATEX_FUNCTIONS = derived(lambda ops: {op.name: op.latex_token for op in ops if op.latex_token is not None})
_LATEX_FUNCTION_OPS = derived(lambda ops: {op.latex_token: op.name for op in ops if op.latex_token is not None})

# Prefix operators with a LaTeX spelling: the binary ones, the powers written as superscripts, sqrt and the functions.
def _latex_power(op) -> bool:
    """Powers the grammar writes as a superscript integer (``x^{2}``, ``x^{-1}``)."""
    return op.power is not None and op.power.denominator == 1 and (op.power >= 2 or op.power == -1)


LATEX_OPERATORS = derived(lambda ops: ["+", "-", "*", "/", "pow", "neg", "pow1_2"] + [
    op.name for op in ops if _latex_power(op) or op.latex_token is not None])

_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
_BINARY = {"+": ("+", _ADD), "-": ("-", _ADD), "*": ("\\cdot", _MUL)}
_POWER_EXPONENT = derived(lambda ops: {op.name: str(int(op.power)) for op in ops if _latex_power(op)})
_EXPONENT_POWER = derived(lambda ops: {str(int(op.power)): op.name for op in ops if _latex_power(op)})
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _check_spelling(tokens: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first token (and its position) that the LaTeX vocabulary cannot spell."""
    for position, token in enumerate(tokens):
        if token == "-0":
            raise ValueError(f"token '-0' at position {position} is not a canonical integer")
        if token in OPERATORS:
            spelled = token in LATEX_OPERATORS
        else:
            spelled = (token in ("pi", "e") or _INTEGER.match(token) is not None
                       or is_variable(token) and variable_index(token) < LATEX_MAX_VARIABLES)
        if not spelled:
            raise ValueError(f"token {token!r} at position {position} has no spelling in the LaTeX vocabulary "
                             f"(supported: integers, pi, e, x1..x{LATEX_MAX_VARIABLES}, {' '.join(LATEX_OPERATORS)})")


def _render(node: tuple) -> tuple[list[str], int]:
    """One subtree -> (LaTeX tokens, precedence)."""
    head = node[0]
    if len(node) == 1:
        if _INTEGER.match(head):
            digits = list(head.lstrip("-"))
            return (["-", *digits], _NEG) if head.startswith("-") else (digits, _ATOM)
        if head in ("pi", "e"):
            return (["\\pi"] if head == "pi" else ["e"]), _ATOM
        return [f"x_{{{head[1:]}}}"], _ATOM
    if head in _BINARY:
        symbol, prec = _BINARY[head]
        left, lp = _render(node[1])
        right, rp = _render(node[2])
        if lp < prec:
            left = ["(", *left, ")"]
        # Equal precedence on the right keeps the tree's shape (a - (b - c)); a leading minus reads better bracketed.
        if rp <= prec or right[0] == "-":
            right = ["(", *right, ")"]
        return [*left, symbol, *right], prec
    if head == "neg":
        inner, ip = _render(node[1])
        # "- 3" would read back as the literal -3, so neg of a digit string keeps its brackets.
        if ip < _NEG or inner[0] == "-" or inner[0] in LATEX_DIGITS and ip == _ATOM and len(node[1]) == 1:
            inner = ["(", *inner, ")"]
        return ["-", *inner], _NEG
    if head == "/":
        num, _ = _render(node[1])
        den, _ = _render(node[2])
        return ["\\frac", "{", *num, "}", "{", *den, "}"], _ATOM
    if head == "pow1_2":
        inner, _ = _render(node[1])
        return ["\\sqrt", "{", *inner, "}"], _ATOM
    if head in LATEX_FUNCTIONS:
        inner, _ = _render(node[1])
        return [LATEX_FUNCTIONS[head], "(", *inner, ")"], _ATOM
    # Powers: pow2..pow5, inv and binary pow.
    base_node = node[1]
    base, bp = _render(base_node)
    exponent = _render(node[2])[0] if head == "pow" else _render((_POWER_EXPONENT[head],))[0]
    # Only plain leaves and bracket-delimited atoms go bare under a superscript; x^{2}^{3} would be ambiguous.
    bare = bp == _ATOM and (len(base_node) == 1 or base_node[0] in LATEX_FUNCTIONS or base_node[0] == "pow1_2")
    if not bare:
        base = ["(", *base, ")"]
    return [*base, "^", "{", *exponent, "}"], _POW


def latex_tokens(prefix_tokens: Sequence[str]) -> list[str]:
    """Prefix expression (integer literals, x1..x9, + - * / neg inv pow* sqrt exp log sin cos tan) -> LaTeX tokens.

    Integers are spelled digit by digit (``-12`` -> ``- 1 2``). Raises ``ValueError`` naming a token that has no
    LaTeX spelling (``<constant>``, ``0.5``, ``abs`` ...)."""
    tokens = list(prefix_tokens)
    tree = to_tree(tokens, as_written=True)  # the structure check: missing operands, trailing tokens
    _check_spelling(tokens)
    return _render(tree)[0]


class _LatexParser:
    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.pos = 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def expect(self, token: str) -> None:
        got = self.peek()
        if got != token:
            where = f"got {got!r}" if got is not None else "the sequence ended"
            raise ValueError(f"expected {token!r} at position {self.pos}, {where}")
        self.pos += 1

    def parse(self) -> list[str]:
        if not self.tokens:
            raise ValueError("empty LaTeX token sequence")
        out = self.sum()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected token {self.tokens[self.pos]!r} at position {self.pos}")
        return out

    def sum(self) -> list[str]:
        out = self.product()
        while self.peek() in ("+", "-"):
            op = self.tokens[self.pos]
            self.pos += 1
            out = [op, *out, *self.product()]
        return out

    def product(self) -> list[str]:
        out = self.unary()
        while self.peek() == "\\cdot":
            self.pos += 1
            out = ["*", *out, *self.unary()]
        return out

    def digits(self) -> str:
        start = self.pos
        while self.peek() in LATEX_DIGITS:
            self.pos += 1
        text = "".join(self.tokens[start:self.pos])
        if len(text) > 1 and text[0] == "0":
            raise ValueError(f"integer with a leading zero at position {start}")
        return text

    def unary(self) -> list[str]:
        if self.peek() != "-":
            return self.power()
        self.pos += 1
        if self.peek() in LATEX_DIGITS:
            save = self.pos
            text = self.digits()
            if self.peek() != "^":
                if text == "0":
                    raise ValueError(f"'- 0' at position {save - 1} is not a canonical integer")
                return ["-" + text]
            self.pos = save  # -3^{2} is -(3^2)
        return ["neg", *self.unary()]

    def power(self) -> list[str]:
        out = self.primary()
        while self.peek() == "^":
            self.pos += 1
            self.expect("{")
            exponent = self.sum()
            self.expect("}")
            out = [_EXPONENT_POWER[exponent[0]], *out] if len(exponent) == 1 and exponent[0] in _EXPONENT_POWER \
                else ["pow", *out, *exponent]
        return out

    def braced(self) -> list[str]:
        self.expect("{")
        out = self.sum()
        self.expect("}")
        return out

    def primary(self) -> list[str]:
        token = self.peek()
        if token is None:
            raise ValueError(f"the sequence ended at position {self.pos} where an operand was expected")
        if token in LATEX_DIGITS:
            return [self.digits()]
        self.pos += 1
        m = re.match(r"x_\{([1-9][0-9]*)\}\Z", token)
        if m:
            return [f"x{m.group(1)}"]
        if token == "\\pi":
            return ["pi"]
        if token == "e":
            return ["e"]
        if token == "(":
            out = self.sum()
            self.expect(")")
            return out
        if token == "\\frac":
            return ["/", *self.braced(), *self.braced()]
        if token == "\\sqrt":
            return ["pow1_2", *self.braced()]
        if token in _LATEX_FUNCTION_OPS:
            self.expect("(")
            out = self.sum()
            self.expect(")")
            return [_LATEX_FUNCTION_OPS[token], *out]
        raise ValueError(f"unexpected token {token!r} at position {self.pos - 1} where an operand was expected")


def parse_latex_tokens(tokens: Sequence[str]) -> list[str]:
    """LaTeX tokens -> prefix tokens; the exact inverse of ``latex_tokens`` on canonical prefix expressions.

    Raises ``ValueError`` naming the position of malformed input (unbalanced brackets, a missing operand, a token
    that is not part of the grammar)."""
    return _LatexParser(tokens).parse()
