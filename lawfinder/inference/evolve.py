"""Evolution of the best formulas so far: random mutations and crossovers, the way genetic programming searches.

The model proposes whole formulas; what it never writes, it never finds, however long the search runs. From the
second round of the anytime search on, ``offspring`` also takes the best formulas found so far and changes each a
little: an operator swapped for another of the same arity, a leaf for another leaf, a subtree wrapped in an operator
(``s -> cos(s)``, ``s -> C - s``, ``s -> s * x2``), a subtree replaced by one of its children, by a leaf or by a small
random tree, a term added (``s -> s + C * x5 * x6``), and a subtree of one parent put in place of a subtree of
another. The children go through the same simplify -> fit -> rank path as the model's proposals, so a child that
fits better becomes a parent in the next round: a hill climb from the model's answers that keeps going while time
remains (docs/results.md measures what it adds).

Everything here is pure: prefix token lists in, prefix token lists out, a ``numpy.random.Generator`` for the
choices. Tokens a user's constraints rule out are never written (``allows``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..simplipy import CONSTANT
from ..simplipy.tokens import arity, subtree_end

# The operators mutations write, with how often: the unary ones physics laws are made of come first (squares, roots,
# inverses, trigonometric and exponential functions), the rest of the vocabulary rarely. ``-`` and ``/`` make
# ``C - s`` and ``s / x``; ``pow`` is left to the model (a fitted exponent on a subtree is rarely what a law holds).
UNARY_WEIGHTS = {"pow2": 3.0, "pow1_2": 3.0, "inv": 3.0, "sin": 2.0, "cos": 2.0, "exp": 2.0, "log": 2.0,
                 "neg": 1.0, "pow3": 1.0, "tan": 0.5, "tanh": 0.5, "abs": 0.25, "pow1_3": 0.5, "asin": 0.25,
                 "acos": 0.25, "atan": 0.25, "sinh": 0.25, "cosh": 0.25, "asinh": 0.25, "acosh": 0.25,
                 "atanh": 0.25, "pow4": 0.25, "pow1_4": 0.25}
BINARY_WEIGHTS = {"+": 3.0, "*": 3.0, "-": 2.0, "/": 2.0}
MAX_CHILD_LENGTH = 40   # tokens; longer children are dropped (the model itself writes at most 64)
STEPS = (0.6, 0.3, 0.1)  # how often a child is one, two or three changes away from its parent


@dataclass(frozen=True)
class Vocabulary:
    """What mutations may write: the variables ``x1..x{n_variables}``, the free constant, and the operators that
    ``allows`` (the user's constraints; every operator when None), with their weights."""
    n_variables: int
    allows: Callable[[str], bool] | None = None

    def _pick(self, weights: dict, rng: np.random.Generator) -> str | None:
        names = [t for t in weights if self.allows is None or self.allows(t)]
        if not names:
            return None
        p = np.array([weights[t] for t in names])
        return names[int(rng.choice(len(names), p=p / p.sum()))]

    def unary(self, rng: np.random.Generator) -> str | None:
        return self._pick(UNARY_WEIGHTS, rng)

    def binary(self, rng: np.random.Generator) -> str | None:
        return self._pick(BINARY_WEIGHTS, rng)

    def leaf(self, rng: np.random.Generator) -> str:
        """A variable (two times in three) or the free constant."""
        if rng.random() < 1 / 3:
            return CONSTANT
        return f"x{int(rng.integers(self.n_variables)) + 1}"

    def small_tree(self, rng: np.random.Generator, depth: int = 2) -> list[str]:
        """A random tree at most ``depth`` operators deep (a leaf, ``u(leaf)``, ``leaf op leaf``, ...)."""
        if depth <= 0 or rng.random() < 0.3:
            return [self.leaf(rng)]
        if rng.random() < 0.4:
            op = self.unary(rng)
            if op is not None:
                return [op, *self.small_tree(rng, depth - 1)]
        op = self.binary(rng)
        if op is None:
            return [self.leaf(rng)]
        return [op, *self.small_tree(rng, depth - 1), *self.small_tree(rng, depth - 1)]


def _span(tokens: Sequence[str], rng: np.random.Generator) -> tuple[int, int]:
    """A random subtree of ``tokens``: its (start, end)."""
    start = int(rng.integers(len(tokens)))
    return start, subtree_end(tokens, start)


def _put(tokens: Sequence[str], start: int, end: int, new: Sequence[str]) -> list[str]:
    return [*tokens[:start], *new, *tokens[end:]]


def point(tokens: Sequence[str], vocab: Vocabulary, rng: np.random.Generator) -> list[str] | None:
    """One token replaced by another of the same arity: ``sin -> cos``, ``+ -> *``, ``x1 -> x3``, ``x2 -> C``."""
    i = int(rng.integers(len(tokens)))
    n = arity(tokens[i])
    new = vocab.leaf(rng) if n == 0 else vocab.unary(rng) if n == 1 else vocab.binary(rng)
    if new is None or new == tokens[i]:
        return None
    return _put(tokens, i, i + 1, [new])


def wrap(tokens: Sequence[str], vocab: Vocabulary, rng: np.random.Generator) -> list[str] | None:
    """A subtree ``s`` put inside an operator: ``u(s)``, or ``s op t`` / ``t op s`` with ``t`` a leaf (half the
    time), a new term one operator deep (``s -> s + x5 * x6``) or another subtree of the same formula
    (``x4 -> x4 * cos(x2 * x3)`` where the formula has that cosine)."""
    start, end = _span(tokens, rng)
    s = list(tokens[start:end])
    if rng.random() < 0.4:
        op = vocab.unary(rng)
        return None if op is None else _put(tokens, start, end, [op, *s])
    op = vocab.binary(rng)
    if op is None:
        return None
    pick = rng.random()
    if pick < 0.25:
        a, b = _span(tokens, rng)
        t = list(tokens[a:b])
    elif pick < 0.5:
        t = vocab.small_tree(rng, depth=1)
    else:
        t = [vocab.leaf(rng)]
    return _put(tokens, start, end, [op, *s, *t] if rng.random() < 0.5 else [op, *t, *s])


def shrink(tokens: Sequence[str], vocab: Vocabulary, rng: np.random.Generator) -> list[str] | None:
    """A subtree replaced by one of its operands (``cos(s) -> s``, ``a + b -> a``) or by a leaf."""
    start, end = _span(tokens, rng)
    if arity(tokens[start]) == 0:
        return None
    if rng.random() < 0.25:
        return _put(tokens, start, end, [vocab.leaf(rng)])
    operands, i = [], start + 1
    while i < end:
        j = subtree_end(tokens, i)
        operands.append((i, j))
        i = j
    a, b = operands[int(rng.integers(len(operands)))]
    return _put(tokens, start, end, tokens[a:b])


def regrow(tokens: Sequence[str], vocab: Vocabulary, rng: np.random.Generator) -> list[str] | None:
    """A subtree replaced by a small random tree."""
    start, end = _span(tokens, rng)
    return _put(tokens, start, end, vocab.small_tree(rng))


def extend(tokens: Sequence[str], vocab: Vocabulary, rng: np.random.Generator) -> list[str] | None:
    """A term added to the formula (half the time) or to one of its subtrees: ``s -> s + C * t`` or ``s -> s * t``,
    ``t`` a variable or a product or quotient of two (``x1 * x2 + x3 * x4 -> ... + C * x5 * x6``). The new constant
    is fitted with the others; a sum of products or a law with one more factor grows a term at a time."""
    start, end = (0, len(tokens)) if rng.random() < 0.5 else _span(tokens, rng)
    t = [f"x{int(rng.integers(vocab.n_variables)) + 1}"]
    if rng.random() < 0.5:
        op = "*" if rng.random() < 0.7 else "/"
        t = [op, *t, f"x{int(rng.integers(vocab.n_variables)) + 1}"]
    if rng.random() < 0.6:
        new = ["+", *tokens[start:end], "*", CONSTANT, *t]
    else:
        new = ["*", *tokens[start:end], *t]
    return _put(tokens, start, end, new)


def crossover(tokens: Sequence[str], other: Sequence[str], rng: np.random.Generator) -> list[str] | None:
    """A subtree of ``tokens`` replaced by a random subtree of ``other``."""
    start, end = _span(tokens, rng)
    a, b = _span(other, rng)
    return _put(tokens, start, end, other[a:b])


MUTATIONS = (point, wrap, shrink, regrow, extend)


def offspring(parents: Sequence[Sequence[str]], n: int, vocab: Vocabulary, rng: np.random.Generator,
              max_length: int = MAX_CHILD_LENGTH) -> list[list[str]]:
    """``n`` children of ``parents`` (best first: the better a parent, the more children it gets, weights 1/rank),
    each made by one to three changes (``STEPS``): mutations, the first a crossover with another parent one time in
    five.
    Children equal to a parent, longer than ``max_length`` or with a token ``vocab`` does not allow are left out,
    so fewer than ``n`` may come back."""
    parents = [list(p) for p in parents if len(p) > 0]
    if not parents or n < 1:
        return []
    weights = 1.0 / np.arange(1, len(parents) + 1)
    weights /= weights.sum()
    known = {tuple(p) for p in parents}
    out: list[list[str]] = []
    for _ in range(n):
        child: list[str] | None = parents[int(rng.choice(len(parents), p=weights))]
        steps = 1 + int(rng.choice(3, p=STEPS))
        if len(parents) > 1 and rng.random() < 0.2:
            child = crossover(child, parents[int(rng.integers(len(parents)))], rng)
            steps -= 1
        for _ in range(steps):
            if child is None:
                break
            child = MUTATIONS[int(rng.integers(len(MUTATIONS)))](child, vocab, rng) or child
        if child is None or len(child) > max_length or tuple(child) in known:
            continue
        if vocab.allows is not None and not all(vocab.allows(t) for t in child):
            continue
        out.append(child)
    return out
