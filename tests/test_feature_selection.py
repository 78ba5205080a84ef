"""Tables wider than the search reads: the columns a random forest ranks first (``select_columns``), the formula
mapped back onto the full table (``widen``), ``Regressor(select_k_features=...)`` and its automatic use when a table
has more columns than the model reads; identical rows merged into weights; the baselines (affine, power laws) every
model search also fits, over the full table too."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lawfinder.inference import Regressor
from lawfinder.inference.feature_selection import select_columns, widen
from lawfinder.inference.proposal import baselines
from lawfinder.inference.validate import merge_duplicate_rows


def _table(rows=300, columns=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1.0, 5.0, (rows, columns))
    return X, 2.5 * X[:, 1] * X[:, 4]


def test_the_forest_keeps_the_informative_columns_in_table_order():
    X, y = _table()
    assert set(select_columns(X, y, 2)) == {1, 4}
    chosen = select_columns(X, y, 3, required=[5])
    assert len(chosen) == 3 and {1, 4, 5} == set(chosen) and list(chosen) == sorted(chosen)
    assert select_columns(X, y, 6) == tuple(range(6)) == select_columns(X, y, 9)
    with pytest.raises(ValueError, match="2 required variables do not fit in the 1 columns"):
        select_columns(X, y, 1, required=[0, 3])


def test_widen_renames_the_variables_onto_the_full_table():
    assert widen(["+", "*", "<constant>", "x1", "x3"], (1, 4, 9)) == ["+", "*", "<constant>", "x2", "x10"]


def test_a_wide_table_is_searched_on_the_columns_the_model_reads():
    X, y = _table()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = Regressor(n_samples=128, n_jobs=1, random_state=0).fit(X, y)
    notes = [str(w.message) for w in caught if "reads at most 3" in str(w.message)]
    assert len(notes) == 1 and "x2" in notes[0] and "x5" in notes[0]
    assert r.selection_mask_.tolist().count(True) == 3 and r.selection_mask_[[1, 4]].all()
    assert r.n_features_in_ == 6 and r.best_.fvu < 1e-12
    assert {str(s) for s in r.sympy().free_symbols} == {"x2", "x5"}
    np.testing.assert_allclose(r.predict(X), y, rtol=1e-9)  # the full table, as given to fit


def test_select_k_features_narrows_any_table_and_keeps_required_columns():
    X, y = _table()
    names = [f"c{j}" for j in range(6)]
    r = Regressor(n_samples=16, n_jobs=1, random_state=0, select_k_features=2, required_variables=["c0"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chosen narrowing is no surprise: no note
        r.fit(X, y, feature_names=names)
    assert r.selection_mask_[0] and r.selection_mask_.sum() == 2
    assert Regressor(n_samples=16, n_jobs=1, random_state=0).fit(X[:, [1, 4]], y).selection_mask_ is None
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="select_k_features must be a positive integer or None"):
            Regressor(select_k_features=bad).fit(X, y)


def test_repeated_rows_become_weights_in_first_occurrence_order():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0]])
    y = np.array([1.0, 2.0, 1.0, 3.0, 2.0])
    Xm, ym, wm = merge_duplicate_rows(X, y, None)
    assert Xm.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] and ym.tolist() == [1.0, 2.0, 3.0]
    assert wm.tolist() == [2.0, 2.0, 1.0]
    _, _, wm = merge_duplicate_rows(X, y, np.array([1.0, 0.5, 2.0, 1.0, 1.0]))
    assert wm.tolist() == [3.0, 1.5, 1.0]
    same = merge_duplicate_rows(X[:2], y[:2], None)
    assert same[0] is not None and same[2] is None  # nothing repeated: unchanged, still unweighted
    # A row with the same X but another y is another observation, kept.
    assert merge_duplicate_rows(X[:2], np.array([1.0, 1.5]), None)[0].shape == (2, 2)


def test_the_baselines():
    X = np.random.default_rng(0).uniform(-1.0, 1.0, (20, 3))
    X[:11] = 0.0   # most rows without a logarithm: no power law
    y = X[:, 0] - 0.3
    assert baselines(X[:, :1], y) == [["<constant>"], ["+", "*", "<constant>", "x1", "<constant>"]]
    assert baselines(X, y)[-1] == ["+", "*", "<constant>", "x1", "+", "*", "<constant>", "x2", "+", "*",
                                   "<constant>", "x3", "<constant>"]
    assert len(baselines(X, y)) == 1 + 3 + 1
    positive = np.abs(X) + 0.5
    assert baselines(positive, positive[:, 0] / positive[:, 2] ** 2)[-1] == ["*", "x1", "*", "inv", "pow2", "x3",
                                                                             "<constant>"]


def test_a_power_law_of_every_column_is_found_when_the_model_reads_only_some():
    # F = 1.38e-23 * a * b * c / d over values of very different scales, a 3-variable model: the log-log baseline over
    # the full table finds the law the narrowed search cannot hold.
    rng = np.random.default_rng(2)
    X = 10 ** rng.uniform([-1, 2, -25, 0], [1, 4, -20, 2], (200, 4))
    y = 1.380649e-23 * X[:, 0] * X[:, 1] * X[:, 2] / X[:, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = Regressor(n_samples=8, n_jobs=1, random_state=0).fit(X, y)
    assert r.best_.fvu < 1e-12 and {str(s) for s in r.sympy().free_symbols} == {"x1", "x2", "x3", "x4"}


def test_noisy_linear_data_get_at_least_the_linear_answer():
    # A model trained on exact laws may never propose C * x + C for noisy data; the baselines make sure a fit is at
    # least as good as linear regression on the columns it reads.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = 0.9 * X[:, 0] + rng.normal(scale=0.45, size=200)
    r = Regressor(n_samples=8, n_jobs=1, random_state=0).fit(X, y)
    assert r.score(X, y) > 0.75
