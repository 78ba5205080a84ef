"""Checking what a user hands to ``Regressor.fit``/``predict``: arrays, lists or pandas objects -> float64 arrays,
with errors that name the bad column, value or rows.

The CSV path (``lawfinder.tables.read_table``) checks tables the same way; both report NaN/inf through
``lawfinder.tables.check_finite`` so the messages read alike.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tables import check_finite


def _column_names(X: Any, n_columns: int, feature_names: Sequence[str] | None) -> list[str]:
    if feature_names is None and hasattr(X, "columns"):  # a pandas DataFrame names its columns
        feature_names = [str(c) for c in X.columns]
    if feature_names is None:
        return [f"x{i + 1}" for i in range(n_columns)]
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


def check_X(X: Any, n_features: int | None = None, feature_names: Sequence[str] | None = None,
            ) -> tuple[np.ndarray, list[str]]:
    """``X`` as a (n, d) float64 array plus column names; a 1-D ``X`` is one column. Checks numbers and shape only."""
    names_hint = [str(c) for c in X.columns] if hasattr(X, "columns") else feature_names
    raw_ndim = np.ndim(X)
    array = _as_float(X, "X", names_hint)
    if raw_ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(f"X must be a 2-D table (rows x variables), got an array of shape {array.shape}")
    if array.shape[1] == 0:
        raise ValueError("X has no columns: at least one input variable is needed")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"X has {array.shape[1]} column(s) but the regressor was fitted on {n_features}")
    return array, _column_names(X, array.shape[1], feature_names)


def check_y(y: Any, n_rows: int, target_name: str = "y") -> np.ndarray:
    """``y`` as a (n,) float64 array matching ``n_rows`` rows of X."""
    y = _as_float(y, f"target {target_name!r}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be one column of targets, got an array of shape {y.shape}")
    if y.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} row(s) but y has {y.shape[0]} value(s); they must match")
    return y


def check_Xy(X: Any, y: Any, feature_names: Sequence[str] | None = None, drop_nan: bool = False,
             target_name: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validated ``X`` (n, d), ``y`` (n,) and feature names for fitting.

    Raises ValueError for: non-numeric columns, a ``y`` that is not one column, mismatched lengths, NaN/inf (naming
    rows and columns; ``drop_nan=True`` drops those rows instead), fewer than 2 rows, a constant target.
    """
    X, names = check_X(X, feature_names=feature_names)
    if target_name is None:
        target_name = str(getattr(y, "name", None) or "y")
    y = check_y(y, X.shape[0], target_name)
    if X.shape[0] == 0:
        raise ValueError("X and y are empty: at least 2 rows are needed")
    keep = check_finite(np.column_stack([X, y]), [*names, target_name], drop_nan)
    X, y = X[keep], y[keep]
    if X.shape[0] < 2:
        dropped = " after dropping rows with NaN/inf" if not keep.all() else ""
        raise ValueError(f"{X.shape[0]} usable row(s){dropped}: at least 2 are needed to fit a formula")
    if np.ptp(y) == 0:
        raise ValueError(f"the target {target_name!r} is constant ({y[0]!r} in every row): there is nothing to fit")
    return X, y, names
