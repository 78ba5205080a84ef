"""Linear laws: sparse regressions of a transformed target over a library of products of features."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.inference.fitting import FitConfig, fit_constants
from lawfinder.inference.linear_laws import (MAX_COLUMNS, Library, LinearLaws, Screen, TRANSFORMS, screen_laws,
                                            select, target)
from lawfinder.inference.ranking import Ranking
from lawfinder.inference.search import search
from lawfinder.simplipy import parse


def _signed(rng, n, low, high):
    """FastSRB's "±" variables: log-uniform magnitudes with a random sign."""
    return rng.choice([-1.0, 1.0], n) * 10 ** rng.uniform(np.log10(low), np.log10(high), n)


def _best_fvu(candidates, X, y):
    rng = np.random.default_rng(0)
    return min(fit_constants(c, X, y, FitConfig(n_restarts=4), rng).fvu for c in candidates)


def test_the_library_has_no_constant_and_no_repeated_column_and_keeps_the_constraints():
    X = np.random.default_rng(0).uniform(1, 2, (100, 2))
    lib = Library.of(X)
    terms = [tuple(m or ()) + tuple(f) for m, f in lib.terms]
    assert ("x1", "x2") not in terms or ("x2", "x1") not in terms        # x1 * x2 once
    assert ("*", "x1", "x2") in terms and ("pow2", "-", "x1", "x2") in terms and ("cos", "-", "x1", "x2") in terms
    assert not any(m == ["inv", "x1"] and f == ["x1"] for m, f in lib.terms)   # x1 / x1 is the constant
    centred = lib.values - lib.values.mean(axis=0)
    assert np.all(np.sum(centred ** 2, axis=0) > 1e-6)
    rounded = np.round(lib.values, 9)
    assert len({rounded[:, k].tobytes() for k in range(rounded.shape[1])}) == rounded.shape[1]
    no_cos = Library.of(X, allows=lambda t: t != "cos")
    assert not any("cos" in (m or []) + f for m, f in no_cos.terms)


def test_a_wide_tables_library_is_cut_to_the_column_budget_keeping_every_variable():
    X = np.random.default_rng(0).uniform(0.5, 2, (64, 17))
    lib = Library.of(X)
    assert lib.values.shape[1] <= MAX_COLUMNS
    multiplied = {tuple(m) for m, _ in lib.terms if m is not None}
    assert all((f"x{i}",) in multiplied for i in range(1, 18))        # every variable's first power multiplies
    assert all(any(f == ["log", f"x{i}"] for _, f in lib.terms) for i in range(1, 18))


def test_the_beam_finds_a_sum_of_squares_where_the_greedy_choice_is_a_cosine():
    # Over small ranges cos(x1 - x3) is nearly 1 - (x1 - x3)^2 / 2: the single column that explains most of
    # x1^2 + x2^2 + x3^2 is that cosine, and a greedy selection never reaches the law from it.
    rng = np.random.default_rng(0)
    X = np.column_stack([_signed(rng, 256, 1e-3, 0.1) for _ in range(3)])
    t = np.sum(X ** 2, axis=1)
    lib = Library.of(X)
    cost = np.array([len(m or []) + len(f) for m, f in lib.terms], dtype=float)
    found = [(sorted(tuple(lib.terms[j][1]) for j in cols), share) for cols, share in select(t, lib.values, cost)]
    assert min(share for _, share in found) < 1e-12
    exact = [cols for cols, share in found if share < 1e-12][0]
    assert exact == [("pow2", "x1"), ("pow2", "x2"), ("pow2", "x3")]


def test_targets_leave_out_rows_a_transform_is_undefined_on_and_refuse_a_sign_change():
    X = np.linspace(1, 2, 40)[:, None]
    y = np.exp(-X[:, 0])
    y[:5] = 0.0                                                   # underflowed to zero
    t, sign, rows = target(Screen("log"), X, y)
    assert sign == 1.0 and rows.sum() == 35 and np.allclose(t, -X[5:, 0])
    y[:15] = 0.0                                                  # more than a quarter undefined: not screened
    assert target(Screen("log"), X, y) is None
    assert target(Screen("square"), X, np.sin(6 * X[:, 0])) is None          # y changes sign
    t, sign, _ = target(Screen("square"), X, -X[:, 0])
    assert sign == -1.0 and np.allclose(t, X[:, 0] ** 2)
    t, _, _ = target(Screen("over", (("x1",), ())), X, X[:, 0] ** 3)
    assert np.allclose(t, X[:, 0] ** 2)


@pytest.mark.parametrize("screen, law", [
    (Screen("log"), lambda x: np.exp(-((x[:, 0] - x[:, 1]) / x[:, 2]) ** 2 / 2) / x[:, 2]),          # I.6.2b
    (Screen("rational"), lambda x: (np.cos(x[:, 0]) - x[:, 1] / 3) / (1 - x[:, 1] * np.cos(x[:, 0]) / 3)),  # B10
    (Screen("over_square", (("x1",), ())), lambda x: x[:, 0] * np.sqrt(x[:, 1] ** 2 + x[:, 2] ** 2)),  # III.10.19
])
def test_a_screen_writes_the_law_its_transform_makes_linear(screen, law):
    rng = np.random.default_rng(1)
    X = np.column_stack([_signed(rng, 300, 0.1, 10), _signed(rng, 300, 0.1, 2), 10 ** rng.uniform(-0.5, 0.5, 300)])
    y = law(X)
    lib = Library.of(X[:256])
    candidates = screen_laws(screen, X[:256], y[:256], lib)
    assert candidates and _best_fvu(candidates, X, y) < 1e-12
    plain = screen_laws(Screen("y"), X[:256], y[:256], lib)       # the same library without the transform
    assert _best_fvu(plain, X, y) > 1e-6


def test_the_rational_screen_never_writes_y_as_a_multiple_of_itself():
    # sin(x2)^2 + cos(x2)^2 = 1: uncentred, y = y * (sin^2 + cos^2) would be an exact "law" of any y.
    rng = np.random.default_rng(2)
    X = rng.uniform(0.5, 3, (256, 2))
    y = rng.normal(size=256)
    candidates = screen_laws(Screen("rational"), X, y, Library.of(X))
    assert candidates and _best_fvu(candidates, X, y) > 0.5


def test_the_queue_runs_the_datas_screens_then_the_parents_then_the_variables():
    class Fit:
        def __init__(self, text, constants):
            self.tokens, self.constants = parse(text), constants

    X = np.random.default_rng(0).uniform(1, 2, (50, 2))
    y = X[:, 0] * X[:, 1]
    laws = LinearLaws(per_round=3)
    laws([], X, y, None)
    assert laws.done == 3 and [s.transform for s in laws.queue] == list(TRANSFORMS[3:])
    parent = Fit("C * x1", [2.0])
    laws([parent], X, y, None)                                    # queues y / f and (y / f)^2 behind the data's
    assert [s.transform for s in laws.queue] == ["over_square"]
    laws([parent], X, y, None)                                    # a parent is divided by once
    assert laws.done == 7 and laws.queue == []
    laws([], X, y, None)                                          # nothing left: each variable divides, 3 of 4 run
    assert [(s.transform, s.divisor[0]) for s in laws.queue] == [("over_square", ("x2",))]
    assert LinearLaws(per_round=0)([], X, y, None) == []


def test_search_with_linear_laws_finds_what_the_proposals_alone_do_not():
    rng = np.random.default_rng(3)
    X = np.column_stack([_signed(rng, 400, 1e-3, 0.1) for _ in range(3)])
    y = X[:, 0] * np.sqrt(X[:, 1] ** 2 + X[:, 2] ** 2)
    propose = lambda round_, deadline: [parse("C * x1 * x2"), parse("C * x1")] if round_ == 0 else []
    kw = dict(seed=0, n_jobs=1, rounds=8)
    plain = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), **kw)
    found = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), laws=LinearLaws(2), **kw)
    assert min(r.fvu for r in plain.results) > 1e-6
    assert min(r.fvu for r in found.results) < 1e-12


def test_linear_laws_keep_the_constraints():
    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 3, (200, 3))
    y = np.exp(-X[:, 0]) * np.cos(X[:, 1] - X[:, 2])
    banned = {"cos", "exp", "pow1_2"}
    laws = LinearLaws(per_round=20, allows=lambda t: t not in banned)
    out = laws([], X, y, None) + laws([], X, y, None)
    assert out and not any(banned & set(c) for c in out)


def test_regressor_checks_linear_laws():
    X = np.random.default_rng(0).uniform(1, 2, (50, 2))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="linear_laws"):
            Regressor(linear_laws=bad, proposer=lambda X, y: [parse("x1")]).fit(X, X[:, 0])
