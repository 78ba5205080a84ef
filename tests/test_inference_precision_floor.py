"""The ranking's FVU floor at the data's own precision: on float32 data a longer formula that fits y's rounding does
not outrank the law."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.evaluation.datasets import generate, preset
from lawfinder.inference.fitting import FitResult
from lawfinder.inference.ranking import FVU_FLOOR, PRECISION_FACTOR, Ranking, precision_floor
from lawfinder.simplipy import parse


def test_precision_floor_is_what_rounding_y_to_float32_leaves():
    y = np.random.default_rng(0).uniform(1.0, 2.0, 4096)
    held = y.astype(np.float32).astype(np.float64)
    # In [1, 2) float32's spacing is 2**-23: rounding leaves a variance of spacing**2 / 12.
    expected = PRECISION_FACTOR * (2.0 ** -23) ** 2 / 12.0 / np.var(held)
    assert precision_floor(held) == pytest.approx(expected, rel=1e-9)
    assert precision_floor(y.astype(np.float32)) == precision_floor(held)
    assert precision_floor(y) == FVU_FLOOR                             # float64 data: epsilon, as before
    assert precision_floor(np.arange(20.0)) == FVU_FLOOR                # whole numbers are exact, not rounded
    assert precision_floor(np.full(8, 1.5, dtype=np.float32)) == FVU_FLOOR  # no spread: nothing to rank by


def test_precision_floor_weighs_rows_like_the_fvu():
    y = np.concatenate([np.full(50, 1.25), np.full(50, 1000.5)]).astype(np.float32)
    light_big = np.r_[np.ones(50), np.full(50, 1e-3)]
    # Rounding is coarser at 1000 than at 1: weighting those rows down lowers the rounding share of the variance.
    assert precision_floor(y, light_big) != precision_floor(y)
    assert precision_floor(y, np.ones(100)) == pytest.approx(precision_floor(y))


def test_fits_below_the_floor_tie_and_the_shorter_ranks_first():
    law = FitResult(list("ab"), [], 2e-15)        # 2 tokens, rounding-level FVU
    longer = FitResult(list("abcdef"), [], 7e-16)  # 6 tokens that fit some of the rounding
    assert Ranking(0.05).order([law, longer]) == [1, 0]            # float64 epsilon: a 2.6x lower FVU pays for 4 tokens
    assert Ranking(0.05, floor=1e-14).order([law, longer]) == [0, 1]
    assert Ranking(0.05, floor=1e-14).of(law) == pytest.approx(-14 + 0.1)
    assert math.isinf(Ranking(0.05, floor=1e-14).of(FitResult(["a"], [], math.nan)))


def test_on_float32_data_the_law_outranks_a_longer_form_that_fits_the_rounding():
    """FastSRB's II.38.3 (x1 x2 x3 / x4), drawn and stored in float32 as the benchmark does: the longer form's
    constant fits some of y's rounding, which float64 epsilon as the floor let it outrank the law with."""
    data = generate(preset("short", datasets_per_equation=1), keep=["II.38.3"]).datasets[0]
    X, y = data.X_fit, data.y_fit
    law, longer = parse("x1 * x2 * x3 / x4"), parse("x1 * x2 * x3 / (x4 - C * x2)")
    model = Regressor(proposer=lambda X, y: [law, longer], n_samples=2, random_state=0, evolve_share=0,
                      simplify=False).fit(X, y)
    by_length = sorted(model.candidates_, key=lambda e: e.complexity)
    assert by_length[1].fvu < by_length[0].fvu   # the longer form does fit closer...
    assert model.best_.expression == "x1 * x2 * x3 / x4"   # ...but not closer than the data's precision
    assert model.best_.objective == pytest.approx(math.log10(precision_floor(y)) + 0.05 * 7)
    # The same values in float64 (not float32-held once scaled): epsilon is the floor again.
    wide = Regressor(proposer=lambda X, y: [law], n_samples=1, random_state=0, evolve_share=0,
                     simplify=False).fit(X, y.astype(np.float64) * (1.0 + 1e-12))
    assert wide.best_.objective == pytest.approx(math.log10(max(wide.best_.fvu, FVU_FLOOR)) + 0.05 * 7)
