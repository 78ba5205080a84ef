"""``Regressor`` as a scikit-learn estimator: ``check_estimator``, ``clone``, ``Pipeline``, ``GridSearchCV``,
``cross_val_score``, and DataFrame columns matched by name.

``check_estimator`` runs twice: with a proposer (one ``C * xj + C`` per column: the real validation, fitting, ranking
and prediction, only the sampling replaced) and with the shipped model itself, whose tables of up to 30 columns are
narrowed to the columns it reads (``select_k_features``). The other tests use the shipped model on two columns with
few samples.
"""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone, is_regressor  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

from lawfinder.inference import Regressor  # noqa: E402


def linear_terms(X, y):
    """One ``C * xj + C`` per column: cheap, always valid, and good enough for sklearn's smoke tests."""
    return [["+", "*", "<constant>", f"x{j + 1}", "<constant>"] for j in range(X.shape[1])]


@pytest.fixture(scope="module")
def ohm():
    from pathlib import Path

    from lawfinder.tables import read_table

    table = read_table(Path(__file__).resolve().parents[1] / "examples" / "ohm.csv", target="V")
    return table.X, table.y


def cheap(**kwargs):
    """The shipped model with a small search: enough to find V = I * R, fast enough for many fits."""
    return Regressor(n_samples=32, n_restarts=2, n_jobs=1, random_state=0, **kwargs)


def test_check_estimator_passes():
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(Regressor(proposer=linear_terms, n_restarts=1, n_jobs=1), on_fail=None)
    failed = {r["check_name"]: repr(r["exception"]) for r in results if r["status"] == "failed"}
    assert len(results) > 40 and failed == {}


def test_check_estimator_passes_with_the_shipped_model():
    # Issue 29's target: every check, with tables of 1 to 30 columns, sample weights against repeated rows, and
    # sklearn's noisy linear data (an answer with R² > 0.5: the affine baselines).
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes that a table was narrowed to the model's columns
        results = check_estimator(Regressor(n_samples=32, random_state=0, n_jobs=1), on_fail=None)
    failed = {r["check_name"]: repr(r["exception"]) for r in results if r["status"] == "failed"}
    assert len(results) > 40 and failed == {}


def test_tags_fitted_state_and_not_fitted_error(ohm):
    X, y = ohm
    r = cheap()
    assert is_regressor(r)
    with pytest.raises(NotFittedError):
        r.predict(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(r)
    check_is_fitted(r.fit(X, y))
    assert r.n_features_in_ == 2 and not hasattr(r, "feature_names_in_")  # an array without names has none


def test_clone_keeps_parameters_and_drops_the_fit(ohm):
    X, y = ohm
    r = cheap(parsimony=0.1).fit(X, y)
    c = clone(r)
    assert c.get_params() == r.get_params() and not hasattr(c, "candidates_")


def test_pipeline_grid_search_and_cross_val_score(ohm):
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = ohm
    pipe = make_pipeline(FunctionTransformer(), cheap()).fit(X, y)
    assert pipe.score(X, y) > 0.99
    scores = cross_val_score(cheap(), X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.99)
    search = GridSearchCV(cheap(), {"parsimony": [0.01, 0.1]}, cv=2).fit(X, y)
    assert search.best_params_["parsimony"] in (0.01, 0.1)
    assert search.best_estimator_.best_.expression in ("x1 * x2", "x2 * x1")
    # The arguments issue 33 added are parameters like the others.
    assert {"warm_start", "n_rounds"} <= set(cheap().get_params())
    search = GridSearchCV(cheap(), {"n_rounds": [1, 2], "warm_start": [False, True]}, cv=2).fit(X, y)
    assert search.best_params_["n_rounds"] in (1, 2) and search.best_score_ > 0.99
    weighted = cross_val_score(cheap(), X, y, cv=2, params={"sample_weight": np.linspace(1, 2, len(y))})
    assert np.all(weighted > 0.99)


def test_dataframe_columns_are_matched_by_name(ohm):
    pd = pytest.importorskip("pandas")
    X, y = ohm
    frame = pd.DataFrame({"I": X[:, 0], "R": X[:, 1]})
    r = cheap().fit(frame, y)
    assert isinstance(r.feature_names_in_, np.ndarray) and r.feature_names_in_.dtype == object
    assert list(r.feature_names_in_) == ["I", "R"]
    swapped = frame[["R", "I"]]
    np.testing.assert_allclose(r.predict(swapped), r.predict(frame))
    # A formula that is not symmetric in its inputs tells a reorder from a silent swap.
    p = Regressor(proposer=lambda X, y: [["/", "x2", "x1"]], random_state=0).fit(frame, frame["R"] / frame["I"])
    np.testing.assert_allclose(p.predict(swapped), frame["R"] / frame["I"])
    with pytest.raises(ValueError, match="missing:\n- R"):
        r.predict(frame[["I"]])
    with pytest.raises(ValueError, match="unseen at fit time"):
        r.predict(frame.rename(columns={"R": "Q"}))


def test_feature_names_argument_names_an_array_without_warnings(ohm, recwarn):
    X, y = ohm
    r = cheap().fit(X, y, feature_names=["I", "R"])
    assert list(r.feature_names_in_) == ["I", "R"] and r.best_.expression in ("I * R", "R * I")
    r.predict(X)
    assert not [w for w in recwarn if "feature names" in str(w.message)]


def test_fit_rejects_what_sklearn_rejects(ohm):
    X, y = ohm
    with pytest.raises(ValueError, match="Complex data not supported"):
        Regressor(proposer=linear_terms).fit(X + 1j, y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        Regressor(proposer=linear_terms).fit(X[:, 0], y)
    r = Regressor(proposer=linear_terms, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        r.predict(np.array([[1.0, np.nan]]))
    with pytest.warns(sklearn.exceptions.DataConversionWarning):
        Regressor(proposer=linear_terms, random_state=0).fit(X, y.reshape(-1, 1))
