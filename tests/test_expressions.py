"""The expression core: round trips between spellings, numpy compilation against SymPy, and error messages."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings

from lawfinder.simplipy import compile, from_sympy, normalize, parse, to_infix, to_latex, to_sympy, validate
from lawfinder.simplipy.operators import BINARY, UNARY
from tests.expression_strategies import expressions, flatten

# SymPy cannot tell `* K x` from `mult K x`, `+ a neg b` from `- a b`, or `* a inv b` from `/ a b`: those spellings are
# identified (see sympy_bridge). The infix and SymPy round trips therefore draw from the unambiguous operators.
ROUND_TRIP_UNARY = tuple(op for op in UNARY if not op.startswith(("mult", "div")))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _unambiguous(tree: tuple) -> bool:
    """True when no node uses a spelling SymPy identifies with another (inv under * or /, neg right of +, etc.)."""
    head, children = tree[0], tree[1:]
    if head in ("*", "/") and any(child[0] == "inv" for child in children):
        return False
    if head in ("+", "-") and children[1][0] == "neg":
        return False
    if head == "neg" and children[0][0] in ("neg", "*"):
        return False
    if head == "inv" and children[0][0] in ("inv", "/"):
        return False
    return all(_unambiguous(child) for child in children)


@SETTINGS
@given(expressions())
def test_infix_round_trip(tree):
    tokens = flatten(tree)
    assert parse(to_infix(tokens)) == normalize(tokens)


@SETTINGS
@given(expressions(unary=ROUND_TRIP_UNARY, leaves=("x1", "x2", "x3", "<constant>", "2", "0.5", "3.25", "pi")))
def test_sympy_round_trip_is_stable(tree):
    """tokens → SymPy → tokens → SymPy gives back the same SymPy tree; unambiguous trees come back token for token."""
    tokens = flatten(tree)
    expr = to_sympy(tokens)
    back = from_sympy(expr)
    validate(back)
    if sp.srepr(to_sympy(back)) != sp.srepr(expr):
        # SymPy re-associated or folded the tree: the tokens it gives back must still compute the same function.
        X = np.random.default_rng(3).uniform(-3, 3, size=(64, 3))
        constants = np.linspace(-2, 2, tokens.count("<constant>"))
        want, got = compile(tokens)(X, constants), compile(back)(X, constants)
        both = np.isfinite(want) & np.isfinite(got)
        np.testing.assert_allclose(got[both], want[both], rtol=1e-9, atol=1e-12)
    if _unambiguous(tree) and not any(t in ("-", "/", "pow1_3", "pow1_5") for t in tokens):
        assert back == normalize(tokens)


@pytest.mark.parametrize("text, tokens", [
    ("1.5*x1*sin(x2)", ["*", "*", "1.5", "x1", "sin", "x2"]),
    ("x1 - x2 / x3", ["-", "x1", "/", "x2", "x3"]),
    ("sqrt(x1)**2", ["pow2", "pow1_2", "x1"]),
    ("-x1**2", ["neg", "pow2", "x1"]),
    ("(-2)**x1", ["pow", "-2", "x1"]),
    ("C*exp(-x1)", ["*", "<constant>", "exp", "neg", "x1"]),
    ("ln(x1) + np.pi", ["+", "log", "x1", "pi"]),
    ("x1^3", ["pow3", "x1"]),
    ("1/x1", ["/", "1", "x1"]),
])
def test_parse_examples(text, tokens):
    assert parse(text) == tokens


def test_parse_named_variables_maps_to_positions():
    assert parse("m*sin(theta)", variables=["m", "theta"]) == ["*", "x1", "sin", "x2"]


def test_native_simplipy_power_spelling_is_read():
    assert normalize(["pow", "x1", "2"]) == ["pow2", "x1"]
    assert normalize(["rootn", "x1", "3"]) == ["pow1_3", "x1"]
    assert normalize(["pow", "x1", "-1"]) == ["inv", "x1"]
    assert normalize(["sqrt", "x1"]) == ["pow1_2", "x1"]
    # a non-literal exponent stays a general power
    assert normalize(["pow", "x1", "x2"]) == ["pow", "x1", "x2"]


@SETTINGS
@given(expressions(leaves=("x1", "x2", "x3", "<constant>", "2", "0.5", "3.25", "pi")))
def test_compile_agrees_with_lambdify(tree):
    tokens = flatten(tree)
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(64, 3))
    constants = rng.normal(0, 2, size=tokens.count("<constant>"))
    ours = compile(tokens)(X, constants)

    expr = to_sympy(tokens)
    symbols = sp.symbols("x1 x2 x3", real=True) + tuple(sp.Symbol(f"c{i}", real=True) for i in range(len(constants)))
    reference = sp.lambdify(symbols, expr, modules="numpy")
    with np.errstate(all="ignore"):
        try:
            raw = reference(*X.T, *constants)
        except (ZeroDivisionError, OverflowError):
            # lambdify folds literal-only subtrees in plain Python floats, which raise where numpy gives inf/nan:
            # there is no finite reference value to compare against.
            assume(False)
        theirs = np.broadcast_to(np.asarray(raw, dtype=complex), ours.shape)
    real = np.abs(theirs.imag) <= 1e-12 * np.maximum(1.0, np.abs(theirs.real))
    both = np.isfinite(ours) & np.isfinite(theirs.real) & real
    np.testing.assert_allclose(ours[both], theirs.real[both], rtol=1e-12, atol=1e-300)


def test_compile_binds_constants_in_order_and_gives_nan_on_domain_errors():
    f = compile(parse("C*x1 + C"))
    X = np.array([[1.0], [2.0]])
    np.testing.assert_array_equal(f(X, [3.0, 0.5]), [3.5, 6.5])
    g = compile(parse("log(x1) + sqrt(x1)"))
    with np.errstate(all="raise"):  # no floating-point warnings escape compile()
        out = g(np.array([[-1.0], [4.0]]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(np.log(4) + 2)
    assert compile(["x1"], dtype=np.float32)(np.ones((3, 1))).dtype == np.float32


def test_compile_checks_shapes_and_constant_count():
    f = compile(parse("C*x2"))
    with pytest.raises(ValueError, match="constant"):
        f(np.ones((4, 2)), [])
    with pytest.raises(ValueError, match="x2"):
        f(np.ones((4, 1)), [1.0])


@pytest.mark.parametrize("tokens, message", [
    (["+", "x1", "frobnicate"], r"unknown token 'frobnicate' at position 2"),
    (["sin"], r"'sin'.*position 0.*1 operand"),
    (["+", "x1"], r"'\+'.*position 0.*2 operands"),
    (["x1", "x2"], r"trailing token 'x2' at position 1"),
    ([], r"empty"),
])
def test_token_errors_name_token_and_position(tokens, message):
    with pytest.raises(ValueError, match=message):
        validate(tokens)


@pytest.mark.parametrize("text, message", [
    ("x1 + ", "end of"),
    ("x1 $ 2", "position 3"),
    ("sin(x1", r"\)"),
    ("", "empty"),
    ("foo(x1)", "foo"),
])
def test_parse_errors_are_value_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


@pytest.mark.parametrize("text, latex", [
    ("1.5*x1*sin(x2)", r"1.5 \cdot x_{1} \cdot \sin\left(x_{2}\right)"),
    ("x1/(x2 + 1)", r"\frac{x_{1}}{x_{2} + 1}"),
    ("sqrt(x1)", r"\sqrt{x_{1}}"),
    ("exp(x1)**2", r"{\left(e^{x_{1}}\right)}^{2}"),
])
def test_latex_examples(text, latex):
    assert to_latex(parse(text)) == latex


@SETTINGS
@given(expressions())
def test_latex_prints_every_expression(tree):
    assert to_latex(flatten(tree))


def test_operator_table_covers_the_issue_vocabulary():
    from lawfinder.simplipy.operators import OPERATORS
    required = "+ - * / neg inv abs pow2 pow3 pow4 pow5 pow1_2 pow1_3 exp log sin cos tan asin acos atan sinh cosh tanh"
    assert set(required.split()) <= set(OPERATORS)
    assert normalize(["sqrt", "x1"]) == ["pow1_2", "x1"]
    assert set(BINARY) >= {"+", "-", "*", "/"}
