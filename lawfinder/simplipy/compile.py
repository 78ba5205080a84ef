"""Prefix tokens -> a vectorised numpy function ``f(X, constants)``.

The expression is turned into one line of Python source over numpy calls and compiled once, so evaluating it on many
points costs a handful of numpy calls and no per-node Python dispatch. Compiled functions are cached by their tokens.
Domain errors (``log(-1)``, ``sqrt(-1)``, ``0/0``) give NaN or inf silently, never warnings or exceptions.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from .operators import CONSTANT, OPERATORS, derived
from .interpret import evaluate as interpret
from .tokens import depth, is_variable, normalize, number_value, variable_index

_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/"}
_NAMESPACE = derived(lambda ops: {f"_f{i}": op.numpy for i, op in enumerate(ops)} | {"_F": np.float64})
_FUNC_NAME = derived(lambda ops: {op.name: f"_f{i}" for i, op in enumerate(ops)})


def _source(tokens: Sequence[str]) -> tuple[str, int, int]:
    """Python source of the expression over ``X`` (columns) and ``C`` (constants); also #constants and #columns."""
    stack: list[str] = []
    n_constants = sum(1 for t in tokens if t == CONSTANT)
    next_constant = n_constants
    n_columns = 0
    # Walk the prefix list backwards: operands are on the stack when their operator arrives.
    for token in reversed(tokens):
        op = OPERATORS.get(token)
        if op is None:
            if token == CONSTANT:
                next_constant -= 1
                stack.append(f"C[{next_constant}]")
            elif is_variable(token):
                column = variable_index(token)
                n_columns = max(n_columns, column + 1)
                stack.append(f"X[:, {column}]")
            else:
                # A numpy scalar, not a Python float: literal-only subtrees (1 / (1 - 1)) must give inf/NaN like
                # the rest of the expression instead of raising ZeroDivisionError.
                stack.append(f"_F({number_value(token)!r})")
            continue
        args = [stack.pop() for _ in range(op.arity)]
        if token in _INFIX:
            stack.append(f"({args[0]} {_INFIX[token]} {args[1]})")
        else:
            stack.append(f"{_FUNC_NAME[token]}({', '.join(args)})")
    return stack[0], n_constants, n_columns


# Python's parser refuses source nested more than 200 brackets deep; deeper trees are interpreted instead.
_COMPILE_DEPTH = 90


def _interpreted(tokens: tuple[str, ...]) -> tuple[Callable, int, int]:
    n_columns = max((variable_index(t) + 1 for t in tokens if is_variable(t)), default=0)
    n_constants = sum(1 for t in tokens if t == CONSTANT)
    return (lambda X, C: interpret(tokens, X.T, list(C))), n_constants, n_columns


@lru_cache(maxsize=16384)
def _compiled(tokens: tuple[str, ...]) -> tuple[Callable, int, int]:
    if len(tokens) > _COMPILE_DEPTH and depth(tokens) > _COMPILE_DEPTH:
        return _interpreted(tokens)
    source, n_constants, n_columns = _source(tokens)
    code = compile(f"lambda X, C: {source}", "<lawfinder expression>", "eval")
    return eval(code, dict(_NAMESPACE)), n_constants, n_columns


class CompiledExpression:
    """A callable ``f(X, constants=())`` -> ``y`` of shape ``(n,)`` for ``X`` of shape ``(n, d)``."""

    def __init__(self, tokens: Sequence[str], dtype=np.float64):
        self.tokens = tuple(normalize(tokens))
        self.dtype = np.dtype(dtype)
        self._f, self.n_constants, self.n_columns = _compiled(self.tokens)

    def __call__(self, X, constants=()) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise ValueError(f"X must have shape (n_points, n_variables), got shape {X.shape}")
        if X.shape[1] < self.n_columns:
            raise ValueError(f"the expression uses x{self.n_columns} but X has only {X.shape[1]} column(s)")
        C = np.asarray(constants, dtype=self.dtype).reshape(-1)
        if C.shape[0] != self.n_constants:
            raise ValueError(f"the expression has {self.n_constants} <constant> placeholder(s), "
                             f"got {C.shape[0]} value(s)")
        with np.errstate(all="ignore"):
            y = self._f(X, C)
            # Constant subexpressions come out as scalars: give every point its value.
            return np.broadcast_to(np.asarray(y, dtype=self.dtype), (X.shape[0],)).copy()

    def __repr__(self) -> str:
        return f"CompiledExpression({' '.join(self.tokens)!r})"


def compile_expression(tokens: Sequence[str], dtype=np.float64) -> CompiledExpression:
    """Prefix tokens -> vectorised numpy callable ``f(X, constants)``; ``<constant>``s bind in order."""
    return CompiledExpression(tokens, dtype)
