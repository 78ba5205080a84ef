"""Physical units: parse SI unit strings into base dimensions, and check a candidate formula against them.

A small table, no dependency: the seven SI base units and the derived ones people write (N, J, W, V, Ohm, Hz, Pa, C,
F, T, H, S, Wb), combined with ``*``, ``/``, spaces and integer or fractional powers (``m/s^2``, ``kg*m^2``,
``m s^-2``, ``m^(1/2)``). Prefixes are not read (``km`` is an error): a formula's form does not depend on them.

A formula is checked with its fitted constants dimensionless (level 0: the law holds in any unit system), else
with its linear coefficients (``separable.py``: outer scale, coefficients of a sum) carrying whatever dimension
makes each term match (level 1: one dimensionful scale constant per term, as ``G`` in ``G m1 m2 / r^2``); a formula
that adds unlike quantities or feeds a dimensionful quantity to ``sin``, ``exp`` or ``log`` is inconsistent
(level 2) whatever its constants. Candidates are ranked by level first, then by score.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Sequence

from ..simplipy import CONSTANT
from ..simplipy.operators import ARITY, derived
from ..simplipy.tokens import is_number, is_variable, variable_index
from .fitting.separable import separate

BASE = ("m", "kg", "s", "A", "K", "mol", "cd")
Dims = tuple[Fraction, ...]
DIMENSIONLESS: Dims = (Fraction(0),) * len(BASE)


def _d(**powers: int) -> Dims:
    return tuple(Fraction(powers.get(b, 0)) for b in BASE)


UNITS: dict[str, Dims] = {
    "1": DIMENSIONLESS, "rad": DIMENSIONLESS, "sr": DIMENSIONLESS,
    "m": _d(m=1), "kg": _d(kg=1), "s": _d(s=1), "A": _d(A=1), "K": _d(K=1), "mol": _d(mol=1), "cd": _d(cd=1),
    "g": _d(kg=1),  # same dimension as kg; the factor 1e-3 is a constant the fit absorbs
    "Hz": _d(s=-1), "N": _d(kg=1, m=1, s=-2), "Pa": _d(kg=1, m=-1, s=-2), "J": _d(kg=1, m=2, s=-2),
    "W": _d(kg=1, m=2, s=-3), "C": _d(A=1, s=1), "V": _d(kg=1, m=2, s=-3, A=-1),
    "Ohm": _d(kg=1, m=2, s=-3, A=-2), "ohm": _d(kg=1, m=2, s=-3, A=-2), "Ω": _d(kg=1, m=2, s=-3, A=-2),
    "F": _d(kg=-1, m=-2, s=4, A=2), "S": _d(kg=-1, m=-2, s=3, A=2), "T": _d(kg=1, s=-2, A=-1),
    "Wb": _d(kg=1, m=2, s=-2, A=-1), "H": _d(kg=1, m=2, s=-2, A=-2),
}

_FACTOR = re.compile(r"\s*([A-Za-zΩ1]+)\s*(?:(?:\^|\*\*)\s*(\(?-?\d+(?:/\d+)?\)?))?\s*")


def add(a: Dims, b: Dims) -> Dims:
    return tuple(x + y for x, y in zip(a, b))


def scale(a: Dims, k: Fraction) -> Dims:
    return tuple(x * k for x in a)


def parse_units(text: str) -> Dims:
    """``"m/s^2"`` -> base dimensions; ValueError naming the unknown unit or the unreadable spot."""
    if text is None or not str(text).strip():
        return DIMENSIONLESS
    text = str(text).strip()
    dims, pos, sign = DIMENSIONLESS, 0, 1
    while pos < len(text):
        m = _FACTOR.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read unit {text!r} at position {pos}: expected a unit name such as m, kg, s, "
                             f"N, V or Ohm")
        name, power = m.group(1), m.group(2)
        if name not in UNITS:
            raise ValueError(f"unknown unit {name!r} in {text!r}; known: {', '.join(sorted(UNITS))} (no prefixes)")
        exponent = Fraction(power.strip("()")) if power else Fraction(1)
        dims = add(dims, scale(UNITS[name], sign * exponent))
        pos = m.end()
        sign = 1
        if pos < len(text) and text[pos] in "*/":
            sign = -1 if text[pos] == "/" else 1
            pos += 1
    return dims


def format_dims(dims: Dims) -> str:
    """Base dimensions as a unit string: ``kg*m^2/s^3`` style; ``1`` when dimensionless."""
    num = [f"{b}" if p == 1 else f"{b}^{p}" for b, p in zip(BASE, dims) if p > 0]
    den = [f"{b}" if p == -1 else f"{b}^{-p}" for b, p in zip(BASE, dims) if p < 0]
    text = "*".join(num) or "1"
    return text + ("" if not den else "/" + den[0] if len(den) == 1 else "/(" + "*".join(den) + ")")


class Inconsistent(Exception):
    """The formula adds unlike quantities or applies a function to a dimensionful argument."""


# Each unary operator's rule from its record: the result keeps the argument's dimension (neg, abs, mult2), raises
# it to the operator's power (pow2, inv), or both are dimensionless (sin, exp, and every other).
_SAME = derived(lambda ops: {op.name for op in ops if op.arity == 1 and op.units == "same"})
_POWERS = derived(lambda ops: {op.name: op.power for op in ops if op.arity == 1 and op.units == "power"})


def dims_of(tokens: Sequence[str], x_dims: Sequence[Dims], free: frozenset[int] = frozenset()) -> Dims | None:
    """Dimensions of a prefix formula; ``None`` for a free (any-dimension) result. Constants are dimensionless
    except those whose index (order of appearance) is in ``free``. Raises ``Inconsistent``."""
    stack: list[Dims | None] = []
    counter = sum(1 for t in tokens if t == CONSTANT)
    for t in reversed(list(tokens)):
        if t == CONSTANT:
            counter -= 1
            stack.append(None if counter in free else DIMENSIONLESS)
        elif is_variable(t):
            stack.append(x_dims[variable_index(t)])
        elif is_number(t):
            stack.append(DIMENSIONLESS)
        elif t in ("+", "-"):
            a, b = stack.pop(), stack.pop()
            if a is not None and b is not None and a != b:
                raise Inconsistent(f"{t} of {format_dims(a)} and {format_dims(b)}")
            stack.append(a if a is not None else b)
        elif t in ("*", "/"):
            a, b = stack.pop(), stack.pop()
            stack.append(None if a is None or b is None else add(a, b if t == "*" else scale(b, Fraction(-1))))
        elif t in _SAME:
            stack.append(stack.pop())
        elif t in _POWERS:
            a = stack.pop()
            stack.append(None if a is None else scale(a, _POWERS[t]))
        else:
            args = [stack.pop() for _ in range(ARITY[t])]
            if any(a is not None and a != DIMENSIONLESS for a in args):
                raise Inconsistent(f"{t} of a dimensionful argument")
            stack.append(DIMENSIONLESS)
    return stack[0]


def consistency(skeleton: Sequence[str], x_dims: Sequence[Dims], y_dims: Dims) -> int:
    """0: consistent with dimensionless constants; 1: consistent when the linear coefficients carry dimensions;
    2: inconsistent."""
    try:
        if dims_of(skeleton, x_dims) == y_dims:
            return 0
    except Inconsistent:
        pass
    free = frozenset(lin.constant for lin in separate(skeleton).linear)
    try:
        d = dims_of(skeleton, x_dims, free)
    except Inconsistent:
        return 2
    return 1 if d is None or d == y_dims else 2


LEVELS = {0: "dimensionally consistent (dimensionless constants)",
          1: "dimensionally consistent with dimensionful scale constants",
          2: "dimensionally inconsistent"}


def parse_units_option(text: str, names: Sequence[str]) -> dict[str, str]:
    """``"V=V,I=A,R=Ohm"`` -> ``{"V": "V", ...}``; ValueError naming a column not in ``names`` or a bad pair."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            raise ValueError(f"--units entry {part!r} is not COLUMN=UNIT (e.g. \"V=V,I=A,R=Ohm\")")
        column, unit = (s.strip() for s in part.split("=", 1))
        if column not in names:
            raise ValueError(f"--units names column {column!r}, which the table does not have "
                             f"(columns: {', '.join(names)})")
        parse_units(unit)
        out[column] = unit
    return out


def unit_levels(skeletons: Sequence[Sequence[str]], X_units: Sequence[str] | None, y_units: str | None,
                n_features: int) -> list[int]:
    """``consistency`` of every skeleton; ValueError when ``X_units`` does not give one unit per column.
    A column or target without a unit counts as dimensionless."""
    X_units = [""] * n_features if X_units is None else list(X_units)
    if len(X_units) != n_features:
        raise ValueError(f"X_units gives {len(X_units)} unit(s) but X has {n_features} column(s)")
    x_dims = [parse_units(u) for u in X_units]
    y_dims = parse_units(y_units)
    return [consistency(s, x_dims, y_dims) for s in skeletons]


def describe(level: int, X_units: Sequence[str] | None, y_units: str | None, names: Sequence[str],
             target: str = "y") -> str:
    """One line for the user: the units read and what they say about the best formula."""
    units = ", ".join(f"{n} [{u or '1'}]" for n, u in zip(names, X_units or [""] * len(names)))
    return f"{target} [{y_units or '1'}] = f({units}): {LEVELS[level]}"
