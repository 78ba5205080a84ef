"""Constant fitting, ranking, candidate preparation and the in-process/Ray dispatch logic (no Ray started here)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder.inference.candidates import free_scalings, prepare_candidates
from lawfinder.inference.fitting.constants import (FitConfig, _Problem, fit_candidates, fit_constants, fvu_of,
                                         hoist_constant_free, substitute)
from lawfinder.inference.fitting.dispatch import MAX_CHUNK, MIN_CHUNK, chunk_bounds, resolve_n_jobs, use_ray
from lawfinder.inference.ranking import FVU_FLOOR, rank_order, score
from lawfinder.simplipy import compile as compile_tokens
from lawfinder.simplipy import parse

from .expression_strategies import expressions, flatten


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 5.0, (256, 2))
    return X, 9.81 * X[:, 0] * np.sin(X[:, 1]) - 1.5


# ---------------------------------------------------------------------------------------------------------- fitting
def test_exact_skeleton_recovers_constants_and_stops_early(data):
    X, y = data
    result = fit_constants(parse("C * x1 * sin(x2) + C"), X, y, rng=np.random.default_rng(1))
    assert result.fvu < 1e-20
    assert result.constants == pytest.approx([9.81, -1.5], rel=1e-9)
    assert result.n_restarts < 8  # exact on an early restart: the rest are skipped


def test_linear_constants_are_one_exact_solve_without_restarts(data):
    X, y = data
    result = fit_constants(parse("C * x1"), X, y, rng=np.random.default_rng(0))
    assert result.n_restarts == 1
    # Linear in C: the optimum is the closed-form least-squares solution.
    c = float(X[:, 0] @ y / (X[:, 0] @ X[:, 0]))
    assert result.constants == pytest.approx([c], rel=1e-9)
    assert result.fvu == pytest.approx(fvu_of(c * X[:, 0], y, float(np.var(y))), rel=1e-9)


def test_inexact_nonlinear_skeleton_runs_every_restart(data):
    X, y = data
    result = fit_constants(parse("C * exp(C * x1)"), X, y, rng=np.random.default_rng(0))
    assert result.n_restarts == 8 and 0.0 < result.fvu < 1.0


@pytest.mark.parametrize("expression, truth", [
    ("C * x1 * x2 / x3**2", [6.674e-11]),
    ("C * x1 + C", [1e30, -3e29]),
    ("C * x1 + C", [1e-30, 2e-30]),
    ("x1 / (x2 * C)", [8.854e-12]),
    # nonlinear constants tens of decades from N(0, 5^2): 1/c^2 under a root, h/k_B in an exponential
    ("x1 / sqrt(C - C * x3**2)", [1.0, 1.0 / 8.98755e16]),
    ("C * x1 / (exp(C * x1 / x2) - C)", [3e-20, 4.8e-11, 1.0]),
])
def test_constants_of_any_magnitude_are_recovered(expression, truth):
    rng = np.random.default_rng(3)
    X = rng.uniform(1.0, 5.0, (512, 3))
    X[:, 2] *= 1e7       # speeds of 1e7 m/s: u^2/c^2 of order 1e-3
    if "exp" in expression:
        X[:, 0] *= 1e10  # frequencies of 1e10 Hz against temperatures of a few K
    tokens = parse(expression)
    y = compile_tokens(tokens)(X, truth)
    result = fit_constants(tokens, X, y, rng=np.random.default_rng(0))
    assert result.fvu < 1e-12
    assert result.constants == pytest.approx(truth, rel=1e-5)


def test_candidate_without_constants_is_evaluated_once(data):
    X, y = data
    result = fit_constants(["*", "x1", "x2"], X, y)
    assert result.n_restarts == 0 and result.constants == []
    assert result.fvu == pytest.approx(np.mean((X[:, 0] * X[:, 1] - y) ** 2) / np.var(y))


def test_undefined_candidates_get_infinite_fvu_without_errors(data):
    X, y = data
    assert fit_constants(["log", "neg", "x1"], X, y).fvu == math.inf
    result = fit_constants(parse("log(C - x1) * C"), X, y, rng=np.random.default_rng(0))
    assert result.fvu > 0.0 and not math.isnan(result.fvu)  # half the domain is undefined for any C < 5


def test_more_constants_than_points_is_not_fittable():
    X = np.array([[1.0], [2.0]])
    assert fit_constants(parse("C * x1 + C * x1**2 + C"), X, np.array([1.0, 3.0])).fvu == math.inf


def test_constant_target_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="constant"):
        fit_constants(parse("C * x1"), X, np.full(X.shape[0], 2.0))


def test_restarts_mix_the_prior_with_starts_over_many_decades(data, monkeypatch):
    X, y = data
    starts = []
    import lawfinder.inference.fitting.constants as fitting

    real = fitting.restart_starts

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        starts.extend(out)
        return out

    monkeypatch.setattr(fitting, "restart_starts", spy)
    fit_constants(parse("C * exp(C * x1)"), X, y + 100.0 * X[:, 1], FitConfig(n_restarts=400),
                  np.random.default_rng(0))
    magnitudes = np.log10(np.abs(np.concatenate(starts)))
    assert np.mean(np.abs(magnitudes) < 1.5) > 0.3    # the N(0, 5^2) prior is still among them
    assert magnitudes.min() < -6 and magnitudes.max() > 6  # and so are magnitudes far outside it


def test_separable_split_reads_linear_and_inverted_constants():
    from lawfinder.inference.fitting.separable import separate

    sep = separate(parse("x1 / (C * x2) - C + C * C * exp(C * x1)"))
    assert [(lin.constant, lin.sign, lin.inverted) for lin in sep.linear] == [(0, 1, True), (1, -1, False),
                                                                           (2, 1, False)]
    assert sep.ones == [3] and sep.nonlinear == [4] and sep.fixed is None
    assert sep.constants([2.0, 3.0, 4.0], [5.0], 5) == [0.5, -3.0, 4.0, 1.0, 5.0]


@settings(max_examples=100, deadline=None)
@given(tree=expressions(max_leaves=10), seed=st.integers(0, 2**16))
def test_separable_split_computes_the_same_values(tree, seed):
    """fixed + sum a_j basis_j, with a read from the skeleton's constants, equals the skeleton itself."""
    from lawfinder.inference.fitting.separable import separate

    tokens = flatten(tree)
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 3.0, (16, 3))
    c = rng.uniform(0.5, 2.0, tokens.count("<constant>"))
    sep = separate(tokens)
    for i in sep.ones:
        c[i] = 1.0
    total = np.zeros(16) if sep.fixed is None else compile_tokens(sep.fixed)(X, c[sep.fixed_constants])
    for basis, idx, lin in zip(sep.basis, sep.basis_constants, sep.linear):
        a = lin.sign / c[lin.constant] if lin.inverted else lin.sign * c[lin.constant]
        total = total + a * compile_tokens(basis)(X, c[idx])
    expected = compile_tokens(tokens)(X, c)
    finite = np.isfinite(expected) & (np.abs(expected) < 1e8)
    np.testing.assert_allclose(total[finite], expected[finite], rtol=1e-9, atol=1e-9)


def test_projected_residual_matches_a_direct_least_squares_solve(data):
    X, y = data
    problem = _Problem(parse("C * exp(C * x1) + C * x2"), X, y)
    b = np.array([-0.4])
    with np.errstate(all="ignore"):
        r, a = problem.project(b[None, :])
    Phi = np.column_stack([np.exp(b[0] * X[:, 0]), X[:, 1]])
    direct = np.linalg.lstsq(Phi, y, rcond=None)[0]
    np.testing.assert_allclose(a[0], direct, rtol=1e-8)
    np.testing.assert_allclose(r[0] * problem.y_scale, Phi @ direct - y, atol=1e-8 * np.abs(y).max())


def test_hoisting_moves_constant_free_subtrees_out():
    reduced, hoisted = hoist_constant_free(parse("C * sin(x2) + log(x1 * x2) / C"), 2)
    assert hoisted == [["sin", "x2"], ["log", "*", "x1", "x2"]]
    assert reduced == ["+", "*", "<constant>", "x3", "/", "x4", "<constant>"]


@settings(max_examples=150, deadline=None)
@given(tree=expressions(max_leaves=10), seed=st.integers(0, 2**16))
def test_hoisted_skeleton_computes_the_same_values(tree, seed):
    tokens = flatten(tree)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, (32, 3))
    k = tokens.count("<constant>")
    c = rng.normal(0.0, 2.0, k)
    reduced, hoisted = hoist_constant_free(tokens, 3)
    assert reduced.count("<constant>") == k
    augmented = np.column_stack([X, *(compile_tokens(t)(X) for t in hoisted)]) if hoisted else X
    np.testing.assert_array_equal(compile_tokens(reduced)(augmented, c), compile_tokens(tokens)(X, c))


@settings(max_examples=100, deadline=None)
@given(tree=expressions(max_leaves=8))
def test_any_expression_fits_without_errors(tree):
    X = np.linspace(-2.0, 2.0, 24).reshape(8, 3)
    y = X[:, 0] - 2.0 * X[:, 1]
    result = fit_constants(flatten(tree), X, y, FitConfig(n_restarts=2), np.random.default_rng(0))
    assert result.fvu >= 0.0 and not math.isnan(result.fvu)
    assert len(result.constants) == flatten(tree).count("<constant>")  # even when nothing fits


def test_chunks_fitted_apart_equal_one_loop(data):
    X, y = data
    candidates = [parse(s) for s in ("C * x1", "C * sin(x2) + C", "x1 + C", "C / x2", "exp(C * x1)")]
    whole = fit_candidates(candidates, X, y, seed=7)
    parts = fit_candidates(candidates[:2], X, y, seed=7) + fit_candidates(candidates[2:], X, y, seed=7, offset=2)
    # Same starting constants; results agree up to rounding (numpy's SIMD last bits depend on array alignment).
    for a, b in zip(whole, parts):
        assert a.tokens == b.tokens and a.fvu == pytest.approx(b.fvu, rel=1e-9)
        assert a.constants == pytest.approx(b.constants, rel=1e-6)


def test_deadline_in_the_past_fits_nothing(data):
    X, y = data
    assert fit_candidates([parse("C * x1")], X, y, seed=0, deadline=time.time() - 1) == []


def test_substitute_writes_constants_in_order():
    assert substitute(parse("C * x1 + C"), [2.5, -1.0]) == ["+", "*", "2.5", "x1", "-1"]


# ---------------------------------------------------------------------------------------------------------- ranking
def test_score_is_flash_ansr_eq3():
    assert score(1e-3, 10, 0.05) == pytest.approx(-3 + 0.5)
    assert score(0.0, 4, 0.05) == pytest.approx(math.log10(FVU_FLOOR) + 0.2)
    assert score(float("nan"), 3) == math.inf and score(math.inf, 3) == math.inf
    assert FitConfig().exact_fvu == FVU_FLOOR  # stopping restarts below the floor cannot change a ranking


def test_rank_order_trades_length_against_fvu_and_breaks_ties_by_length():
    # One extra token is worth an FVU factor of 10**-0.05 ~ 0.891.
    assert rank_order([0.10, 0.10 * 0.85], [5, 6]) == [1, 0]
    assert rank_order([0.10, 0.10 * 0.95], [5, 6]) == [0, 1]
    assert rank_order([0.0, 1e-30, 0.5], [7, 5, 3]) == [1, 0, 2]  # both exact: the shorter first
    assert rank_order([math.nan, 0.3], [3, 9]) == [1, 0]
    assert rank_order([0.2, 0.2, 0.2], [4, 4, 4]) == [0, 1, 2]  # full ties keep the input (sampling) order
    assert rank_order([0.2, 0.2], [5, 4], parsimony=0.0) == [1, 0]  # equal scores: the shorter first


# ------------------------------------------------------------------------------------------------------- candidates
def test_free_scalings_turn_integer_factors_into_constants():
    assert free_scalings(["+", "mult3", "x1", "div2", "x2"]) == ["+", "*", "<constant>", "x1", "*", "<constant>",
                                                                   "x2"]


def test_prepare_candidates_drops_invalid_short_and_out_of_range_then_dedupes():
    raw = [["x1"], ["+", "x1"], ["*", "x1", "x5"], ["mult2", "x1"], ["*", "<constant>", "x1"], ["sin", "x2"],
           ["bogus", "x1"], ["sin", "x2"]]
    assert prepare_candidates(raw, n_variables=2) == [["*", "<constant>", "x1"], ["sin", "x2"]]


def test_prepare_candidates_simplifies_before_deduplicating():
    calls = []

    def simplify(tokens):
        calls.append(tokens)
        return ["x1"] if tokens == ["+", "x1", "0"] else tokens

    out = prepare_candidates([["+", "x1", "0"], ["*", "x1", "1"], ["+", "x1", "0"]], 1, simplify)
    assert out == [["x1"], ["*", "x1", "1"]]
    assert len(calls) == 3


# --------------------------------------------------------------------------------------------------------- dispatch
def test_chunk_bounds_cover_everything_in_bounded_chunks():
    for n, workers in ((128, 2), (1000, 2), (20, 2), (5000, 16), (17, 1)):
        bounds = chunk_bounds(n, workers)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        sizes = [stop - start for start, stop in bounds]
        assert all(MIN_CHUNK <= s <= MAX_CHUNK for s in sizes[:-1]) and 0 < sizes[-1] <= MAX_CHUNK
    assert len(chunk_bounds(128, 2)) == 8
    assert chunk_bounds(0, 2) == []


def test_ray_is_used_only_when_asked_or_running(monkeypatch):
    import lawfinder.inference.fitting.dispatch as parallel

    monkeypatch.setattr(parallel, "ray_is_running", lambda: False)
    assert use_ray(None, 500) is False
    monkeypatch.setattr(parallel, "ray_is_running", lambda: True)
    assert use_ray(None, 500) is True
    assert use_ray(1, 500) is False  # pinned to this process even with Ray up
    assert use_ray(2, 500) is True and use_ray(-1, 500) is (resolve_n_jobs(-1) > 1)
    assert use_ray(4, MIN_CHUNK) is False  # a single chunk is faster here
    with pytest.raises(ValueError, match="n_jobs"):
        resolve_n_jobs(0)
