"""Near-integer constants become literals only when the snapped formula scores no worse; other constants are written
with the fewest digits that keep the fit."""

from __future__ import annotations

import numpy as np

from lawfinder import Regressor
from lawfinder.inference.fitting import FitResult
from lawfinder.inference.fitting.snapping import shortest_decimals, snap_targets, snapped_skeleton


def test_snap_targets_only_near_integers():
    assert snap_targets(2.0000000001) == 2.0
    assert snap_targets(-3.0000001) == -3.0
    assert snap_targets(1.5) is None
    assert snap_targets(1.001) is None
    assert snap_targets(1e14 + 0.3) is None  # a large float is near an integer only by its size


def test_snapped_skeleton_writes_literals_in_order():
    tokens = ["+", "*", "<constant>", "x1", "<constant>"]
    assert snapped_skeleton(tokens, [1.0000000001, 0.37]) == ["+", "*", "1", "x1", "<constant>"]
    assert snapped_skeleton(tokens, [0.5, 0.37]) is None


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
