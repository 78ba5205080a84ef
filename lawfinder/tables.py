"""Reading user tables (CSV) into ``X, y, feature_names``, with errors that name the offending column and rows.

This is where data enters lawfinder, so every check on a user's table lives here: missing file or target column,
non-numeric columns, NaN/inf cells, too few rows, repeated column names, a file separated by something else than the
delimiter. ``pyarrow.csv`` does the parsing (fast, typed columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


@dataclass
class Table:
    X: np.ndarray  # (n, d) float64
    y: np.ndarray | None  # (n,) float64 for one target, (n, k) for k; None when no target was asked for
    feature_names: list[str]
    target_name: str | list[str] | None
    dropped_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # 1-based data rows (drop_nan)

    def dropped_text(self) -> str:
        """``dropped 2 row(s) with NaN/inf: 3, 7`` or an empty string when none was dropped."""
        if not len(self.dropped_rows):
            return ""
        return f"dropped {len(self.dropped_rows)} row(s) with NaN/inf: {_rows_text(self.dropped_rows)}"


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


SEPARATORS = (";", "\t", "|")  # what a one-column header containing them was probably separated by


def _parse(path: Path, delimiter: str, comment: str | None):
    """The CSV as a pyarrow Table; ``comment`` lines (first non-blank character) are left out before parsing."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(delimiter) != 1:
        raise ValueError(f"the delimiter must be one character, got {delimiter!r}")
    source: Any = path
    if comment:
        lines = path.read_bytes().splitlines(keepends=True)
        marker = comment.encode()
        source = io.BytesIO(b"".join(line for line in lines if not line.lstrip().startswith(marker)))
    try:
        return pacsv.read_csv(source, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except pa.ArrowInvalid as error:
        hint = ""
        if not comment and any(line.lstrip().startswith(b"#") for line in path.open("rb")):
            hint = "; it has lines starting with '#': pass --comment '#' (comment='#') to skip them"
        raise ValueError(f"cannot read {path} as CSV: {str(error).splitlines()[0]}{hint}") from None


def _check_header(path: Path, names: list[str], delimiter: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path} has the column name {repeated[0]!r} {names.count(repeated[0])} times; column names "
                         f"must be distinct")
    if len(names) == 1:
        for separator in SEPARATORS:
            if separator != delimiter and separator in names[0]:
                raise ValueError(f"{path} has one column, {names[0]!r}: it looks separated by {separator!r}; pass "
                                 f"--delimiter {separator!r} (delimiter= in read_table)")


def _select(path: Path, names: list[str], targets: list[str], features: Sequence[str] | None,
            exclude: Sequence[str]) -> list[str]:
    """The feature columns, in the order asked for (``features``) or of the file, without ``exclude``."""
    for name in [*(features or ()), *exclude]:
        if name not in names:
            raise ValueError(f"column {name!r} is not in {path}; its columns are {names}")
    for target in targets:
        if target in (features or ()):
            raise ValueError(f"the target column {target!r} cannot also be a feature")
    chosen = list(features) if features else [n for n in names if n not in targets]
    return [n for n in chosen if n not in set(exclude)]


def read_table(path: str | Path, target: str | Sequence[str] | None = None, drop_nan: bool = False, min_rows: int = 2,
               features: Sequence[str] | None = None, exclude: Sequence[str] = (), delimiter: str = ",",
               comment: str | None = None) -> Table:
    """Read a CSV with a header row. ``target`` names the column to predict (a list of names: several, and ``y`` is
    (n, k)); the features are ``features`` (default:
    every other column) less ``exclude``, so an ID or text column can be left out. ``delimiter`` separates fields;
    lines starting with ``comment`` are skipped. Only the columns used must be numeric."""
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table: {path}")
    table = _parse(path, delimiter, comment)
    try:
        names = list(table.column_names)
    except UnicodeDecodeError as error:  # pyarrow keeps the header's bytes and decodes them only here
        with path.open("rb") as handle:
            header = handle.readline().rstrip(b"\r\n")
        raise ValueError(f"cannot read {path}: its header {header[:80]!r} is not UTF-8 text (byte "
                         f"{error.object[error.start:error.start + 1]!r} in a column name): save the file as "
                         f"UTF-8") from None
    _check_header(path, names, delimiter)
    targets = [] if target is None else [target] if isinstance(target, str) else list(target)
    for name in targets:
        if name not in names:
            raise ValueError(f"target column {name!r} is not in {path}; its columns are {names}")
    if len(set(targets)) < len(targets):
        raise ValueError(f"a target column is named twice in {targets}")
    feature_names = _select(path, names, targets, features, exclude)
    used = [*feature_names, *targets]
    columns = []
    for name in used:
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                or pa.types.is_null(column.type)):
            example = next((v for v in column.to_pylist() if v is not None), None)
            raise ValueError(f"column {name!r} of {path} is not numeric (type {column.type}, e.g. {example!r}); "
                             f"leave it out with --exclude {name} (exclude= in read_table)")
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float64))
    if not columns or table.num_rows == 0:
        raise ValueError(f"{path} has no data rows")
    values = np.column_stack(columns)
    keep = check_finite(values, used, drop_nan)
    values = values[keep]
    if values.shape[0] < min_rows:
        raise ValueError(f"{path} has {values.shape[0]} usable row(s); at least {min_rows} are needed")
    n = len(feature_names)
    y = None if target is None else values[:, n] if isinstance(target, str) else values[:, n:]
    return Table(X=values[:, :n], y=y, feature_names=feature_names,
                 target_name=target if target is None or isinstance(target, str) else targets,
                 dropped_rows=np.flatnonzero(~keep) + 1)
