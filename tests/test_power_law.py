"""Power laws from a log-log fit (``inference/power_law.py``): exponents at any scale of the values, whole and half
guesses, spellings in the vocabulary, no guess without logarithms; and a law a model cannot read found by them."""

from __future__ import annotations

import numpy as np

from lawfinder.inference.power_law import exponents, factor, power_laws, skeleton
from lawfinder.simplipy import compile as compile_tokens


def _log_uniform(rows, columns, low, high, seed=0):
    return 10 ** np.random.default_rng(seed).uniform(low, high, (rows, columns))


def test_exponents_at_any_scale():
    X = _log_uniform(200, 3, -30, -20)
    y = 1.380649e-23 * X[:, 0] * X[:, 1] ** 2 / X[:, 2]
    np.testing.assert_allclose(exponents(X, y), [1.0, 2.0, -1.0], atol=1e-8)
    assert exponents(np.column_stack([X[:, 0], np.zeros(200)]), y) is None     # no row has logarithms
    with_zeros = X.copy()
    with_zeros[:50, 0] = 0.0    # an integer column through 0: those rows are left out of the log-log fit
    np.testing.assert_allclose(exponents(with_zeros, y * (with_zeros[:, 0] != 0)), [1.0, 2.0, -1.0], atol=1e-8)
    assert exponents(X[:3], y[:3]) is None                                      # fewer rows than unknowns


def test_every_spelled_power_evaluates_to_its_exponent():
    x = np.linspace(0.5, 3.0, 7).reshape(-1, 1)
    for e in (1, 2, 3, 4, 5, 0.5, 1.5, 2.5, -1, -2, -0.5, -2.5):
        tokens = ["*", *factor("x1", e), "<constant>"]
        np.testing.assert_allclose(compile_tokens(tokens)(x, (1.0,)), x[:, 0] ** e, rtol=1e-12)
    assert factor("x1", 3.5) is None and factor("x1", 6) is None
    assert skeleton(np.array([0.0, -1.0])) == ["*", "inv", "x2", "<constant>"]


def test_whole_then_half_exponents():
    X = _log_uniform(300, 2, -2, 2, seed=1)
    guesses = power_laws(X, 2.0 * X[:, 0] ** 1.5 / X[:, 1])
    assert ["*", "pow1_2", "pow3", "x1", "*", "inv", "x2", "<constant>"] in guesses
    assert len(guesses) == 2 and guesses[0] != guesses[1]
    assert power_laws(X, X[:, 0] * X[:, 1]) == [["*", "x1", "*", "x2", "<constant>"]]  # the same guess once
    assert power_laws(X, np.exp(X[:, 0] / 100)) == []   # all exponents round to 0: no law to guess
