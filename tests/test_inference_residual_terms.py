"""Residual terms: children ``f + C * term`` whose term explains most of what ``f`` misses."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.inference.fitting import FitConfig, fit_constants
from lawfinder.inference.ranking import Ranking
from lawfinder.inference.residual_terms import additive_terms, best_terms, features, term_children
from lawfinder.inference.search import search
from lawfinder.simplipy import parse


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([10 ** rng.uniform(0, 2, n), 10 ** rng.uniform(0, 2, n), rng.uniform(0, 6, n)])
    r = X[:, 0] / X[:, 1]
    return X, r ** 2 * (r + 1 / r - np.sin(X[:, 2]) ** 2)   # the shape of FastSRB's B20


def _fit(text, X, y):
    return fit_constants(parse(text), X, y, FitConfig(), np.random.default_rng(0))


def test_features_hold_the_variables_and_the_formulas_subtrees_at_their_constants():
    tokens = parse("C * (x1 + C)**2")
    library = dict((tuple(f), c) for f, c in features(tokens, [2.0, 0.5], 2))
    assert ("sin", "x2") in library and ("/", "x2", "x1") in library and ("pow2", "sin", "x1") in library
    assert library[("+", "x1", "<constant>")] == [0.5]          # a subtree keeps its own fitted constant
    assert library[("inv", "+", "x1", "<constant>")] == [0.5]
    assert library[tuple(tokens)] == [2.0, 0.5]                  # the whole formula, for products with it
    assert ("pow2", *tokens) not in library                      # ...but not its square: f's fit scales it already
    no_sine = features(tokens, [2.0, 0.5], 2, allows=lambda t: t not in ("sin", "pow2"))
    assert not any("sin" in f or "pow2" in f for f, _ in no_sine)


def test_best_terms_find_the_missing_product():
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 3, (300, 2))
    f = x[:, 0] ** 2
    y = f + 0.5 * np.sin(x[:, 1]) * x[:, 0]
    F = np.column_stack([np.ones(300), x[:, 0], np.sin(x[:, 1]), np.cos(x[:, 1])])
    assert best_terms(f[:, None], y, F, None, 1) == [(1, 2)]
    assert best_terms(f[:, None], f, F, None, 3) == []          # nothing is missing: no child
    # Each additive term of the formula takes its own coefficient: 2 x1 + x1^2 misses nothing of y = x1 + 3 x1^2.
    both = np.column_stack([2 * x[:, 0], x[:, 0] ** 2])
    assert best_terms(both, x[:, 0] + 3 * x[:, 0] ** 2, F, None, 3) == []


def test_additive_terms_split_sums_and_differences_at_the_root():
    tokens = parse("x1 + (C * x2 - sin(x3))")
    assert [tokens[a:b] for a, b in additive_terms(tokens)] == [["x1"], ["*", "<constant>", "x2"], ["sin", "x3"]]
    assert additive_terms(parse("x1 * (x2 + x3)")) == [(0, 5)]


def test_rounds_of_residual_terms_reach_the_law_the_parent_is_short_of():
    X, y = _data()
    best = _fit("C * (x1/x2)**3", X, y)
    fvus = [best.fvu]
    while fvus[-1] > 1e-12 and len(fvus) <= 3:   # the law is two terms away: r^3 - r^2 sin(x3)^2 + r
        best = min((fit_constants(c, X, y, FitConfig(), np.random.default_rng(0))
                    for c in term_children([best], X, y, None, 4)), key=lambda r: r.fvu)
        fvus.append(best.fvu)
    assert fvus[-1] < 1e-12 and len(fvus) == 3
    assert fvus[1] < fvus[0] / 100
    assert term_children([best], X, y, None, 4) == []   # nothing left to explain


def test_children_keep_the_constraints_and_the_length_limit():
    X, y = _data()
    parent = _fit("C * (x1/x2)**3", X, y)
    allows = lambda t: t not in ("sin", "pow2")
    children = term_children([parent], X, y, None, 8, allows=allows)
    assert children and not any(t in ("sin", "pow2") for c in children for t in c)
    assert term_children([parent], X, y, None, 8, max_length=len(parent.tokens) + 2) == [
        c for c in term_children([parent], X, y, None, 8) if len(c) <= len(parent.tokens) + 2]
    assert term_children([parent], X, y, None, 0) == []


def test_search_with_residual_terms_finds_what_the_proposals_alone_do_not():
    X, y = _data()
    propose = lambda round_, deadline: [parse("C * (x1/x2)**3"), parse("C * x1 / x2")] if round_ == 0 else []
    terms = lambda parents, X, y, w: term_children(parents, X, y, w, 4)
    plain = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), seed=0, n_jobs=1, rounds=6)
    grown = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), seed=0, n_jobs=1, rounds=6,
                   terms=terms)
    assert min(r.fvu for r in plain.results) > 1e-6
    assert min(r.fvu for r in grown.results) < 1e-12


def test_regressor_checks_residual_terms():
    X, y = _data(50)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="residual_terms"):
            Regressor(residual_terms=bad, proposer=lambda X, y: [parse("x1")]).fit(X, y)
