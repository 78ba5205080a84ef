"""The one operator table: each operator is one record, and every other table in lawfinder is derived from these.

A record holds what any part of the code needs to know about an operator: its arity, numpy, scalar and mpmath
functions, SymPy builder, LaTeX template and precedence, and the facts the simplifier, the units check and the model
read (the power or scale it is, its sign and bound, its parity, how it treats units, its LaTeX-vocabulary token,
whether Flash-ANSR's vocabulary has it and its weight in the prior). Modules that want a faster lookup than a record
build their table with ``derived(...)`` from the records; ``register`` and ``unregister`` rebuild every such table in
place, so adding an operator is one ``Operator(...)`` (tests/test_operator_record.py adds a made-up one and checks
that every table knows it). Operator names follow Flash-ANSR's vocabulary (powers spelled as unary tokens such as
``pow2`` and ``pow1_3``), and the records are listed in its vocabulary's order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

# Infix precedence, loosest to tightest. Function-call syntax binds tightest.
PREC_ADD = 1
PREC_MUL = 2
PREC_NEG = 3
PREC_POW = 4
PREC_ATOM = 5

CONSTANT = "<constant>"

SIGNS = (None, "nonneg", "follows")
PARITIES = (None, "even", "odd")
UNIT_RULES = ("dimensionless", "same", "power")


@dataclass(frozen=True)
class Operator:
    """One operator.

    ``latex`` is a ``str.format`` template over the operands' LaTeX; ``infix`` is the operator symbol for binary
    infix operators (``+``) or ``None`` for operators printed in function-call form (``sin(x)``). ``wrap`` lists, per
    operand, whether LaTeX needs brackets around an operand of lower precedence (False inside ``\\frac`` or
    ``\\sqrt``, which delimit their arguments themselves).

    The facts (each optional, None or False when it does not apply):

    - ``scalar``: the float version (``math``; may raise where numpy would give nan), used to fold constant
      subtrees; None folds with ``numpy``. ``mpmath``: a 50-digit version returning nan where undefined, the
      reference of the simplifier's checker; None uses ``numpy``.
    - ``sympy_function``: the SymPy function class it is (``sp.sin``), so SymPy's output reads back as it.
    - ``power``: the operator is ``u ** power`` (a real, sign-keeping root when the denominator is odd);
      ``scale``: it is ``scale * u``. Both feed the simplifier's power and coefficient algebra and the units check.
    - ``sign``: ``"nonneg"`` when ``f(u) >= 0`` wherever defined, ``"follows"`` when ``f(u)`` has the sign of ``u``;
      ``bound``: ``|f(u)| <= bound`` wherever defined; ``parity``: ``"even"`` or ``"odd"`` (for the simplifier's
      function rules; ``abs`` and the powers have rules of their own).
    - ``units``: ``"dimensionless"`` (argument and result without dimension, as ``sin``), ``"same"`` (the result has
      the argument's dimension, as ``neg``), ``"power"`` (the argument's dimension to ``power``). Binary operators
      are read by the units check itself.
    - ``array_name``: its function's name in numpy, ``jax.numpy`` and torch (``arcsin``), for exported code; None:
      exported as a power or scaling when it is one, else as the record's own numpy function.
    - ``latex_token``: its token in the scaling-laws LaTeX vocabulary (written ``\\sin(...)``), if it has one.
    - ``in_vocabulary``: Flash-ANSR's prefix vocabulary holds it (a new one changes the token ids: new weights);
      ``prior_weight``: its weight, within its arity, in Flash-ANSR's prior (0: never drawn).
    """

    name: str
    arity: int
    numpy: Callable
    sympy: Callable
    latex: str
    precedence: int
    infix: str | None = None
    wrap: tuple[bool, ...] = (True, True)
    scalar: Callable | None = None
    mpmath: Callable | None = None
    sympy_function: type | None = None
    power: Fraction | None = None
    scale: Fraction | None = None
    sign: str | None = None
    bound: float | None = None
    parity: str | None = None
    units: str = "dimensionless"
    array_name: str | None = None
    latex_token: str | None = None
    in_vocabulary: bool = False
    prior_weight: float = 0.0

    def __post_init__(self):
        if self.arity not in (1, 2):
            raise ValueError(f"operator {self.name!r}: arity must be 1 or 2, got {self.arity}")
        for field, value, allowed in (("sign", self.sign, SIGNS), ("parity", self.parity, PARITIES),
                                      ("units", self.units, UNIT_RULES)):
            if value not in allowed:
                raise ValueError(f"operator {self.name!r}: {field} must be one of {allowed}, got {value!r}")
        if (self.power is not None or self.scale is not None) and self.arity != 1:
            raise ValueError(f"operator {self.name!r}: only a unary operator can be a power or a scale")
        if (self.units == "power") != (self.power is not None):
            raise ValueError(f"operator {self.name!r}: units 'power' goes with a power, and a power with units 'power'")


# ---------------------------------------------------------------------------------------------------- constructors
_NAN = mpmath.mpf("nan")


def _guard(f: Callable, ok: Callable) -> Callable:
    """An mpmath function that gives nan outside its domain (and keeps huge arguments out of mpmath's slow paths)."""
    return lambda a: f(a) if ok(a) else _NAN


def _small(a) -> bool:
    return abs(a) < 1e4


def _fn(f):
    """Wrap a SymPy function class so it builds an unevaluated node."""
    return lambda a: f(a, evaluate=False)


def _function(name: str, numpy: Callable, sympy_class: type, scalar: Callable, mp: Callable, latex: str,
              **facts) -> Operator:
    """A named function printed ``name(u)``: dimensionless in and out unless ``facts`` say otherwise; exported
    under numpy's name (``arcsin`` for ``asin``)."""
    return Operator(name, 1, numpy, _fn(sympy_class), latex, PREC_ATOM, wrap=(False,), scalar=scalar, mpmath=mp,
                    sympy_function=sympy_class, array_name=numpy.__name__, in_vocabulary=True, prior_weight=1.0,
                    **facts)


def _pow_int(k: int) -> Callable:
    # numpy's x**k runs the general pow for k = 3, 4, 5: measured 10.5 µs on 224 points against 0.6 µs for these
    # products (within 2 ulp of pow), and they are on the generator's and the constant fit's hot paths.
    return {2: np.square, 3: lambda x: np.square(x) * x, 4: lambda x: np.square(np.square(x)),
            5: lambda x: np.square(np.square(x)) * x}[k]


def _root_numpy(k: int) -> Callable:
    if k == 2:
        return np.sqrt
    if k == 3:
        return np.cbrt
    if k % 2 == 0:
        return lambda x: np.power(x, 1.0 / k)
    return lambda x: np.sign(x) * np.abs(x) ** (1.0 / k)


def _root_scalar(k: int) -> Callable:
    if k % 2:
        return lambda a: math.copysign(abs(a) ** (1.0 / k), a)
    if k == 2:
        return math.sqrt
    if k == 4:
        return lambda a: math.sqrt(math.sqrt(a))
    return lambda a: a ** (1.0 / k)


def _root_mp(k: int) -> Callable:
    if k % 2:
        return lambda a: mpmath.sign(a) * abs(a) ** (mpmath.mpf(1) / k)
    return lambda a: a ** (mpmath.mpf(1) / k) if a >= 0 else _NAN


def _root_sympy(k: int) -> Callable:
    if k % 2:
        # sign(x)*|x|**(1/k) keeps the real, sign-preserving meaning; from_sympy recognises the pattern again.
        return lambda a: sp.Mul(sp.sign(a, evaluate=False),
                                sp.Pow(sp.Abs(a, evaluate=False), sp.Rational(1, k), evaluate=False), evaluate=False)
    return lambda a: sp.Pow(a, sp.Rational(1, k), evaluate=False)


def _power(k: int) -> Operator:
    """``powK``: ``u ** k``, non-negative for even k, sign-keeping for odd k."""
    return Operator(f"pow{k}", 1, _pow_int(k), lambda a: sp.Pow(a, k, evaluate=False), f"{{{{{{0}}}}}}^{{{{{k}}}}}",
                    PREC_POW, wrap=(True,), scalar=(lambda a: a * a) if k == 2 else (lambda a: a**k),
                    mpmath=lambda a: a**k, power=Fraction(k), sign="nonneg" if k % 2 == 0 else "follows",
                    array_name="square" if k == 2 else None,
                    units="power", in_vocabulary=True, prior_weight=1.0)


def _root(k: int) -> Operator:
    """``pow1_K``: the k-th root; for odd k the real, sign-keeping one (Flash-ANSR's pow1_3 and pow1_5)."""
    latex = "\\sqrt{{{0}}}" if k == 2 else f"\\sqrt[{k}]{{{{{{0}}}}}}"
    return Operator(f"pow1_{k}", 1, _root_numpy(k), _root_sympy(k), latex, PREC_ATOM, wrap=(False,),
                    scalar=_root_scalar(k), mpmath=_root_mp(k), power=Fraction(1, k),
                    array_name={2: "sqrt", 3: "cbrt"}.get(k),
                    sign="follows" if k % 2 else "nonneg", units="power", in_vocabulary=True, prior_weight=1.0)


def _mult(k: int) -> Operator:
    return Operator(f"mult{k}", 1, lambda x: k * x, lambda a: sp.Mul(sp.Integer(k), a, evaluate=False),
                    f"{k} \\cdot {{0}}", PREC_MUL, wrap=(True,), scalar=lambda a: k * a, mpmath=lambda a: k * a,
                    scale=Fraction(k), sign="follows", units="same", in_vocabulary=True, prior_weight=1.0)


def _div(k: int) -> Operator:
    return Operator(f"div{k}", 1, lambda x: x / k,
                    lambda a: sp.Mul(a, sp.Pow(sp.Integer(k), -1, evaluate=False), evaluate=False),
                    f"\\frac{{{{{{0}}}}}}{{{{{k}}}}}", PREC_ATOM, wrap=(False,), scalar=lambda a: a / k,
                    mpmath=lambda a: a / k, scale=Fraction(1, k), sign="follows", units="same", in_vocabulary=True,
                    prior_weight=1.0)


def _mp_pow(a, b):
    if b == int(b):
        return _NAN if (a == 0 and b < 0) else a ** int(b)
    return a ** b if a > 0 or (a == 0 and b > 0) else _NAN


def _binary(name, numpy, sympy, latex, precedence, infix, scalar, mp, wrap=(True, True), weight=10.0):
    return Operator(name, 2, numpy, sympy, latex, precedence, infix, wrap, scalar=scalar, mpmath=mp,
                    in_vocabulary=True, prior_weight=weight)


_TABLE: list[Operator] = [
    _binary("+", np.add, lambda a, b: sp.Add(a, b, evaluate=False), "{0} + {1}", PREC_ADD, "+",
            lambda a, b: a + b, lambda a, b: a + b),
    _binary("-", np.subtract, lambda a, b: sp.Add(a, sp.Mul(sp.S.NegativeOne, b, evaluate=False), evaluate=False),
            "{0} - {1}", PREC_ADD, "-", lambda a, b: a - b, lambda a, b: a - b),
    _binary("*", np.multiply, lambda a, b: sp.Mul(a, b, evaluate=False), "{0} \\cdot {1}", PREC_MUL, "*",
            lambda a, b: a * b, lambda a, b: a * b),
    _binary("/", np.divide, lambda a, b: sp.Mul(a, sp.Pow(b, sp.S.NegativeOne, evaluate=False), evaluate=False),
            "\\frac{{{0}}}{{{1}}}", PREC_MUL, "/", lambda a, b: a / b, lambda a, b: a / b if b != 0 else _NAN,
            (False, False)),
    Operator("abs", 1, np.abs, _fn(sp.Abs), "\\left|{0}\\right|", PREC_ATOM, wrap=(False,), scalar=abs, mpmath=abs,
             sympy_function=sp.Abs, sign="nonneg", array_name="abs", units="same", in_vocabulary=True, prior_weight=1.0),
    Operator("inv", 1, np.reciprocal, lambda a: sp.Pow(a, sp.S.NegativeOne, evaluate=False), "\\frac{{1}}{{{0}}}",
             PREC_ATOM, wrap=(False,), scalar=lambda a: 1.0 / a, mpmath=lambda a: 1 / a if a != 0 else _NAN,
             power=Fraction(-1), sign="follows", units="power", in_vocabulary=True, prior_weight=1.0),
    Operator("neg", 1, np.negative, lambda a: sp.Mul(sp.S.NegativeOne, a, evaluate=False), "-{0}", PREC_NEG,
             wrap=(True,), scalar=lambda a: -a, mpmath=lambda a: -a, units="same", in_vocabulary=True,
             prior_weight=1.0),
    _binary("pow", np.power, lambda a, b: sp.Pow(a, b, evaluate=False), "{{{0}}}^{{{1}}}", PREC_POW, "**",
            lambda a, b: a**b if (a >= 0 or b == int(b)) else math.nan, _mp_pow, (True, False), weight=0.0),
    *(_power(k) for k in (2, 3, 4, 5)),
    *(_root(k) for k in (2, 3, 4, 5)),
    _function("sin", np.sin, sp.sin, math.sin, _guard(mpmath.sin, _small), "\\sin\\left({0}\\right)",
              bound=1.0, parity="odd", latex_token="\\sin"),
    _function("cos", np.cos, sp.cos, math.cos, _guard(mpmath.cos, _small), "\\cos\\left({0}\\right)",
              bound=1.0, parity="even", latex_token="\\cos"),
    _function("tan", np.tan, sp.tan, math.tan, _guard(mpmath.tan, _small), "\\tan\\left({0}\\right)",
              parity="odd", latex_token="\\tan"),
    _function("asin", np.arcsin, sp.asin, math.asin, _guard(mpmath.asin, lambda a: abs(a) <= 1),
              "\\arcsin\\left({0}\\right)", sign="follows", bound=math.pi / 2, parity="odd"),
    _function("acos", np.arccos, sp.acos, math.acos, _guard(mpmath.acos, lambda a: abs(a) <= 1),
              "\\arccos\\left({0}\\right)", sign="nonneg", bound=math.pi),
    _function("atan", np.arctan, sp.atan, math.atan, mpmath.atan, "\\arctan\\left({0}\\right)", sign="follows",
              bound=math.pi / 2, parity="odd"),
    _function("sinh", np.sinh, sp.sinh, math.sinh, _guard(mpmath.sinh, _small), "\\sinh\\left({0}\\right)",
              sign="follows", parity="odd"),
    _function("cosh", np.cosh, sp.cosh, math.cosh, _guard(mpmath.cosh, _small), "\\cosh\\left({0}\\right)",
              sign="nonneg", parity="even"),
    _function("tanh", np.tanh, sp.tanh, math.tanh, mpmath.tanh, "\\tanh\\left({0}\\right)", sign="follows",
              bound=1.0, parity="odd"),
    _function("asinh", np.arcsinh, sp.asinh, math.asinh, mpmath.asinh, "\\operatorname{{arsinh}}\\left({0}\\right)",
              sign="follows", parity="odd"),
    _function("acosh", np.arccosh, sp.acosh, math.acosh, _guard(mpmath.acosh, lambda a: a >= 1),
              "\\operatorname{{arcosh}}\\left({0}\\right)", sign="nonneg"),
    _function("atanh", np.arctanh, sp.atanh, math.atanh, _guard(mpmath.atanh, lambda a: abs(a) < 1),
              "\\operatorname{{artanh}}\\left({0}\\right)", sign="follows", parity="odd"),
    _function("exp", np.exp, sp.exp, math.exp, _guard(mpmath.exp, lambda a: a < 1e4), "e^{{{0}}}",
              sign="nonneg", latex_token="\\exp"),
    _function("log", np.log, sp.log, math.log, _guard(mpmath.log, lambda a: a > 0), "\\log\\left({0}\\right)",
              latex_token="\\log"),
    *(_mult(k) for k in (2, 3, 4, 5)),
    *(_div(k) for k in (2, 3, 4, 5)),
]

OPERATORS: dict[str, Operator] = {op.name: op for op in _TABLE}

# Input spellings accepted for an operator token and rewritten to the table's name (see tokens.normalize).
ALIASES: dict[str, str] = {"sqrt": "pow1_2", "cbrt": "pow1_3"}

# Named literal constants, their values and SymPy forms. ``(-1)``, ``np.pi`` and ``np.e`` are SimpliPy's spellings.
NAMED_NUMBERS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}
NUMBER_ALIASES: dict[str, str] = {"np.pi": "pi", "np.e": "e", "(-1)": "-1"}
SYMPY_NAMED_NUMBERS = {"pi": sp.pi, "e": sp.E}


def on_numbers(op: Operator, result: Callable = float) -> Callable:
    """The record's numpy function on plain numbers, its value made by ``result`` (``float``, ``mpmath.mpf``): the
    stand-in for the scalar or mpmath version of an operator registered without one."""
    f = op.numpy

    def apply(*values):
        with np.errstate(all="ignore"):
            return result(float(f(*(np.float64(float(v)) for v in values))))

    return apply


# ------------------------------------------------------------------------------------------------ derived tables
_DERIVED: list[tuple[object, Callable]] = []


def derived(build: Callable[[tuple[Operator, ...]], object]):
    """A lookup table built from the records by ``build`` (a dict, set or list), kept in step with them: ``register``
    and ``unregister`` rebuild it in place, so a module that imported it sees every operator. ``build`` reads only
    the records it is given (never another derived table: the rebuild order is not promised)."""
    table = build(tuple(OPERATORS.values()))
    if not isinstance(table, (dict, set, list)):
        raise TypeError(f"a derived table must be a dict, set or list, not {type(table).__name__}")
    _DERIVED.append((table, build))
    return table


def _rebuild() -> None:
    records = tuple(OPERATORS.values())
    for table, build in _DERIVED:
        fresh = build(records)
        table.clear()
        table.extend(fresh) if isinstance(table, list) else table.update(fresh)


def register(op: Operator) -> None:
    """Add an operator; every derived table learns it at once. A name already taken is a one-line error."""
    if not isinstance(op, Operator):
        raise TypeError(f"register takes an Operator record, not {type(op).__name__}")
    taken = op.name in OPERATORS or op.name in ALIASES or op.name in NAMED_NUMBERS or op.name == CONSTANT
    if taken or not op.name or any(c.isspace() for c in op.name):
        raise ValueError(f"cannot register operator {op.name!r}: the name is empty, has spaces or is taken")
    OPERATORS[op.name] = op
    _rebuild()


def unregister(name: str) -> Operator:
    """Remove an operator added with ``register`` (the tests' made-up ones); returns its record."""
    if name not in OPERATORS:
        raise KeyError(f"no operator {name!r}")
    op = OPERATORS.pop(name)
    _rebuild()
    return op


UNARY: list[str] = derived(lambda ops: [op.name for op in ops if op.arity == 1])
BINARY: list[str] = derived(lambda ops: [op.name for op in ops if op.arity == 2])
ARITY: dict[str, int] = derived(lambda ops: {op.name: op.arity for op in ops})
