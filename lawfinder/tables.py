"""Reading user tables (CSV) into ``X, y, feature_names``, with errors that name the offending column and rows.

This is where data enters lawfinder, so every check on a user's table lives here: missing file or target column,
non-numeric columns, NaN/inf cells, too few rows. ``pyarrow.csv`` does the parsing (fast, typed columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Table:
    X: np.ndarray  # (n, d) float64
    y: np.ndarray | None  # (n,) float64, None when no target was asked for
    feature_names: list[str]
    target_name: str | None


def _rows_text(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f", ... ({len(rows)} rows)" if len(rows) > limit else "")


def check_finite(values: np.ndarray, names: list[str], drop_nan: bool = False) -> np.ndarray:
    """Mask of rows to keep. Raises naming columns and (1-based data) rows with NaN/inf unless ``drop_nan``."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return np.ones(values.shape[0], dtype=bool)
    if drop_nan:
        return ~bad.any(axis=1)
    problems = []
    for j in np.flatnonzero(bad.any(axis=0)):
        rows = np.flatnonzero(bad[:, j]) + 1
        problems.append(f"column {names[j]!r} has NaN or inf in row(s) {_rows_text(rows)}")
    raise ValueError("; ".join(problems) + " (pass drop_nan=True / --drop-nan to drop those rows)")


def read_table(path: str | Path, target: str | None = None, drop_nan: bool = False, min_rows: int = 2) -> Table:
    """Read a CSV with a header row. ``target`` names the column to predict; all other columns are features."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table: {path}")
    try:
        table = pacsv.read_csv(path)
    except pa.ArrowInvalid as error:
        raise ValueError(f"cannot read {path} as CSV: {error}") from None
    names = list(table.column_names)
    if target is not None and target not in names:
        raise ValueError(f"target column {target!r} is not in {path}; its columns are {names}")
    columns = []
    for name in names:
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                or pa.types.is_null(column.type)):
            example = next((v for v in column.to_pylist() if v is not None), None)
            raise ValueError(f"column {name!r} of {path} is not numeric (type {column.type}, e.g. {example!r})")
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float64))
    if not columns or table.num_rows == 0:
        raise ValueError(f"{path} has no data rows")
    values = np.column_stack(columns)
    keep = check_finite(values, names, drop_nan)
    values = values[keep]
    if values.shape[0] < min_rows:
        raise ValueError(f"{path} has {values.shape[0]} usable row(s); at least {min_rows} are needed")
    features = [n for n in names if n != target]
    X = values[:, [names.index(n) for n in features]]
    y = values[:, names.index(target)] if target is not None else None
    return Table(X=X, y=y, feature_names=features, target_name=target)
