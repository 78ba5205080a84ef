"""A fitted formula in other people's languages: Python/numpy source text, and functions over numpy-like array
modules (numpy, ``jax.numpy``) or a ``torch.nn.Module`` whose constants are trainable parameters.

Every walker here goes over the prefix tokens with an explicit stack (as ``simplipy.compile`` does), so a formula of
any depth prints and evaluates without Python's recursion limit.
"""

from __future__ import annotations

import keyword
import operator
import re
from typing import Any, Callable, Sequence

from ..simplipy.operators import CONSTANT, NAMED_NUMBERS, OPERATORS, PREC_ADD, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POW
from ..simplipy.tokens import is_variable, number_value, variable_index

# numpy names of the functions that print in call form; evaluated with ``from numpy import *`` in scope.
_CALL_NAMES = {
    "abs": "abs", "pow1_2": "sqrt", "pow1_3": "cbrt", "exp": "exp", "log": "log", "sin": "sin", "cos": "cos",
    "tan": "tan", "asin": "arcsin", "acos": "arccos", "atan": "arctan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
}
_BINARY = {"+": (" + ", PREC_ADD), "-": (" - ", PREC_ADD), "*": (" * ", PREC_MUL), "/": (" / ", PREC_MUL)}


# Names a column may not take in Python text: what the text itself calls, and numpy's constants.
_RESERVED = frozenset({*_CALL_NAMES.values(), "sign", "C", "pi", "e", "inf", "nan", "numpy", "np"})


def python_names(names: Sequence[str]) -> tuple[str, ...]:
    """The identifiers that stand for the columns in ``python_text``: a column whose name is a plain identifier keeps
    it; any other name (``mass (kg)``, ``2nd``, ``lambda``, ``sin``, ``__import__('os')``, dunder names) becomes one:
    each run of characters other than letters, digits and ``_`` turns into one ``_``, leading and trailing ``_`` go,
    a name that is then empty or starts with a digit gets ``x_`` in front, a Python keyword or a name the text uses
    itself gets ``_`` behind, and a name already taken gets ``_2``, ``_3``, ... So the text stays valid Python that
    only reads the columns and numpy, whatever the header said."""
    out: list[str] = []
    for name in names:
        name = str(name)
        safe = name
        if not name.isidentifier() or name.startswith("__") or keyword.iskeyword(name) or name in _RESERVED:
            safe = re.sub(r"\W+", "_", name).strip("_")
            if not safe or safe[0].isdigit():
                safe = f"x_{safe}"
            if keyword.iskeyword(safe) or safe in _RESERVED:
                safe += "_"
        base, k = safe, 2
        while safe in out:
            safe, k = f"{base}_{k}", k + 1
        out.append(safe)
    return tuple(out)


def _wrap(item: tuple[str, int], below: int) -> str:
    text, prec = item
    return f"({text})" if prec < below else text


def _leaf(token: str, names: Sequence[str], precision: int | None) -> tuple[str, int]:
    if is_variable(token):
        return names[variable_index(token)], PREC_ATOM
    if token == CONSTANT:
        return "C", PREC_ATOM
    if precision is not None and token not in NAMED_NUMBERS:
        token = f"{float(token):.{precision}g}"
    return token, PREC_NEG if token.startswith("-") else PREC_ATOM


def python_text(tokens: Sequence[str], names: Sequence[str], precision: int | None = None) -> str:
    """Infix Python over numpy's names (``1 / m``, ``x**2``, ``sqrt(x)``, ``arcsin(x)``) that evaluates, with
    ``from numpy import *`` and one array per variable in scope, to the formula's values; numbers are rounded to
    ``precision`` significant digits when given (for display), exact otherwise. Columns are named by
    ``python_names(names)``."""
    names = python_names(names)
    stack: list[tuple[str, int]] = []
    for token in reversed(tokens):
        op = OPERATORS.get(token)
        if op is None:
            stack.append(_leaf(token, names, precision))
            continue
        args = [stack.pop() for _ in range(op.arity)]
        if token in _BINARY:
            symbol, prec = _BINARY[token]
            # Left-associative: an equal-precedence right operand keeps its brackets, so the tree survives.
            stack.append((f"{_wrap(args[0], prec)}{symbol}{_wrap(args[1], prec + 1)}", prec))
        elif token == "pow":
            stack.append((f"{_wrap(args[0], PREC_POW + 1)}**{_wrap(args[1], PREC_ATOM)}", PREC_POW))
        elif token == "neg":
            stack.append((f"-{_wrap(args[0], PREC_POW)}", PREC_NEG))
        elif token == "inv":
            stack.append((f"1 / {_wrap(args[0], PREC_MUL + 1)}", PREC_MUL))
        elif token in ("pow2", "pow3", "pow4", "pow5"):
            stack.append((f"{_wrap(args[0], PREC_POW + 1)}**{token[3]}", PREC_POW))
        elif token == "pow1_4":
            stack.append((f"{_wrap(args[0], PREC_POW + 1)}**0.25", PREC_POW))
        elif token == "pow1_5":  # the sign-keeping real fifth root
            stack.append((f"sign({args[0][0]}) * abs({args[0][0]})**0.2", PREC_MUL))
        elif token.startswith("mult"):
            stack.append((f"{token[4:]} * {_wrap(args[0], PREC_MUL + 1)}", PREC_MUL))
        elif token.startswith("div"):
            stack.append((f"{_wrap(args[0], PREC_MUL)} / {token[3:]}", PREC_MUL))
        else:
            stack.append((f"{_CALL_NAMES[token]}({args[0][0]})", PREC_ATOM))
    return stack[0][0]


def _numpy_like(xp: Any) -> dict[str, Callable]:
    """Operator name -> function of a module with numpy's names (numpy itself, ``jax.numpy``)."""
    def root(k: int) -> Callable:
        return lambda a: xp.sign(a) * xp.abs(a) ** (1.0 / k)

    table = {
        "+": xp.add, "-": xp.subtract, "*": xp.multiply, "/": xp.divide, "pow": xp.power, "neg": xp.negative,
        "inv": lambda a: 1.0 / a, "pow2": xp.square, "pow3": lambda a: a**3, "pow4": lambda a: a**4,
        "pow5": lambda a: a**5, "pow1_3": root(3), "pow1_4": lambda a: a**0.25, "pow1_5": root(5),
    }
    for token, name in _CALL_NAMES.items():
        table.setdefault(token, getattr(xp, name))
    return table


def _torch_table(torch: Any) -> dict[str, Callable]:
    def root(k: int) -> Callable:
        return lambda a: torch.sign(a) * torch.abs(a) ** (1.0 / k)

    table = {
        "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "pow": operator.pow,
        "neg": torch.neg,
        "inv": torch.reciprocal, "pow2": torch.square, "pow3": lambda a: a**3, "pow4": lambda a: a**4,
        "pow5": lambda a: a**5, "pow1_2": torch.sqrt, "pow1_3": root(3), "pow1_4": lambda a: a**0.25,
        "pow1_5": root(5), "abs": torch.abs,
    }
    for token in ("exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
                  "acosh", "atanh"):
        table[token] = getattr(torch, token)
    return table


def _with_scalings(table: dict[str, Callable]) -> dict[str, Callable]:
    for k in range(2, 6):
        table[f"mult{k}"] = lambda a, k=k: k * a
        table[f"div{k}"] = lambda a, k=k: a / k
    return table


def evaluate(skeleton: Sequence[str], X: Any, constants: Sequence[Any], table: dict[str, Callable],
             literal: Callable[[float], Any]) -> Any:
    """The formula's values on the columns of ``X`` (anything indexable as ``X[:, j]``), with ``table``'s functions;
    number literals become ``literal(value)`` (an array scalar, so ``1 / 0`` gives inf like the rest)."""
    stack: list[Any] = []
    next_constant = sum(t == CONSTANT for t in skeleton)
    for token in reversed(skeleton):
        if token in table:
            args = [stack.pop() for _ in range(OPERATORS[token].arity)]
            stack.append(table[token](*args))
        elif token == CONSTANT:
            next_constant -= 1
            stack.append(constants[next_constant])
        elif is_variable(token):
            stack.append(X[:, variable_index(token)])
        else:
            stack.append(literal(number_value(token)))
    result = stack[0]
    # A formula without variables is a constant: one value per row, as for every other formula.
    return result + 0.0 * X[:, 0] if not any(is_variable(t) for t in skeleton) else result


def array_function(skeleton: Sequence[str], constants: Sequence[float], xp: Any) -> Callable:
    """``f(X, constants=fitted)`` over a numpy-like module ``xp`` (``jax.numpy`` for ``Regressor.jax()``, where it is
    jit-able and differentiable in the constants)."""
    table = _with_scalings(_numpy_like(xp))
    values = tuple(float(c) for c in constants)
    return lambda X, constants=values: evaluate(skeleton, X, constants, table, xp.asarray)


def torch_module(skeleton: Sequence[str], constants: Sequence[float], names: Sequence[str], expression: str):
    """A ``torch.nn.Module`` computing the formula from an (n, d) tensor; the constants are trainable parameters."""
    import torch

    table = _with_scalings(_torch_table(torch))

    class SymbolicModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.skeleton = tuple(skeleton)
            self.feature_names = tuple(names)
            self.constants = torch.nn.Parameter(torch.tensor(list(constants), dtype=torch.float64))

        def forward(self, X):  # (n, d) -> (n,)
            return evaluate(self.skeleton, X, self.constants, table, lambda v: torch.tensor(v, dtype=X.dtype))

        def extra_repr(self) -> str:
            return expression

    return SymbolicModule()
