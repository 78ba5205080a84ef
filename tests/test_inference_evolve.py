"""Evolution of the best formulas (inference/evolve.py): mutations and crossovers write valid formulas over the
table's columns with only the operators allowed, and in the search they find laws the proposer never writes."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.inference import Regressor
from lawfinder.inference.constraints import Constraints
from lawfinder.inference.evolve import Vocabulary, crossover, extend, offspring, point, regrow, shrink, wrap
from lawfinder.inference.fitting import FitConfig
from lawfinder.inference.ranking import Ranking
from lawfinder.inference.search import search
from lawfinder.simplipy import parse
from lawfinder.simplipy.tokens import is_variable, validate, variable_index

PARENTS = [parse(t) for t in ("C * x1 * sin(x2)", "x1 + x2", "exp(-x1) * cos(x2 + C)", "x1 / (x2 + C)")]


@pytest.mark.parametrize("mutation", [point, wrap, shrink, regrow, extend])
def test_every_mutation_writes_a_valid_formula_over_the_tables_columns(mutation):
    vocab, rng = Vocabulary(2), np.random.default_rng(0)
    changed = 0
    for i in range(400):
        parent = PARENTS[i % len(PARENTS)]
        child = mutation(parent, vocab, rng)
        if child is None:
            continue
        validate(child)
        assert all(variable_index(t) < 2 for t in child if is_variable(t))
        changed += child != parent
    assert changed > 120


def test_crossover_puts_a_subtree_of_the_other_parent_in():
    rng = np.random.default_rng(1)
    children = [crossover(PARENTS[1], PARENTS[2], rng) for _ in range(200)]
    for child in children:
        validate(child)
    assert any("exp" in child or "cos" in child for child in children)


def test_offspring_favour_the_best_parents_and_keep_the_constraints():
    rules = Constraints.from_params(binary_operators=["+", "*"], unary_operators=["cos"])
    vocab, rng = Vocabulary(3, rules.allows), np.random.default_rng(2)
    parents = [parse("x1 * cos(x2)"), parse("x1 + x3")]
    children = offspring(parents, 300, vocab, rng)
    assert len(children) > 150
    assert all(rules.violation(c) is None for c in children)             # no sin, no '/', no '-': never written
    assert all(tuple(c) not in {tuple(p) for p in parents} for c in children)
    assert any(variable_index(t) == 1 for c in children for t in c if is_variable(t))
    unconstrained = offspring(parents, 300, Vocabulary(3), np.random.default_rng(2))
    assert any(t in ("sin", "exp", "/", "-", "log") for c in unconstrained for t in c)
    assert offspring([], 10, vocab, rng) == [] and offspring(parents, 0, vocab, rng) == []


def test_the_search_evolves_a_law_the_proposer_never_writes():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 3.0, (100, 2))
    y = X[:, 0] * np.cos(X[:, 1])
    propose = lambda round_, deadline: [parse("x1 * x2"), parse("x1 + x2")]  # noqa: E731
    vocab = Vocabulary(2)
    asked = []

    def evolve(parents, generator):
        asked.append(parents)
        return offspring(parents, 200, vocab, generator)

    best = lambda out: min(r.fvu for r in out.results)      # noqa: E731
    plain = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), seed=0, n_jobs=1, rounds=6)
    evolved = search(propose, X, y, None, FitConfig(n_restarts=2), Ranking(0.05), seed=0, n_jobs=1, rounds=6, evolve=evolve)
    assert best(plain) > 0.1 and best(evolved) < 1e-12
    assert len(asked) == 5                                   # rounds 2 to 6, not the first
    assert plain.rounds == 2          # without evolution, a round with nothing new ends the search


def test_evolution_is_a_regressor_argument_that_can_be_turned_off(monkeypatch):
    import lawfinder.inference.evolve as evolve

    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 5.0, (200, 2))
    y = 9.81 * X[:, 0] * np.sin(X[:, 1])
    calls = []
    real = evolve.offspring
    monkeypatch.setattr(evolve, "offspring", lambda parents, n, vocab, rng: calls.append((n, vocab.n_variables))
                        or real(parents, n, vocab, rng))
    Regressor(n_samples=64, n_rounds=3, n_jobs=1, random_state=0, evolve_share=0.5).fit(X, y)
    assert calls == [(32, X.shape[1])] * 2                 # rounds 2 and 3, half of n_samples each
    calls.clear()
    Regressor(n_samples=64, n_rounds=3, n_jobs=1, random_state=0, evolve_share=0).fit(X, y)
    assert calls == []
    for bad in (-1, float("nan"), True):
        with pytest.raises(ValueError, match="evolve_share"):
            Regressor(evolve_share=bad).fit(X, y)


def test_a_table_wider_than_the_model_is_evolved_over_every_column(monkeypatch):
    """The model reads 3 of 5 columns; with a time budget the full table's own search evolves formulas of all 5."""
    import lawfinder.inference.evolve as evolve

    rng = np.random.default_rng(3)
    X = rng.uniform(0.5, 2.0, (200, 5))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.1 * X[:, 3]
    widths = []
    real = evolve.offspring
    monkeypatch.setattr(evolve, "offspring", lambda parents, n, vocab, rng: widths.append(vocab.n_variables)
                        or real(parents, n, vocab, rng))
    with pytest.warns(UserWarning, match="model reads at most 3"):
        model = Regressor(n_samples=32, time_budget=4, n_jobs=1, random_state=0).fit(X, y)
    assert 5 in widths and model.best_.fvu < 0.5
    skeletons = [e.skeleton for e in model.candidates_]
    assert len(set(skeletons)) == len(skeletons)        # the narrow search's best, refitted, are listed once


def test_extend_grows_a_sum_of_products_a_term_at_a_time():
    vocab, rng = Vocabulary(6), np.random.default_rng(4)
    parent = parse("x1 * x2 + x3 * x4")
    children = {tuple(extend(parent, vocab, rng)) for _ in range(2000)}
    assert tuple(parse("x1 * x2 + x3 * x4 + C * (x5 * x6)")) in children
    assert tuple(parse("(x1 * x2 + x3 * x4) * x5")) in children
