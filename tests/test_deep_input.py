"""Deep and long formulas (issue 19, item 5): every entry point either handles them or stops with a one-line error
that names the maximum depth, never a RecursionError or IndexError."""

from __future__ import annotations

import json

import msgpack
import numpy as np
import pytest

from lawfinder.cli import main
from lawfinder.simplipy import compile_expression, parse, simplify, to_infix, to_latex, to_sympy
from lawfinder.simplipy.tokens import MAX_DEPTH, MAX_LEVELS, depth, nesting, normalize, validate

SUM_200 = "+".join(f"x{i % 3 + 1}" for i in range(200))  # left-nested: 199 levels
NEST_300 = "sin(" * 300 + "x1" + ")" * 300
DEEP_ERROR = f"the maximum depth is {MAX_DEPTH}"


def _nested(n: int) -> list[str]:
    return ["sin"] * n + ["x1"]


def _left_sum(n: int) -> list[str]:
    return ["+"] * (n - 1) + ["x1"] * n


ENTRY_POINTS = {
    "parse": lambda t: parse(_infix_text(t)),
    "to_infix": to_infix,
    "to_latex": to_latex,
    "to_sympy": to_sympy,
    "simplify": simplify,
    "compile": lambda t: compile_expression(t)(np.linspace(0.1, 0.9, 5)[:, None]),
    "normalize": normalize,
    "validate": validate,
}


def _infix_text(tokens: list[str]) -> str:
    """Infix text of a nested-sin or left-sum token list, written without the printer (which refuses deep ones)."""
    if tokens[0] == "sin":
        return "sin(" * (len(tokens) - 1) + "x1" + ")" * (len(tokens) - 1)
    return "+".join(["x1"] * ((len(tokens) + 1) // 2))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("shape, n, ok", [
    ("nested", 200, True), ("nested", MAX_DEPTH, True), ("nested", MAX_DEPTH + 1, False), ("nested", 3000, False),
    # A flat sum is one level of real nesting however long, up to MAX_LEVELS terms (issue 33).
    ("sum", 200, True), ("sum", 300, True), ("sum", MAX_LEVELS, True), ("sum", 3000, False),
])
def test_deep_expressions_work_or_name_the_limit(entry, shape, n, ok):
    tokens = _nested(n) if shape == "nested" else _left_sum(n)
    if ok:
        ENTRY_POINTS[entry](tokens)
    else:
        with pytest.raises(ValueError, match=DEEP_ERROR if shape == "nested" else f"the maximum is {MAX_LEVELS}"):
            ENTRY_POINTS[entry](tokens)


def test_deep_sum_evaluates_like_a_shallow_one():
    X = np.linspace(0.1, 2.0, 7)[:, None]
    deep = compile_expression(_left_sum(200))(X)  # too deep for Python's compiler: interpreted
    np.testing.assert_allclose(deep, 200 * X[:, 0])
    np.testing.assert_allclose(compile_expression(_nested(150))(X), _sin_n(X[:, 0], 150))


def _sin_n(x, n):
    for _ in range(n):
        x = np.sin(x)
    return x


def test_depth_counts_operators_on_the_longest_path():
    assert depth(["x1"]) == 0
    assert depth(["+", "x1", "sin", "x2"]) == 2
    assert depth(["+", "sin", "sin", "x1", "x2"]) == 3
    assert depth(["rootn", "x1", "2"]) == 1


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,3\n2,3,5\n3,4,7\n")
    return str(path)


@pytest.mark.parametrize("formula, data, expected", [
    (SUM_200, False, None),
    (NEST_300, False, DEEP_ERROR),
    ("(" * 400 + "x1" + ")" * 400, False, None),  # brackets alone add no depth
    ("x2 + " + "-" * 300 + "x1", False, DEEP_ERROR),
    ("2**" * 300 + "x1", False, DEEP_ERROR),
    ("x9*a", True, "unknown variable x9"),
    ("a + b", True, None),
])
def test_expr_cli(formula, data, expected, table, capsys):
    argv = ["expr", formula] + (["--data", table, "--target", "y"] if data else [])
    code = main(argv)
    captured = capsys.readouterr()
    if expected is None:
        assert code == 0, captured.err
        assert "simplified" in captured.out
    else:
        assert code == 2
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], captured.err


def test_saved_fit_with_a_deep_skeleton_is_a_one_line_error(tmp_path):
    from lawfinder.inference.persist import FORMAT, VERSION
    from lawfinder.inference.regressor import Regressor

    skeleton = ["sin"] * 3000 + ["x1"]
    record = {"format": FORMAT, "version": VERSION, "params": {}, "feature_names": ["x1"],
              "equations": [{"skeleton": skeleton, "constants": [], "fvu": 0.0, "complexity": 3001, "score": 0.0}]}
    path = tmp_path / "deep.msgpack"
    path.write_bytes(msgpack.packb(record))
    with pytest.raises(ValueError, match=DEEP_ERROR):
        Regressor.load(path)


def test_nesting_counts_sums_and_products_once_and_brackets_each_time():
    assert nesting(parse("x1 + x2 + x3 + x1")) == 1 and depth(parse("x1 + x2 + x3 + x1")) == 3
    assert nesting(parse("x1 * x2 / x3 * x1 - x2 + x3")) == 2
    assert nesting(parse("x1 - (x2 - (x3 - x1))")) == 3            # brackets that change the value nest
    assert nesting(parse("sin(x1 + x2) + x3")) == 3
    assert nesting(_nested(50)) == depth(_nested(50)) == 50


def test_a_users_long_polynomial_parses_prints_simplifies_and_evaluates(table, capsys):
    poly = " + ".join(f"{k + 0.5}*a**{k % 4 + 1}" for k in range(300))     # 300 terms, as issue 33 tried
    assert main(["expr", poly, "--data", table, "--target", "y", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    a = np.loadtxt(table, delimiter=",", skiprows=1, usecols=0)[:5]
    expected = sum((k + 0.5) * a ** (k % 4 + 1) for k in range(300))
    np.testing.assert_allclose(report["first_values"], expected, rtol=1e-12)
    assert report["simplified"].count("a**") == 3 and "a" in report["infix"] and "\\cdot" in report["latex"]
    assert main(["expr", " + ".join(["x1"] * 3000)]) == 2
    assert f"the maximum is {MAX_LEVELS}" in capsys.readouterr().err
