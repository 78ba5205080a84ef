"""Power laws from a log-log fit (``inference/power_law.py``): exponents at any scale of the values, whole and half
guesses, spellings in the vocabulary, no guess without logarithms; a power of some columns factored out of a law of
the others, and a law too wide for the model found that way."""

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


def test_a_power_of_some_columns_is_factored_out_of_the_others():
    from lawfinder.inference.power_law import factored_target, power_factor, times_factor

    rng = np.random.default_rng(3)
    X = rng.uniform(1.0, 5.0, (512, 5))
    X[:, 3] = rng.uniform(0.0, 3.0, 512)
    y = X[:, 0] * X[:, 1] / X[:, 4] * np.sin(X[:, 3]) * np.exp(X[:, 2] / 2)
    # x1, x2 and 1/x5 are straight in the log-log fit; x4 (in a sine) and x3 (in an exponential) bend it. (A column
    # in a sum such as x3 + 1 over [1, 5] is nearly a power there and may be factored out too: then the model's
    # search finds nothing and the other candidates stand.)
    columns, exps = power_factor(X, y, keep=3)
    assert columns == (0, 1, 4) and exps.tolist() == [1.0, 1.0, -1.0]
    np.testing.assert_allclose(factored_target(X, y, columns, exps), np.sin(X[:, 3]) * np.exp(X[:, 2] / 2))
    law = times_factor(["*", "sin", "x4", "exp", "*", "x3", "<constant>"], columns, exps)
    np.testing.assert_allclose(compile_tokens(law)(X, (0.5,)), y, rtol=1e-12)
    assert power_factor(X, y, keep=5) is None                           # nothing to factor out
    assert power_factor(X, 3.0 * X[:, 0] / X[:, 4], keep=3) is None     # a power law already: nothing to search
    assert power_factor(X[:, 2:4], np.sin(X[:, 3]) * np.exp(X[:, 2]), keep=1) is None   # no power-like column


def test_a_law_too_wide_for_the_model_is_found_through_the_factor():
    # y = x1 x2 x3 sin(x4): the 3-variable model reads only x4 after the power x1 x2 x3 is divided out.
    import warnings

    from lawfinder.inference import Regressor

    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 3.0, (256, 4))
    y = X[:, 0] * X[:, 1] * X[:, 2] * np.sin(X[:, 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = Regressor(n_samples=128, n_jobs=1, random_state=0).fit(X, y)
    assert any("looks like a power of (x1, x2, x3) times a law of (x4)" in str(w.message) for w in caught)
    assert r.best_.fvu < 1e-12 and "sin" in str(r.sympy())
    assert r.selection_mask_.tolist() == [False, False, False, True]
