"""The search behind Regressor.fit: anytime rounds, what is not fitted, big tables, honest results, device choice."""

from __future__ import annotations

import math
import time
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.inference import search as search_module
from lawfinder.inference.fitting import FitConfig
from lawfinder.inference.law_checks import decades, law_found, span_warning
from lawfinder.inference.fitting import backend
from lawfinder.inference.proposal import resolve_device
from lawfinder.inference.ranking import FVU_FLOOR, Ranking
from lawfinder.inference.search import SearchConfig, search, with_scale
from lawfinder.simplipy import parse


@pytest.fixture(scope="module")
def incline():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 5.0, (200, 2))
    return X, 9.81 * X[:, 0] * np.sin(X[:, 1])


def test_device_auto_picks_cuda_only_when_there():
    assert resolve_device("auto", lambda: True) == "cuda"
    assert resolve_device("auto", lambda: False) == "cpu"
    assert resolve_device(None, lambda: False) == "cpu"
    assert resolve_device("cpu", lambda: True) == "cpu"  # an explicit device is kept


def test_backend_uses_every_core_by_default(monkeypatch):
    import lawfinder.inference.fitting.dispatch as parallel

    monkeypatch.setattr(parallel, "ray_is_running", lambda: False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    assert backend(None, 500) == "processes" and backend(1, 500) == "here" and backend(None, 10) == "here"
    monkeypatch.setattr(parallel, "ray_is_running", lambda: True)
    assert backend(None, 500) == "ray" and backend(1, 500) == "here"


def test_process_pool_matches_one_loop(incline):
    from lawfinder.inference.fitting import fit_candidates
    from lawfinder.inference.fitting import fit_all

    X, y = incline
    candidates = [parse(e) for e in ("C * x1 * sin(x2)", "C * x1", "C * exp(C * x2)", "x1 * C + x2")] * 5
    pooled = fit_all(candidates, X, y, FitConfig(n_restarts=2), seed=3, n_jobs=2)
    here = fit_candidates(candidates, X, y, FitConfig(n_restarts=2), seed=3)
    assert [r.tokens for r in pooled] == [r.tokens for r in here]
    np.testing.assert_allclose([r.fvu for r in pooled], [r.fvu for r in here], rtol=1e-6)


def test_longer_candidates_than_an_exact_fit_can_beat_are_not_fitted():
    assert Ranking(0.05).longest_that_can_win(math.log10(FVU_FLOOR) + 0.05 * 6) == pytest.approx(6)
    assert Ranking(0.05, floor=1e-14).longest_that_can_win(-14 + 0.05 * 6) == pytest.approx(6)  # the data's floor
    assert Ranking(0.05).longest_that_can_win(math.inf) == math.inf
    assert Ranking(0.0).longest_that_can_win(-3.0) == math.inf


def test_anytime_search_samples_rounds_until_the_budget_and_skips_dominated(incline, monkeypatch):
    X, y = incline
    rng = np.random.default_rng(0)
    rounds = []

    def propose(round_, deadline):
        rounds.append(round_)
        long = ["+", "*", "*", "<constant>", "x1", "sin", "x2", "*", "<constant>", f"x{1 + round_ % 2}"]
        extra = [["+", "x1", "*", "<constant>", "pow2", "x2"], ["*", "<constant>", "x1"]]
        out = [["*", "*", "<constant>", "x1", "sin", "x2"], long, *extra]
        # a fresh, long candidate each round, as a sampler's new draws
        out.append(["+", "*", "*", "<constant>", "x1", "sin", "x2", "*", "<constant>", "pow2", "+", "x2",
                    str(round_ + 2)])
        return out if round_ < 50 else []

    # A stand-in clock for the search's rounds that moves 0.2 s each time it is read (about once a round): the 5 s
    # budget ends the rounds by the clock, not by the proposer running dry (round 50), whatever this machine's speed.
    # The fits keep the real clock, far from the deadline.
    ticks, now = iter(range(10**6)), time.time()
    monkeypatch.setattr(search_module, "time", SimpleNamespace(time=lambda: now + 0.2 * next(ticks)))
    outcome = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), seed=0, n_jobs=1, time_budget=5.0)
    assert 2 < len(rounds) < 50 and outcome.rounds == len(rounds)
    assert outcome.skipped > 0  # once C * x1 * sin(x2) fits exactly, longer ones cannot win
    best = min(outcome.results, key=lambda r: (r.fvu > 1e-20, len(r.tokens)))
    assert best.tokens == ["*", "*", "<constant>", "x1", "sin", "x2"]


def test_big_tables_fit_on_a_subsample_and_score_finalists_on_every_row(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 5.0, (5000, 2))
    y = 2.0 * X[:, 0] + np.where(np.arange(5000) % 2 == 0, 0.0, 0.1 * X[:, 1] ** 2)
    seen_rows = []
    real = search_module.fit_all

    def spy(candidates, X_, *args, **kwargs):
        seen_rows.append(X_.shape[0])
        return real(candidates, X_, *args, **kwargs)

    monkeypatch.setattr(search_module, "fit_all", spy)
    outcome = search(lambda r, d: [parse("C * x1"), parse("C * x1 + C")], X, y, None, FitConfig(), Ranking(0.05), 0, 1,
                     settings=SearchConfig(fit_rows=256))
    assert seen_rows and max(seen_rows) == 256
    best = min(outcome.results, key=lambda r: r.fvu)
    full = np.mean((np.array(best.constants[0]) * X[:, 0] + (best.constants[1] if len(best.constants) > 1 else 0)
                    - y) ** 2) / np.var(y)
    assert best.fvu == pytest.approx(full, rel=1e-9)  # scored on all 5000 rows


def test_outer_scale_is_added_when_y_is_far_from_one():
    assert with_scale([parse("x1 * x2")], np.full(3, 1e-11)) == [["*", "<constant>", "*", "x1", "x2"]]
    assert with_scale([parse("x1 * x2")], np.full(3, 2.0)) == [parse("x1 * x2")]
    assert with_scale([parse("C * x1")], np.full(3, 1e30)) == [parse("C * x1")]
    assert with_scale([parse("x1 / sqrt(C - x2)")], np.full(3, 1e30)) == [parse("x1 / sqrt(C - x2)")]


@pytest.mark.parametrize("factor", [6.674e-11, 1e30, 1e-30])
def test_gravity_and_extreme_magnitudes_are_found(factor):
    rng = np.random.default_rng(2)
    X = rng.uniform(1.0, 10.0, (300, 3))
    y = factor * X[:, 0] * X[:, 1] / X[:, 2] ** 2
    proposer = lambda X, y: [parse("x1 * x2 / x3**2"), parse("x1 + x2"), parse("x1 * x2")]  # noqa: E731
    fitted = Regressor(proposer=proposer, random_state=0).fit(X, y)
    assert fitted.found_ and fitted.best_.fvu < 1e-20
    assert fitted.best_.constants == pytest.approx((factor,), rel=1e-9)


def test_a_fit_worse_than_the_mean_is_not_a_law():
    rng = np.random.default_rng(3)
    X = rng.uniform(1.0, 2.0, (200, 1))
    y = rng.standard_normal(200)
    fitted = Regressor(proposer=lambda X, y: [["exp", "x1"], ["*", "x1", "x1"]], random_state=0).fit(X, y)
    assert not fitted.found_ and fitted.best_.fvu >= 1
    assert law_found(0.5) and not law_found(1.0) and not law_found(math.inf)


def test_values_spanning_many_decades_are_named_in_a_warning():
    X = np.column_stack([np.logspace(-5, 5, 50), np.linspace(1, 2, 50)])
    assert decades(X[:, 0]) == pytest.approx(9.8, abs=0.1)  # 1st to 99th percentile of 1e-5 .. 1e5
    message = span_warning(X, X[:, 1], ["a", "b"])
    assert "a (10 decades)" in message  # printed rounded and "b" not in message.split(":")[0].replace("a (10", "")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Regressor(proposer=lambda X, y: [["*", "<constant>", "x2"]], random_state=0).fit(X, X[:, 1])
    assert any("decades" in str(w.message) for w in caught)


def test_a_law_ranks_above_a_shorter_formula_worse_than_the_mean():
    rng = np.random.default_rng(4)
    X = rng.uniform(1.0, 2.0, (300, 2))
    y = X[:, 0] + 0.05 * X[:, 1] ** 2 + rng.normal(0, 0.3, 300)
    candidates = [parse("abs(x2)"), parse("x1 + C * x2 * x2 * x2 * x2 * x2 * x2 * x2 * x2")]
    fitted = Regressor(proposer=lambda X, y: candidates, random_state=0, simplify=False).fit(X, y)
    assert fitted.candidates_[0].fvu < 1 and fitted.candidates_[1].fvu >= 1
    assert fitted.candidates_[0].objective > fitted.candidates_[1].objective  # by objective alone |x2| would win
    assert fitted.found_


def test_the_search_knobs_are_regressor_arguments_grid_search_can_reach(monkeypatch):
    from sklearn.model_selection import GridSearchCV

    from lawfinder.inference import Regressor

    seen = []
    real = search_module.search

    def spy(*args, **kwargs):
        seen.append(kwargs.get("settings") or args[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr("lawfinder.inference.regressor.search", spy)
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 2, (60, 2))
    y = X[:, 0] * X[:, 1]
    model = Regressor(proposer=lambda X, y: [parse("x1 * x2"), parse("C * x1")], n_jobs=1, fit_rows=32,
                      finalists=2, screen_rows=16)
    search = GridSearchCV(model, {"finalists": [1, 3], "screen_keep": [8, 24]}, cv=2).fit(X, y)
    assert {s.finalists for s in seen} == {1, 3} and {s.screen_keep for s in seen} == {8, 24}
    assert {s.fit_rows for s in seen} == {32} and search.best_score_ > 0.99
    with pytest.raises(ValueError, match="fit_rows must be a positive integer"):
        Regressor(fit_rows=0).fit(X, y)


def test_refinement_completes_the_best_formulas_prefixes_from_the_second_round():
    """The model is asked to complete the first third and two thirds of the best formulas so far; its completions
    join the round and are fitted like any candidate (here they finish the law the samples only began)."""
    from lawfinder.inference.fitting import FitResult
    from lawfinder.inference.search import best_formulas, refine_cuts

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (80, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + X[:, 0]
    asked = []

    def refine(prefixes, deadline):
        asked.append([list(p) for p in prefixes])
        return [[*p, *rest] for p in prefixes
                for rest in (["x1"], ["*", "sin", "x1", "x2"], ["x1", "*", "sin", "x1", "x2"])]

    propose = lambda round_, deadline: [parse("x1 + x2"), parse("x1 + sin(x1)")]  # noqa: E731
    plain = search(propose, X, y, None, FitConfig(), Ranking(0.05), seed=0, n_jobs=1, rounds=3)
    refined = search(propose, X, y, None, FitConfig(), Ranking(0.05), seed=0, n_jobs=1, rounds=3, refine=refine)
    assert len(asked) == 2                                  # rounds 2 and 3, not the first
    assert ["+", "x1"] in asked[0]                          # a prefix of 'x1 + x2' (+ x1 x2), cut after 2 of 3 tokens
    best = lambda out: min(r.fvu for r in out.results)      # noqa: E731
    assert best(plain) > 1e-3 and best(refined) < 1e-12     # the completion 'x1 + sin(x1) * x2' is the law

    formulas = {("+", "x1", "x2"): FitResult(["+", "x1", "x2"], [], 0.5, 1),
                ("x1",): FitResult(["x1"], [], math.inf, 1),
                ("*", "x1", "+", "x1", "x2"): FitResult(["*", "x1", "+", "x1", "x2"], [], 1e-3, 1)}
    first = ["*", "x1", "+", "x1", "x2"]
    # The best only; an infinite FVU never.
    assert refine_cuts(best_formulas(formulas, Ranking(0.05), 1)) == [(["*"], first), (["*", "x1", "+"], first)]
    assert [p for p, _ in refine_cuts(best_formulas(formulas, Ranking(0.05), 5))[2:]] == [["+"], ["+", "x1"]]


def test_a_splice_keeps_the_formulas_later_terms_around_the_models_new_subtree():
    """The model completing '+ ...' of 'x1 + sin(x2)' writes 'exp(x1) + x2': its new first term is right, its tail
    wrong. The splice puts 'exp(x1)' in place of 'x1' and keeps 'sin(x2)': the law, which neither had alone."""
    from lawfinder.inference.search import SearchConfig, spliced
    from lawfinder.simplipy.tokens import subtree_end

    assert [subtree_end(["+", "*", "x1", "x2", "sin", "x1"], i) for i in (0, 1, 2, 4)] == [6, 4, 3, 6]
    assert subtree_end(["+", "x1"], 0) is None
    cuts = [(["+"], ["+", "x1", "sin", "x2"]), (["+", "x1"], ["+", "x1", "sin", "x2"])]
    assert spliced([["+", "exp", "x1", "x2"], ["+", "x1", "x2"], ["+", "exp"], ["*", "x1", "x2"]], cuts) == \
        [["+", "exp", "x1", "sin", "x2"], ["+", "x1", "x2"]]   # unfinished and foreign completions give nothing
    # A number the vocabulary cannot spell comes back from the model as a constant: still the same prefix.
    assert spliced([["*", "<constant>", "x2"]], [(["*", "2.5"], ["*", "2.5", "x1"])]) == [["*", "2.5", "x2"]]

    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2, (80, 2))
    y = np.exp(X[:, 0]) + np.sin(X[:, 1])

    def refine(prefixes, deadline):
        return [[*p, "exp", "x1", "x2"] if p == ["+"] else [*p, "x2"] for p in prefixes]

    propose = lambda round_, deadline: [parse("x1 + sin(x2)")]  # noqa: E731
    best = {}
    for splice in (False, True):
        out = search(propose, X, y, None, FitConfig(), Ranking(0.05), seed=0, n_jobs=1, rounds=3, refine=refine,
                     settings=SearchConfig(refine_splice=splice))
        best[splice] = min(r.fvu for r in out.results)
    assert best[False] > 1e-3 and best[True] < 1e-12
    with pytest.raises(ValueError, match="refine_splice must be True or False"):
        SearchConfig(refine_splice="yes")


def test_refinement_is_a_regressor_argument_that_can_be_turned_off(incline, monkeypatch):
    from lawfinder.inference.proposal import ModelProposer

    X, y = incline
    calls = []
    real = ModelProposer.complete
    monkeypatch.setattr(ModelProposer, "complete", lambda self, *a: calls.append(a[3]) or real(self, *a))
    Regressor(n_samples=64, n_rounds=2, n_jobs=1, random_state=0, refine_share=0.25, refine_top=2).fit(X, y)
    assert len(calls) == 1 and calls[0] >= 1                # round 2 only; 16 completions over the prefixes
    calls.clear()
    Regressor(n_samples=64, n_rounds=2, n_jobs=1, random_state=0, refine_share=0).fit(X, y)
    assert calls == []
    with pytest.raises(ValueError, match="refine_share"):
        Regressor(refine_share=-1).fit(X, y)
