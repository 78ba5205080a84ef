"""Choosing the columns a search reads when a table is wider than the model (or the user's ``select_k_features``).

PySR's ``select_k_features``: a small random forest (30 trees of depth 3; PySR grows 100) is fitted to the
table and its impurity importances rank the columns; the ``k`` best are kept, in the table's order. Columns the
user requires (``required_variables``) are always kept. Pure functions over arrays: ``Regressor.fit`` calls them and
maps the formulas found back onto the full table (``widen``).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

FOREST_TREES = 30      # PySR grows 100; 30 rank the columns as well in a quarter of the time (0.06 s on 512 rows)
FOREST_DEPTH = 3
FOREST_ROWS = 4096   # rows the forest is fitted on at most (a random subset of larger tables)

_VARIABLE = re.compile(r"x([1-9][0-9]*)\Z")


def select_columns(X: np.ndarray, y: np.ndarray, k: int, sample_weight: np.ndarray | None = None,
                   required: Sequence[int] = (), seed: int = 0) -> tuple[int, ...]:
    """Indices of the ``k`` columns of ``X`` most informative about ``y`` (random-forest importances), ascending;
    every index in ``required`` among them. All columns when ``k`` is at least their number."""
    n_columns = X.shape[1]
    required = sorted(set(int(i) for i in required))
    if len(required) > k:
        raise ValueError(f"{len(required)} required variables do not fit in the {k} columns the search reads")
    if k >= n_columns:
        return tuple(range(n_columns))
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(seed)
    rows = np.arange(X.shape[0]) if X.shape[0] <= FOREST_ROWS else rng.choice(X.shape[0], FOREST_ROWS, replace=False)
    forest = RandomForestRegressor(n_estimators=FOREST_TREES, max_depth=FOREST_DEPTH, random_state=seed % 2**32)
    forest.fit(X[rows], y[rows], sample_weight=None if sample_weight is None else sample_weight[rows])
    importance = np.asarray(forest.feature_importances_, dtype=float)
    # Most important first; ties (e.g. a constant y: all zero) by column order, so the choice is reproducible.
    ranked = sorted(range(n_columns), key=lambda i: (-importance[i], i))
    chosen = list(required) + [i for i in ranked if i not in required][:k - len(required)]
    return tuple(sorted(chosen))


def widen(tokens: Sequence[str], columns: Sequence[int]) -> list[str]:
    """Prefix tokens over a sub-table's variables x1..xk -> the same formula over the full table's: ``xj`` becomes
    ``x{columns[j-1] + 1}``."""
    out = []
    for token in tokens:
        match = _VARIABLE.match(token)
        out.append(f"x{columns[int(match.group(1)) - 1] + 1}" if match else token)
    return out
