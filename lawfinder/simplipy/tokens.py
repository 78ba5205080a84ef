"""Prefix token lists: classifying tokens, validating them with errors that name the token and position, reading
SimpliPy's native spellings, and converting to and from nested-tuple trees.

A tree is ``(token,)`` for a leaf and ``(token, child, ...)`` for an operator; trees are hashable and compare by
value, which the printers and the simplifier rely on.
"""

from __future__ import annotations

import math
import re
import sys
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable, Sequence

from .operators import ALIASES, CONSTANT, NAMED_NUMBERS, NUMBER_ALIASES, OPERATORS, derived

Tree = tuple

# Deepest expression tree (operators on the longest root-to-leaf path) that parsing, printing, compiling and
# simplifying accept. The tree code recurses about two Python frames per level; 256 leaves room under Python's
# default limit of 1,000 and is far beyond any formula the model writes (a 200-term sum is 199 deep).
MAX_DEPTH = 256
# A flat sum or product is one level of nesting, but a binary tree as deep as it has terms, and the walkers that
# recurse (the simplifier's builders, SymPy's printers) take a level per term. Binary levels in all: what they were
# measured to take with room to spare (sums and products of 800 terms pass every path; 1,600 overflowed the C
# stack on the 2-core box).
MAX_LEVELS = 1000

_VARIABLE = re.compile(r"x([1-9][0-9]*)\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


# Answers are remembered per token (lru_cache): the generator and the tokenizer ask about every token of every
# skeleton, from a small vocabulary, and a cache hit costs a fraction of a regular-expression match.
@lru_cache(maxsize=1 << 16)
def is_variable(token: str) -> bool:
    return _VARIABLE.match(token) is not None


@lru_cache(maxsize=1 << 16)
def variable_index(token: str) -> int:
    """Zero-based column of a variable token (``x1`` -> 0)."""
    return int(token[1:]) - 1


def variable_name(token: str, names: Sequence[str]) -> str:
    """``names[i]`` for ``x{i+1}``; a ValueError naming the variable when there is no such name."""
    i = variable_index(token)
    if i >= len(names):
        raise ValueError(f"unknown variable {token}: only {len(names)} variable name(s) are known "
                         f"({', '.join(map(str, names[:8]))}{', ...' if len(names) > 8 else ''})")
    return names[i]


@lru_cache(maxsize=1 << 16)
def is_number(token: str) -> bool:
    return token in NAMED_NUMBERS or _NUMBER.match(token) is not None


def number_value(token: str) -> float:
    return NAMED_NUMBERS[token] if token in NAMED_NUMBERS else float(token)


def format_number(value: float) -> str:
    """Canonical literal token for a number: integers without a point, others by ``repr``."""
    value = float(value)
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def is_leaf(token: str) -> bool:
    return token == CONSTANT or is_variable(token) or is_number(token)


def arity(token: str) -> int:
    op = OPERATORS.get(token)
    return op.arity if op is not None else 0


def open_operators(tokens: Sequence[str]):
    """Each token of a prefix list with the operators still open above it, without recursion: yields ``(token,
    path)``, ``path`` a list of ``[operator, operands still missing]``, outermost first (the walk's own list: read it,
    do not keep it). Unknown tokens count as leaves. The one stack walk behind ``depth``, ``nesting`` and the
    constraints' nesting check."""
    path: list[list] = []
    for t in tokens:
        yield t, path
        n = _ARITY.get(t, 0) if isinstance(t, str) else 0
        if n:
            path.append([t, n])
            continue
        while path:
            path[-1][1] -= 1
            if path[-1][1]:
                break
            path.pop()


def subtree_end(tokens: Sequence[str], start: int) -> int | None:
    """The index just past the subtree that begins at ``start`` of a prefix list (in prefix notation every token
    begins one), or None when the list ends before that subtree does. Unknown tokens count as leaves."""
    need = 1
    for i in range(start, len(tokens)):
        need += _ARITY.get(tokens[i], 0) - 1
        if need == 0:
            return i + 1
    return None


def depth(tokens: Sequence[str]) -> int:
    """Operators on the longest root-to-leaf path of a prefix list (0 for a leaf). Unknown tokens count as leaves;
    ``validate`` reports them."""
    return max((len(path) + 1 for t, path in open_operators(tokens) if isinstance(t, str) and _ARITY.get(t)),
               default=0)


_FAMILY = {"+": "+", "-": "+", "*": "*", "/": "*"}


def nesting(tokens: Sequence[str]) -> int:
    """Real nesting: ``depth`` where a sum or product does not nest in the sum or product it continues. The parser
    writes ``a + b + c`` as ``+ + a b c``, so a flat sum of 300 terms is 299 operators deep but one level of
    nesting; an operand of ``+``/``-`` that is itself ``+``/``-`` (and of ``*``/``/``, ``*``/``/``) adds no level
    when it is the left one, or the right one of ``+`` or ``*`` (``a - (b - c)`` does add one: that is brackets)."""
    deepest = 0
    levels: list[int] = []  # the level of each open operator on the path
    for t, path in open_operators(tokens):
        del levels[len(path):]
        n = _ARITY.get(t, 0) if isinstance(t, str) else 0
        if not n:
            continue
        level = 1
        if path:
            parent, missing = path[-1]
            position = _ARITY[parent] - missing   # 0 = left operand
            same = n == 2 and _FAMILY.get(t) is not None and _FAMILY.get(t) == _FAMILY.get(parent)
            continues = same and (position == 0 or parent in ("+", "*"))
            level = max(levels[-1] if continues else levels[-1] + 1, 1)
        levels.append(level)
        deepest = max(deepest, level)
    return deepest


def check_depth(tokens: Sequence[str]) -> None:
    """A ValueError naming the limit when ``tokens`` is nested deeper than ``MAX_DEPTH`` (real nesting: a flat sum
    or product counts once) or deeper than ``MAX_LEVELS`` operators in all (a sum of 1,000 terms); free for short
    lists."""
    if len(tokens) > MAX_DEPTH:
        d = nesting(tokens)
        if d > MAX_DEPTH:
            raise ValueError(f"the expression is nested {d} levels deep; the maximum depth is {MAX_DEPTH}")
        levels = depth(tokens)
        if levels > MAX_LEVELS:
            raise ValueError(f"the expression is {levels} operators deep (a sum or product of about that many "
                             f"terms); the maximum is {MAX_LEVELS}")


@contextmanager
def deep_recursion(frames_per_level: int = 20, levels: int = MAX_DEPTH):
    """Room for ``levels`` levels (default ``MAX_DEPTH``) of code that recurses several frames per level (a
    recursive-descent parser, SymPy's printers, the simplifier's builders); restores Python's limit afterwards.
    A flat sum is one level of nesting but as many levels of a binary tree as it has terms: pass ``depth(tokens)``."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, frames_per_level * max(levels, MAX_DEPTH) + 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def substitute_constants(skeleton: Sequence[str], constants: Sequence[float] | None) -> list[str]:
    """The skeleton with its ``<constant>`` placeholders replaced by the values, as number tokens (integers spelled
    as integers), in order of appearance: the one way a fitted or drawn formula gets its numbers."""
    values = iter(() if constants is None else constants)
    return [format_number(next(values)) if t == CONSTANT else t for t in skeleton]


def room_for(tokens: Sequence[str], frames_per_level: int = 8):
    """``deep_recursion`` sized for ``tokens`` when they are long (a sum or product of many terms recurses once per
    term in the walkers that recurse), else nothing: a context manager either way."""
    from contextlib import nullcontext

    return deep_recursion(frames_per_level, depth(tokens)) if len(tokens) > MAX_DEPTH else nullcontext()


# Every operator spelling a token list may hold on input (aliases, SimpliPy's ``rootn``) and its arity.
SPELLING_ARITY = derived(lambda ops: {op.name: op.arity for op in ops} | {alias: 1 for alias in ALIASES} | {"rootn": 2})
_ARITY = SPELLING_ARITY


def _native_power(tokens: Sequence[str], start: int) -> tuple[list[str], int]:
    """Read one subtree at ``start``, rewriting SimpliPy's ``pow E n`` / ``rootn E n`` and aliases as it goes."""
    if start >= len(tokens):
        raise ValueError(f"expression ended at position {start} where an operand was expected")
    token = tokens[start]
    token = ALIASES.get(token, token)
    token = NUMBER_ALIASES.get(token, token)
    if token in ("pow", "rootn"):
        base, end = _native_power(tokens, start + 1)
        exponent, stop = _native_power(tokens, end)
        if token == "pow":
            return power_spelling(base, exponent), stop
        degree = float(exponent[0]) if len(exponent) == 1 and _NUMBER.match(exponent[0]) else None
        if degree is None or degree not in (1, 2, 3, 4, 5):
            raise ValueError(
                f"'rootn' at position {start} needs a literal integer degree 1..5, got {' '.join(exponent)!r}")
        return (base if degree == 1 else [f"pow1_{int(degree)}", *base]), stop
    if token in OPERATORS:
        out = [token]
        end = start + 1
        for _ in range(OPERATORS[token].arity):
            if end >= len(tokens):
                raise ValueError(
                    f"operator {token!r} at position {start} expects {OPERATORS[token].arity} operands, "
                    f"but the expression ended at position {end}")
            child, end = _native_power(tokens, end)
            out.extend(child)
        return out, end
    if is_leaf(token):
        return [token], start + 1
    raise ValueError(f"unknown token {tokens[start]!r} at position {start}")


# Exponents that have a unary spelling; ``x**1`` is plain ``x``.
def _unary_powers(ops) -> dict:
    """Exponent literal (``(2.0,)``, or ``("/", 1.0, 2.0)`` for 1/2) -> the power token that spells it; only powers a
    float holds exactly (not 1/3: ``x**(1/3)`` is undefined below 0, where ``pow1_3`` is the real root)."""
    out = {}
    for op in ops:
        p = op.power
        if p is not None and p.denominator & (p.denominator - 1) == 0:
            out[(float(p),)] = op.name
            if p.numerator == 1 and p.denominator > 1:
                out[("/", 1.0, float(p.denominator))] = op.name
    return out


_UNARY_POWERS = derived(_unary_powers)


def power_spelling(base: list[str], exponent: list[str]) -> list[str]:
    """Tokens for ``base ** exponent``: a unary power token where the exponent is a literal one covers."""
    key = tuple(float(t) if _NUMBER.match(t) else t for t in exponent)
    if key == (1.0,):
        return base
    unary = _UNARY_POWERS.get(key)
    return [unary, *base] if unary is not None else ["pow", *base, *exponent]


def normalize(tokens: Iterable[str]) -> list[str]:
    """Validate a prefix token list and rewrite accepted spellings to canonical ones.

    Reads SimpliPy's native ``pow E n`` (literal integer n) and ``rootn E n`` as ``powN``/``pow1_N``, ``sqrt`` as
    ``pow1_2``, ``np.pi``/``np.e``/``(-1)`` as ``pi``/``e``/``-1``. Raises ``ValueError`` naming the token and position
    for unknown tokens, missing operands, trailing tokens and empty input.
    """
    tokens = list(tokens)
    if not tokens:
        raise ValueError("empty expression: expected at least one token")
    for i, t in enumerate(tokens):
        if not isinstance(t, str):
            raise ValueError(f"token at position {i} is {type(t).__name__} {t!r}, expected a string")
    check_depth(tokens)
    with room_for(tokens, 4):  # a long sum or product: one recursion level per term
        out, end = _native_power(tokens, 0)
    if end != len(tokens):
        raise ValueError(
            f"trailing tokens after a complete expression, starting at position {end}: {' '.join(tokens[end:])!r}")
    return out


def _operand_text(n: int) -> str:
    return f"{n} operand" if n == 1 else f"{n} operands"


def validate(tokens: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``tokens`` is a complete canonical prefix expression.

    Messages name the offending token and its position: an unknown token, an operator left short of operands, or the
    first trailing token after a complete expression."""
    if not tokens:
        raise ValueError("empty expression: expected at least one token")
    check_depth(tokens)
    open_ops: list[list] = []  # [token, position, operands still missing], innermost last
    for i, t in enumerate(tokens):
        if i > 0 and not open_ops:
            raise ValueError(f"trailing token {t!r} at position {i}: the expression was already complete "
                             f"(trailing: {' '.join(map(str, tokens[i:]))!r})")
        if t in OPERATORS:
            open_ops.append([t, i, OPERATORS[t].arity])
            continue
        if not (isinstance(t, str) and is_leaf(t)):
            raise ValueError(f"unknown token {t!r} at position {i}")
        while open_ops:
            open_ops[-1][2] -= 1
            if open_ops[-1][2]:
                break
            open_ops.pop()
    if open_ops:
        t, i, missing = open_ops[-1]
        need = OPERATORS[t].arity
        raise ValueError(f"operator {t!r} at position {i} takes {_operand_text(need)} but the expression ends after "
                         f"{need - missing}")


def to_tree(tokens: Sequence[str], as_written: bool = False) -> Tree:
    """Prefix tokens -> nested tuples. Accepts native spellings (see ``normalize``), unless ``as_written``: then the
    tokens must already be canonical (``validate``) and keep their spelling (``pow x1 2`` is not respelled ``pow2``)."""
    if as_written:
        validate(tokens)
        tokens = list(tokens)
    else:
        tokens = normalize(tokens)
    pos = 0

    def build() -> Tree:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        n = arity(token)
        if n == 0:
            return (token,)
        return (token, *(build() for _ in range(n)))

    with room_for(tokens, 4):  # a long sum or product: one recursion level per term
        return build()


def from_tree(tree: Tree) -> list[str]:
    out: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node[0])
        stack.extend(reversed(node[1:]))
    return out


def variables(tokens: Sequence[str]) -> list[str]:
    """Distinct variables in order of their index (``x1`` before ``x2``)."""
    return sorted({t for t in tokens if is_variable(t)}, key=variable_index)


def n_constants(tokens: Sequence[str]) -> int:
    return sum(1 for t in tokens if t == CONSTANT)
