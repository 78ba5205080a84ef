"""Constants become the simple values they stand for (integers, small fractions, multiples of pi) only when the data
cannot tell the difference; other constants are written with the fewest digits that keep the fit."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.inference.fitting import FitResult
from lawfinder.inference.ranking import Ranking
from lawfinder.inference.fitting.snapping import (allowance, keeps_fit, shortest_decimals, snap_options,
                                                  with_value)


def test_snap_options_are_simple_values_near_the_constant_simplest_first():
    assert snap_options(2.0000000001) == [(2.0, ["2"])]
    assert snap_options(-3.0000001) == [(-3.0, ["-3"])]
    assert snap_options(0.4993) == [(0.5, ["0.5"])]
    assert snap_options(6.2797) == [(2 * np.pi, ["*", "2", "pi"])]
    assert snap_options(3.1416) == [(np.pi, ["pi"])]
    assert snap_options(0.0796) == [(0.25 / np.pi, ["/", "0.25", "pi"])]
    assert snap_options(1.5)[0] == (1.5, ["1.5"])
    assert snap_options(0.45) == []                # 5% from 0.5: outside the window
    assert snap_options(1e14 + 0.3) == []          # a large float is near an integer only by its size
    assert snap_options(float("nan")) == []
    assert snap_options(1e-9) == [(0.0, ["0"])] and snap_options(1e-9, zero=False) == []


def test_with_value_replaces_the_nth_constant():
    tokens = ["+", "*", "<constant>", "x1", "<constant>"]
    assert with_value(tokens, 0, ["2"]) == ["+", "*", "2", "x1", "<constant>"]
    assert with_value(tokens, 1, ["*", "2", "pi"]) == ["+", "*", "<constant>", "x1", "*", "2", "pi"]


def test_keeps_fit_allows_what_the_noise_hides_and_nothing_more():
    old = FitResult(["*", "<constant>", "x1"], [0.4993], 1e-4)
    assert keeps_fit(old, FitResult(["*", "0.5", "x1"], [], 1e-4 * 1.001), Ranking(0.05), 512)  # within BIC's allowance
    assert not keeps_fit(old, FitResult(["*", "0.5", "x1"], [], 1e-4 * 1.05), Ranking(0.05), 512)  # the data see 5%
    clean = FitResult(["*", "<constant>", "x1"], [1.0000001], 1e-30)
    assert not keeps_fit(clean, FitResult(["x1"], [], 1e-14 * 3), Ranking(0.05), 512)  # exact data: no slack
    assert keeps_fit(clean, FitResult(["x1"], [], 1e-20), Ranking(0.05), 512)  # shorter and exact
    assert allowance(1, 512) == pytest.approx(np.exp(np.log(512) / 512))
    assert allowance(0, 512) == 1.0


def _incline(n=200):
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 5.0, (n, 2))
    return X, 9.81 * X[:, 0] * np.sin(X[:, 1])


def test_shortest_decimals_drops_digits_that_carry_no_fit():
    X, y = _incline()
    tokens = ["*", "<constant>", "*", "x1", "sin", "x2"]
    tidy = shortest_decimals(FitResult(tokens, [9.810000000000004], 1e-31), X, y)
    assert tidy.constants == [9.81] and tidy.fvu <= 1e-14


def test_shortest_decimals_keeps_digits_the_fit_needs():
    X, y = _incline()
    y = y + 0.01 * np.random.default_rng(1).standard_normal(y.shape)  # noisy: the best constant is not 9.81
    tokens = ["*", "<constant>", "*", "x1", "sin", "x2"]
    best = float(np.dot(X[:, 0] * np.sin(X[:, 1]), y) / np.dot(X[:, 0] * np.sin(X[:, 1]), X[:, 0] * np.sin(X[:, 1])))
    fvu = float(np.mean((best * X[:, 0] * np.sin(X[:, 1]) - y) ** 2) / np.var(y))
    tidy = shortest_decimals(FitResult(tokens, [best], fvu), X, y)
    assert tidy.constants[0] != 9.81                      # two digits would cost accuracy
    assert abs(tidy.constants[0] - best) <= 1e-6 * best  # only noise digits dropped
    assert len(repr(tidy.constants[0])) < len(repr(best))
    assert tidy.fvu <= fvu * (1 + 1e-9) + 1e-14


def _proposer(*candidates):
    return lambda X, y: [list(c) for c in candidates]


def test_regressor_reports_the_law_without_a_unit_constant():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 3.0, size=(100, 2))
    y = X[:, 0] * X[:, 1]
    model = Regressor(proposer=_proposer(["*", "<constant>", "*", "x1", "x2"]), random_state=0).fit(X, y)
    assert model.best_.tokens == ["*", "x1", "x2"]
    assert model.best_.fvu <= 1e-20


def test_a_snap_that_costs_accuracy_is_refused():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 3.0, size=(100, 1))
    y = 1.0000001 * X[:, 0]
    model = Regressor(proposer=_proposer(["*", "<constant>", "x1"]), random_state=0).fit(X, y)
    assert model.best_.skeleton == ("*", "<constant>", "x1")
    assert abs(model.best_.constants[0] - 1.0000001) < 1e-12


def _noisy_law(constant, eta, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 3.0, size=(512, 2))
    y = constant * X[:, 0] * X[:, 1] ** 2
    return X, y + eta * np.std(y) * rng.standard_normal(y.shape)


@pytest.mark.parametrize("constant", [0.5, 2 * np.pi, 0.25 / np.pi, 3.0])
@pytest.mark.parametrize("eta", [0.0, 1e-3, 1e-2])
def test_on_noisy_data_a_constant_becomes_the_simple_value_it_stands_for(constant, eta):
    X, y = _noisy_law(constant, eta, seed=3)
    model = Regressor(proposer=_proposer(["*", "<constant>", "*", "x1", "pow2", "x2"]), random_state=0).fit(X, y)
    assert model.best_.constants == ()
    clean = constant * X[:, 0] * X[:, 1] ** 2
    assert np.allclose(model.predict(X), clean, rtol=1e-12)


@pytest.mark.parametrize("eta", [1e-3, 1e-2])
def test_on_noisy_data_a_constant_the_data_tell_apart_is_kept(eta):
    X, y = _noisy_law(0.495, eta, seed=4)  # 1% from 0.5 (in the window): 20 standard errors at 1% noise
    model = Regressor(proposer=_proposer(["*", "<constant>", "*", "x1", "pow2", "x2"]), random_state=0).fit(X, y)
    assert len(model.best_.constants) == 1 and abs(model.best_.constants[0] - 0.495) < 2e-3


def test_snapping_starts_no_refit_after_the_deadline():
    import time

    from lawfinder.inference.fitting import FitConfig, fit_constants, snap

    X, y = _noisy_law(0.5, 1e-2, seed=5)
    tokens = ["*", "<constant>", "*", "x1", "pow2", "x2"]
    fitted = fit_constants(tokens, X, y, FitConfig(), np.random.default_rng(0))
    args = (X, y, Ranking(0.05), None, FitConfig(), np.random.default_rng(0))
    assert "<constant>" not in snap(fitted, *args).tokens
    assert snap(fitted, *args, deadline=time.time() - 1).tokens == fitted.tokens
