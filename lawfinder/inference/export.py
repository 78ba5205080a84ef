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

from ..simplipy.operators import (CONSTANT, NAMED_NUMBERS, OPERATORS, PREC_ADD, PREC_ATOM, PREC_MUL, PREC_NEG,
                                   PREC_POW, Operator, derived)
from ..simplipy.tokens import is_variable, number_value, variable_index

_BINARY = {"+": (" + ", PREC_ADD), "-": (" - ", PREC_ADD), "*": (" * ", PREC_MUL), "/": (" / ", PREC_MUL)}


def _integer_power(op: Operator) -> bool:
    return op.power is not None and op.power.denominator == 1


def _call_name(op: Operator) -> str | None:
    """The function the Python text calls for a unary operator: numpy's name (``arcsin``), or the record's own name
    for one numpy lacks; None for those written with operators (integer powers, roots without a numpy name, neg,
    scalings)."""
    if op.arity != 1 or op.name == "neg" or op.scale is not None or _integer_power(op):
        return None
    if op.array_name is not None:
        return op.array_name
    return None if op.power is not None else op.name


# Names a column may not take in Python text: what the text itself calls, and numpy's constants.
_RESERVED = derived(lambda ops: {name for name in map(_call_name, ops) if name}
                    | {"sign", "C", "pi", "e", "inf", "nan", "numpy", "np"})


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


def _unary_text(op: Operator, arg: tuple[str, int]) -> tuple[str, int]:
    """A unary operator other than neg applied to ``arg`` (text, precedence), from its record."""
    name = _call_name(op)
    if name is not None:
        return f"{name}({arg[0]})", PREC_ATOM
    if op.scale is not None:
        if op.scale.denominator == 1:
            return f"{op.scale.numerator} * {_wrap(arg, PREC_MUL + 1)}", PREC_MUL
        return f"{_wrap(arg, PREC_MUL)} / {op.scale.denominator}", PREC_MUL
    if op.power == -1:
        return f"1 / {_wrap(arg, PREC_MUL + 1)}", PREC_MUL
    if _integer_power(op):
        return f"{_wrap(arg, PREC_POW + 1)}**{op.power.numerator}", PREC_POW
    if op.power.denominator % 2:  # a sign-keeping real odd root
        return f"sign({arg[0]}) * abs({arg[0]})**{float(op.power):g}", PREC_MUL
    return f"{_wrap(arg, PREC_POW + 1)}**{float(op.power):g}", PREC_POW


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
        elif op.arity == 2:  # a registered binary operator: a call
            stack.append((f"{op.array_name or op.name}({args[0][0]}, {args[1][0]})", PREC_ATOM))
        else:
            stack.append(_unary_text(op, args[0]))
    return stack[0][0]


def _array_op(op: Operator, module: Any) -> Callable:
    """One operator over ``module``'s arrays (numpy, ``jax.numpy`` or torch): the module's function of the record's
    ``array_name`` where it has one, else the power or scaling the record says it is, else the record's numpy
    function (numpy arrays only)."""
    named = getattr(module, op.array_name, None) if op.array_name else None
    if named is not None:
        return named
    if op.scale is not None:
        k = float(op.scale)
        return (lambda a: k * a) if op.scale.denominator == 1 else (lambda a: a / float(op.scale.denominator))
    if op.power is not None:
        if op.power == -1:
            return lambda a: 1.0 / a
        if _integer_power(op):
            return lambda a, k=op.power.numerator: a**k
        p = float(op.power)
        if op.power.denominator % 2:  # a sign-keeping real odd root
            return lambda a: module.sign(a) * module.abs(a) ** p
        return lambda a: a**p
    return op.numpy


def _array_table(module: Any, structural: dict[str, Callable]) -> dict[str, Callable]:
    """Operator name -> function over ``module``'s arrays, for every record (``structural`` for + - * / pow neg)."""
    table = {op.name: _array_op(op, module) for op in OPERATORS.values() if op.name not in structural}
    return table | structural


def _numpy_like(xp: Any) -> dict[str, Callable]:
    """Operator name -> function of a module with numpy's names (numpy itself, ``jax.numpy``)."""
    return _array_table(xp, {"+": xp.add, "-": xp.subtract, "*": xp.multiply, "/": xp.divide, "pow": xp.power,
                             "neg": xp.negative})


def _torch_table(torch: Any) -> dict[str, Callable]:
    return _array_table(torch, {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                                "pow": operator.pow, "neg": torch.neg})


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
    table = _numpy_like(xp)
    values = tuple(float(c) for c in constants)
    return lambda X, constants=values: evaluate(skeleton, X, constants, table, xp.asarray)


def torch_module(skeleton: Sequence[str], constants: Sequence[float], names: Sequence[str], expression: str):
    """A ``torch.nn.Module`` computing the formula from an (n, d) tensor; the constants are trainable parameters."""
    import torch

    table = _torch_table(torch)

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
