"""Checking what a user hands to ``Regressor.fit``/``predict``: arrays, lists or pandas objects -> float64 arrays.

scikit-learn's ``validate_data`` does the checking it knows (shapes, complex or sparse input, 1-D X, a 2-D y,
``n_features_in_``/``feature_names_in_``, the names at predict); this module adds what it cannot: errors that name a
non-numeric column or the rows with NaN/inf, ``drop_nan``, a constant target, and DataFrame columns matched by name.
The CSV path (``lawfinder.tables.read_table``) reports NaN/inf through the same ``check_finite``.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..tables import check_finite


class TooManyVariables(ValueError):
    """The table has more input columns than the model reads: a fact about this table and this model, not a broken
    set-up (a benchmark scores it as a failure of that problem and goes on)."""


def default_names(n_columns: int) -> list[str]:
    return [f"x{i + 1}" for i in range(n_columns)]


def _column_names(n_columns: int, feature_names: Sequence[str]) -> list[str]:
    names = [str(n) for n in feature_names]
    if len(names) != n_columns:
        raise ValueError(f"feature_names has {len(names)} name(s) but X has {n_columns} column(s)")
    if any(not n.strip() for n in names):
        raise ValueError(f"feature_names must be non-empty strings, got {names}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"feature_names must be distinct; repeated: {duplicates}")
    return names


def _as_float(values: Any, what: str, names: Sequence[str] | None = None) -> np.ndarray:
    """``values`` as float64, or a ValueError naming the first column (and an example) that is not numeric."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is not None:
        return array
    raw = np.asarray(values, dtype=object)
    columns = raw.reshape(raw.shape[0], -1).T if raw.ndim >= 1 and raw.size else [raw]
    for j, column in enumerate(columns):
        for value in np.ravel(column):
            try:
                float(value)
            except (TypeError, ValueError):
                label = (f"column {names[j]!r}" if names is not None and j < len(names) else
                         f"column {j + 1}" if raw.ndim == 2 else "")
                where = f"{what} {label}".strip()
                raise ValueError(f"{where} is not numeric (e.g. {value!r})") from None
    raise ValueError(f"{what} is not numeric")


def _name_the_non_numeric(X: Any, y: Any, target_name: str, feature_names: Sequence[str] | None) -> None:
    """Raise naming the first non-numeric column of ``X`` or ``y`` if there is one; return quietly otherwise."""
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else feature_names
    if not hasattr(X, "tocsr"):
        _as_float(X, "X", names)
    if y is not None:
        _as_float(y, f"target {target_name!r}")


def _num_rows(X: Any) -> int | None:
    try:
        return X.shape[0] if hasattr(X, "shape") and len(X.shape) else len(X)
    except TypeError:
        return None


def check_sample_weight(sample_weight: Any, n_rows: int) -> np.ndarray | None:
    """``sample_weight`` as (n,) float64 (None: every row counts once). ValueError, naming the problem, for another
    length, NaN/inf, a negative weight or weights that are all zero."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numbers, one per row") from None
    if w.ndim == 0:
        w = np.full(n_rows, float(w))
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight has shape {w.shape} but X has {n_rows} rows: give one weight per row")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(f"sample_weight must be finite and >= 0; row(s) {', '.join(str(i + 1) for i in bad[:5])} "
                         f"are not ({w[bad[0]]!r})")
    if not w.sum() > 0:
        raise ValueError("sample_weight is zero in every row: nothing to fit")
    return w


def check_fit_data(estimator: Any, X: Any, y: Any, feature_names: Sequence[str] | None = None,
                   drop_nan: bool = False, sample_weight: Any = None
                   ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """Validated ``X`` (n, d), ``y`` (n,), the variable names and the row weights (None without ``sample_weight``
    and without repeated rows) for ``estimator.fit``; sets ``n_features_in_`` and ``feature_names_in_`` (from a
    DataFrame's columns or ``feature_names``). Rows of weight 0 are left out: they count for nothing; identical rows
    become one row of their total weight (``merge_duplicate_rows``).

    Raises ValueError for: non-numeric columns (named), shapes scikit-learn rejects, NaN/inf (naming rows and
    columns; ``drop_nan=True`` drops those rows instead), fewer than 2 rows, a constant target, bad weights.
    """
    from sklearn.utils.validation import validate_data

    from sklearn.utils import _safe_indexing

    target_name = str(getattr(y, "name", None) or "y")
    # scikit-learn rejects a non-finite y outright; rows are named (or dropped) here first.
    with warnings.catch_warnings():  # a complex y is scikit-learn's error, just below
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        y_values = _as_float(y, f"target {target_name!r}")
    if y_values.ndim in (1, 2) and y_values.size and y_values.shape[0] == _num_rows(X):
        w = check_sample_weight(sample_weight, y_values.shape[0])
        keep = check_finite(y_values.reshape(y_values.shape[0], -1), [target_name], drop_nan)
        if not keep.all():
            X, y = _safe_indexing(X, keep), _safe_indexing(y, keep)
            w = None if w is None else w[keep]
    else:
        w = None  # checked below, once X is an array whose rows can be counted
    try:
        X, y = validate_data(estimator, X, y, dtype=np.float64, y_numeric=True, ensure_all_finite=False,
                             ensure_min_samples=2)
    except ValueError as error:
        if "convert" in str(error) or "numeric" in str(error):
            _name_the_non_numeric(X, y, target_name, feature_names)
        raise
    # validate_data converts X to float64 but leaves a float32 y as it is, where squares overflow near 1e19 and
    # var(y) = inf would make every candidate's FVU 0.
    y = np.asarray(y, dtype=np.float64)
    if w is None and sample_weight is not None:
        w = check_sample_weight(sample_weight, X.shape[0])
    if feature_names is not None:
        names = _column_names(X.shape[1], feature_names)
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        names = _column_names(X.shape[1], list(estimator.feature_names_in_))
    else:
        names = default_names(X.shape[1])
    keep = check_finite(np.column_stack([X, y]), [*names, target_name], drop_nan)
    if w is not None:
        keep &= w > 0
    X, y, w = merge_duplicate_rows(X[keep], y[keep], None if w is None else w[keep])
    if X.shape[0] < 2:
        raise ValueError(f"{X.shape[0]} usable row(s) after dropping rows with NaN/inf or weight 0: at least 2 are "
                         f"needed to fit a formula")
    check_target_varies(y, target_name)
    return X, y, names, w


def merge_duplicate_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray | None):
    """Identical rows (the same X and y) -> one row carrying their total weight, in the order of first occurrence.

    The least-squares problem is the same, the model reads each point once, and a row repeated k times gives exactly
    the fit that weight k gives (scikit-learn's sample-weight equivalence). Without duplicates nothing changes."""
    _, first, inverse = np.unique(np.column_stack([X, y]), axis=0, return_index=True, return_inverse=True)
    if first.size == y.shape[0]:
        return X, y, w
    weights = np.bincount(inverse.ravel(), weights=w, minlength=first.size)
    order = np.argsort(first, kind="stable")
    return X[first[order]], y[first[order]], weights[order].astype(np.float64)


def split_targets(y: Any) -> list[tuple[str, Any]] | None:
    """``[(name, column), ...]`` when ``y`` holds several targets (a DataFrame of k >= 2 columns, or a 2-D array of
    k >= 2 columns, named y1..yk), else None (one target, validated as usual)."""
    if hasattr(y, "columns") and hasattr(y, "iloc"):
        if len(y.columns) < 2:
            return None
        return [(str(name), y.iloc[:, j]) for j, name in enumerate(y.columns)]
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        return None
    try:
        shape = np.shape(y)
    except ValueError:  # ragged
        return None
    if len(shape) != 2 or shape[1] < 2:
        return None
    values = np.asarray(y)
    return [(f"y{j + 1}", values[:, j]) for j in range(shape[1])]


def check_target_varies(y: np.ndarray, name: str) -> None:
    """ValueError naming the target when it has one value in every row (a formula has nothing to explain)."""
    if y.size and np.ptp(y) == 0:
        raise ValueError(f"the target {name!r} is constant ({float(y[0])!r} in every row): there is nothing to fit")


def check_predict_data(estimator: Any, X: Any, names_from_frame: bool) -> np.ndarray:
    """``X`` as a float64 array in the fitted column order. A DataFrame holding the fitted names in another order is
    reordered by name; missing or unknown names are scikit-learn's error. Plain arrays are taken in the fitted order
    (no warning when the names were given to ``fit`` as ``feature_names``, not by a DataFrame)."""
    from sklearn.utils.validation import validate_data

    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and hasattr(X, "columns") and list(X.columns) != list(fitted) \
            and sorted(map(str, X.columns)) == sorted(fitted) and len(set(X.columns)) == len(X.columns):
        X = X[list(fitted)]
    with warnings.catch_warnings():
        if not names_from_frame:
            warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)
        return validate_data(estimator, X, reset=False, dtype=np.float64)


def check_score_target(y: Any, n_rows: int) -> np.ndarray:
    """``y`` for ``score``: one finite numeric column matching ``n_rows``."""
    from sklearn.utils.validation import check_array, column_or_1d

    y = column_or_1d(check_array(y, ensure_2d=False, dtype=np.float64, input_name="y"), warn=True)
    if y.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} row(s) but y has {y.shape[0]} value(s); they must match")
    return y
