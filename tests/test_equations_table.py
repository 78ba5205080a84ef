"""Reading a fit like PySR's: the Pareto front, PySR's score, model selection, the equations DataFrame, the repr,
LaTeX (Greek names, precision, the front as a table), Python text that evaluates, torch/jax exports and the plot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lawfinder.inference import Regressor
from lawfinder.inference.equation import Equation
from lawfinder.inference.pareto import pareto_mask, pareto_scores, select
from lawfinder.simplipy import OPERATORS, parse

CANDIDATES = ["C * x1 * sin(x2)", "C * x1", "x1 + x2", "C * x1 * sin(x2) + C", "C * x1 + C * x2", "C",
              "log(x1 - C)"]


def proposer(X, y):
    return [parse(text) for text in CANDIDATES]


@pytest.fixture(scope="module")
def incline():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.5, (200, 2))
    return X, 9.81 * X[:, 0] * np.sin(X[:, 1]) + rng.normal(0, 0.05, 200)


@pytest.fixture(scope="module")
def fitted(incline):
    X, y = incline
    return Regressor(proposer=proposer, random_state=0, simplify=False).fit(X, y, feature_names=["m", "theta"])


def _eq(complexity, fvu):
    return Equation(("x1",), (), fvu, complexity, 0.0, ("a",))


@pytest.mark.parametrize("points, front", [
    ([(1, 1.0), (3, 0.5), (5, 0.1)], [True, True, True]),        # every step pays: all on the front
    ([(1, 1.0), (3, 1.0), (5, 0.1)], [True, False, True]),       # longer and no better: dominated
    ([(3, 0.2), (3, 0.2), (5, 0.3)], [True, False, False]),      # a tie: the better ranked (first) one
    ([(5, 0.1), (1, 0.9), (2, 0.95)], [True, True, False]),      # order in the list does not matter
])
def test_pareto_mask(points, front):
    assert pareto_mask([_eq(c, f) for c, f in points]).tolist() == front


def test_pareto_scores_are_pysr_scores():
    equations = [_eq(1, 1.0), _eq(3, 0.01), _eq(5, 0.001), _eq(4, 0.5)]
    scores = pareto_scores(equations, pareto_mask(equations))
    assert scores[0] == 0.0 and math.isnan(scores[3])
    assert scores[1] == pytest.approx(-math.log(0.01) / 2) and scores[2] == pytest.approx(-math.log(0.1) / 2)
    assert select(equations, "score") == 1 and select(equations, "accuracy") == 2 and select(equations, "best") == 0


def test_equations_dataframe(fitted):
    pd = pytest.importorskip("pandas")
    table = fitted.equations_
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["complexity", "loss", "score", "objective", "pareto", "equation", "sympy",
                                   "latex", "underdetermined", "raw"]
    assert len(table) == len(fitted.candidates_) and table["loss"].map(math.isfinite).all()
    assert table["objective"].is_monotonic_increasing  # best ranked first, row i is predict(index=i)
    front = table[table["pareto"]].sort_values("complexity")
    assert front["loss"].is_monotonic_decreasing and front["score"].notna().all()
    assert table.loc[~table["pareto"], "score"].isna().all()
    assert table.loc[0, "equation"] == "9.81 * m * sin(theta)" or table.loc[0, "equation"].endswith("* sin(theta)")
    assert str(table.loc[0, "sympy"]).endswith("*m*sin(theta)")


def test_model_selection_and_index(fitted, incline):
    X, y = incline
    chosen, fits = {}, {}
    for selection in ("best", "accuracy", "score"):
        r = Regressor(proposer=proposer, random_state=0, simplify=False, model_selection=selection).fit(X, y)
        chosen[selection], fits[selection] = r.best_, r
        np.testing.assert_allclose(r.predict(X), r.predict(X, index=r.best_index_))
    assert chosen["best"].skeleton == tuple(parse("C * x1 * sin(x2)"))
    assert chosen["accuracy"].fvu == min(e.fvu for e in fitted.candidates_)
    table = fits["score"].equations_
    assert chosen["score"].expression == table.loc[table["score"].idxmax(), "equation"]
    assert chosen["score"].expression in fits["score"].equations_[lambda t: t["pareto"]]["equation"].tolist()
    assert fitted.predict(X, index=1).shape == (200,)
    with pytest.raises(ValueError, match="model_selection must be one of"):
        Regressor(proposer=proposer, model_selection="fastest").fit(X, y)
    with pytest.raises(ValueError, match="out of range"):
        fitted.predict(X, index=99)


def test_repr_shows_the_front_with_the_choice_marked(fitted):
    text = repr(fitted)
    assert text.startswith("Regressor(") and ".equations_ =" in text
    marked = [line for line in text.splitlines() if line.startswith(">>>>")]
    assert len(marked) == 1 and "sin(theta)" in marked[0]
    assert repr(Regressor(n_samples=8)) == "Regressor(n_samples=8)"


def test_latex_greek_names_precision_and_table(fitted):
    assert fitted.latex(precision=2) == "9.8 m \\sin{\\left(\\theta \\right)}"
    assert "\\theta" in fitted.latex() and "mathrm" not in fitted.latex()
    table = fitted.latex_table()
    assert table.startswith("\\begin{longtable}") and table.rstrip().endswith("\\end{longtable}")
    assert table.count("\\\\") - 1 == int(fitted.equations_["pareto"].sum())  # header row + one per front member


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_expression_is_python_that_evaluates_to_the_formula(name):
    X = np.random.default_rng(0).uniform(0.2, 0.8, (6, 2))
    skeleton = (name, "x1", "<constant>") if OPERATORS[name].arity == 2 else ("*", "<constant>", name, "x1")
    e = Equation(skeleton, (0.5,), 0.1, len(skeleton), 0.0, ("m", "theta"))
    assert "inv(" not in e.expression and "pow1_" not in e.expression and "mult" not in e.expression
    namespace = {**vars(np), "m": X[:, 0], "theta": X[:, 1]}
    with np.errstate(all="ignore"):  # acosh of values below 1 is NaN on both sides
        np.testing.assert_allclose(eval(e.expression, namespace), e(X), rtol=1e-12)  # noqa: S307 - our own text


def test_pytorch_export_matches_and_trains(fitted, incline):
    torch = pytest.importorskip("torch")
    X, _ = incline
    module = fitted.pytorch()
    np.testing.assert_allclose(module(torch.tensor(X)).detach().numpy(), fitted.predict(X), rtol=1e-12)
    assert [p.shape for p in module.parameters()] == [torch.Size([len(fitted.best_.constants)])]
    assert "sin(theta)" in repr(module)


def test_array_export_over_numpy_and_jax(fitted, incline):
    from lawfinder.inference.export import array_function

    X, _ = incline
    f = array_function(fitted.best_.skeleton, fitted.best_.constants, np)  # the code path jax() takes
    np.testing.assert_allclose(f(X), fitted.predict(X), rtol=1e-12)
    np.testing.assert_allclose(f(X, (1.0,)), fitted.predict(X) / fitted.best_.constants[0], rtol=1e-12)
    pytest.importorskip("jax")
    exported = fitted.jax()
    np.testing.assert_allclose(np.asarray(exported["callable"](X, exported["parameters"])), fitted.predict(X),
                               rtol=1e-5)


def test_plot_draws_both_panels(fitted, incline, tmp_path):
    pytest.importorskip("matplotlib")
    X, y = incline
    path = tmp_path / "fit.png"
    figure = fitted.plot(X, y, path)
    assert path.read_bytes().startswith(b"\x89PNG") and len(figure.axes) == 2
    assert figure.axes[1].get_yscale() == "log" and "chosen" in figure.axes[1].get_legend().texts[-1].get_text()


def test_plot_without_matplotlib_says_how_to_get_it(fitted, incline, monkeypatch):
    import sys

    X, y = incline
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'lawfinder\[plots\]'"):
        fitted.plot(X, y)


def test_old_saved_fits_still_load(tmp_path, incline):
    """A file as version 1 wrote it before names_given and model_selection existed reads the same way."""
    import msgpack

    X, _ = incline
    record = {"format": "lawfinder.Regressor", "version": 1,
              "params": {"n_samples": 512, "random_state": 0, "proposer": None},
              "feature_names": ["m", "theta"], "n_candidates": {"proposed": 2, "distinct": 2, "fitted": 2},
              "equations": [{"skeleton": ["*", "*", "<constant>", "x1", "sin", "x2"], "constants": [9.81],
                             "fvu": 1e-30, "complexity": 6, "score": -15.35},
                            {"skeleton": ["log", "x1"], "constants": [], "fvu": float("inf"), "complexity": 2,
                             "score": float("inf")}]}
    path = tmp_path / "old.msgpack"
    path.write_bytes(msgpack.packb(record))
    loaded = Regressor.load(path)
    assert loaded.best_.expression == "9.81 * m * sin(theta)" and len(loaded.candidates_) == 1
    assert list(loaded.feature_names_in_) == ["m", "theta"]
    np.testing.assert_allclose(loaded.predict(X), 9.81 * X[:, 0] * np.sin(X[:, 1]))
