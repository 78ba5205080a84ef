"""Metric functions on hand-computed cases, and the bootstrap CI on known distributions."""

import math

import numpy as np
import pytest

from lawfinder.evaluation import metrics
from lawfinder.evaluation.bootstrap import bootstrap_ci
from lawfinder.simplipy import CONSTANT


def test_fvu_hand_computed_and_scale_free():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    y_hat = np.array([1.0, 2.0, 3.0, 5.0])
    # mean squared error 1/4, population variance 5/4.
    assert metrics.fvu(y, y_hat) == pytest.approx(0.2)
    assert metrics.fvu(y * 1e-40, y_hat * 1e-40) == pytest.approx(0.2)
    assert metrics.fvu(y * 1e30, y_hat * 1e30) == pytest.approx(0.2)
    assert metrics.fvu(y, np.full(4, 2.5)) == pytest.approx(1.0)
    assert metrics.fvu(y, y) == 0.0


def test_fvu_edge_cases():
    y = np.array([1.0, 2.0, 3.0])
    assert metrics.fvu(y, np.array([1.0, np.nan, 3.0])) == math.inf
    assert metrics.fvu(y, np.array([1.0, np.inf, 3.0])) == math.inf
    assert metrics.fvu(np.ones(3), np.ones(3)) == 0.0
    assert metrics.fvu(np.ones(3), np.array([1.0, 1.0, 1.1])) == math.inf
    assert metrics.fvu(y, 2.0) == pytest.approx(1.0)  # a scalar prediction is the mean here
    with pytest.raises(ValueError, match="3 targets"):
        metrics.fvu(y, np.ones(2))


def test_recovery_threshold_is_float32_epsilon():
    assert metrics.FVU_THRESHOLD == 2.0**-23
    assert metrics.recovered(metrics.FVU_THRESHOLD)
    assert not metrics.recovered(np.nextafter(metrics.FVU_THRESHOLD, 1.0))
    assert metrics.accurate(0.009) and not metrics.accurate(0.01)


def test_skeleton_masks_numbers_and_folds_constant_subtrees():
    assert metrics.skeleton(["*", "2", "x1"]) == ["*", CONSTANT, "x1"]
    assert metrics.skeleton(["+", "*", "2", "pi", "x1"]) == ["+", CONSTANT, "x1"]
    assert metrics.skeleton(["sin", "/", "x1", "exp", "3.5"]) == ["sin", "/", "x1", CONSTANT]


def test_length_ratio_hand_computed():
    # 5 tokens predicted over 3 true ("2*x1" -> "* C x1").
    assert metrics.length_ratio(["+", "x1", "*", "3", "x2"], ["*", "2", "x1"]) == pytest.approx(5 / 3)
    assert metrics.length_ratio(["*", "-0.7", "x1"], ["*", "2", "x1"]) == 1.0


def test_symbolic_match_uses_the_simplifier_and_columns():
    assert metrics.symbolic_match(["*", "1.5", "x1"], ["*", "2", "x1"])
    assert not metrics.symbolic_match(["*", "1.5", "x2"], ["*", "2", "x1"])
    assert not metrics.symbolic_match(["*", "x1", "1.5"], ["*", "2", "x1"])

    def sort_products(tokens):  # a stand-in simplifier: canonical operand order of one product
        return ["*", *sorted(tokens[1:])] if tokens[0] == "*" and len(tokens) == 3 else tokens

    assert metrics.symbolic_match(["*", "x1", "1.5"], ["*", "2", "x1"], simplify=sort_products)


def test_symbolic_match_with_the_real_simplifier_when_present():
    simplify = metrics.load_simplifier()
    if simplify is None:
        pytest.skip("lawfinder.simplipy.simplify has not landed")
    # x1*2*x2 and 3.1*x2*x1 are the same law up to constants and operand order.
    assert metrics.symbolic_match(["*", "*", "x1", "2", "x2"], ["*", "*", "3.1", "x2", "x1"], simplify)


def test_bootstrap_ci_of_a_normal_mean_has_the_textbook_width():
    x = np.random.default_rng(1).normal(0.0, 1.0, size=2000)
    est = bootstrap_ci(x, n_resamples=2000, seed=3)
    half_width = 1.96 / math.sqrt(2000)
    assert est.low < 0.0 < est.high
    assert (est.high - est.low) / 2 == pytest.approx(half_width, rel=0.15)
    assert est.value == pytest.approx(float(np.mean(x)))
    assert est.n == 2000


def test_bootstrap_ci_of_a_proportion_matches_the_normal_approximation():
    x = (np.random.default_rng(2).random(400) < 0.3).astype(float)
    est = bootstrap_ci(x, n_resamples=2000, seed=0)
    p = x.mean()
    half_width = 1.96 * math.sqrt(p * (1 - p) / 400)
    assert (est.high - est.low) / 2 == pytest.approx(half_width, rel=0.15)


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(5)
    hits = 0
    for trial in range(200):
        est = bootstrap_ci(rng.exponential(1.0, size=60), seed=trial)
        hits += est.low <= 1.0 <= est.high
    assert 0.85 <= hits / 200 <= 0.99


def test_bootstrap_ci_edge_cases():
    assert math.isnan(bootstrap_ci([]).value)
    assert bootstrap_ci([np.nan, 2.0]).as_dict() == {"value": 2.0, "low": 2.0, "high": 2.0, "n": 1}
    assert bootstrap_ci([1.0, 5.0, 9.0], statistic="median").value == 5.0
    with pytest.raises(ValueError, match="statistic"):
        bootstrap_ci([1.0], statistic="mode")
