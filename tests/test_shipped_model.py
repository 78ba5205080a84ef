"""The model shipped in the package: it loads with no network, stays small, and recovers the easiest example law."""

from __future__ import annotations

from pathlib import Path

import pytest

from lawfinder import Regressor
from lawfinder.inference.proposal import shipped_checkpoint
from lawfinder.model import load_model
from lawfinder.tables import read_table

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_shipped_weights_load_and_fit_the_size_budget():
    path = shipped_checkpoint()
    assert path.stat().st_size <= 25 * 2**20
    model, config = load_model(path)
    assert config.max_variables >= 2 and not model.training


def test_default_regressor_recovers_ohms_law_exactly():
    table = read_table(EXAMPLES / "ohm.csv", target="V")
    model = Regressor(n_samples=128, random_state=0).fit(table.X, table.y, feature_names=table.feature_names)
    assert model.best_.tokens == ["*", "x1", "x2"]
    assert model.best_.expression == "I * R"
    assert model.best_.fvu < 1e-20


def test_a_table_wider_than_the_shipped_model_is_narrowed_with_a_note():
    import numpy as np

    limit = load_model(shipped_checkpoint())[1].max_variables
    X = np.random.default_rng(0).normal(size=(50, limit + 1))
    with pytest.warns(UserWarning, match=f"X has {limit + 1} columns but the model reads at most {limit}"):
        r = Regressor(n_samples=8, n_jobs=1, random_state=0).fit(X, X[:, 0])
    assert r.selection_mask_.sum() == limit and r.selection_mask_[0] and r.best_.fvu < 1e-12   # y = x1
