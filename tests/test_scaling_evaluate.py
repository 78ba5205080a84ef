"""Held-out scoring: the best-R² candidate is the prediction, exact matches include constants after simplification,
and a model is scored end to end on a drawn held-out set."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lawfinder.scaling.config import EvalSpec
from lawfinder.scaling.evaluate import (best_candidate, dedupe, evaluate_model, exact_match, load_heldout,
                                        make_heldout, mean_decoder_tokens, r2_scores, sympy_equal)
from lawfinder.simplipy import parse, simplify

TINY_DATA = (("max_depth", 1), ("decontaminate", False))


def test_best_candidate_picks_the_highest_r2_and_survives_bad_candidates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 64))
    y = 3 * X[0] + np.sin(X[1])
    candidates = [parse("x1"), ["/", "x1", "0"], parse("3*x1 + sin(x2)"), parse("3*x1")]
    scores = r2_scores(candidates, X, y)
    assert scores[1] == -math.inf and scores[2] == pytest.approx(1.0)
    assert best_candidate(candidates, X, y) == (2, pytest.approx(1.0))
    assert best_candidate([], X, y) == (-1, -math.inf)


def test_exact_match_needs_equal_constants():
    assert exact_match(parse("x1*3 + x2"), parse("x2 + 3*x1"), simplify)
    assert not exact_match(parse("x1*3 + x2"), parse("x2 + 4*x1"), simplify)
    assert not exact_match(parse("x1*3 + x2"), parse("x2 + 3*x1"), None)  # no simplifier: tokens must be equal
    assert exact_match(parse("sin(x1)"), parse("sin(x1)"), None)


def test_sympy_decides_what_the_rules_may_not():
    assert sympy_equal(parse("3*(x1 + 2)"), parse("3*x1 + 6"))
    assert not sympy_equal(parse("3*(x1 + 2)"), parse("3*x1 + 5"))


def test_dedupe_orders_by_frequency():
    assert dedupe([["a"], ["b"], ["b"], ["c"], ["a"], ["b"]]) == [["b"], ["a"], ["c"]]


def test_heldout_is_drawn_once_and_guarded(tmp_path):
    spec = EvalSpec(problems=6, samples=4, max_len=16)
    path = make_heldout(tmp_path, "scaling-laws", TINY_DATA, spec)
    first = path.read_bytes()
    assert make_heldout(tmp_path, "scaling-laws", TINY_DATA, spec) == path and path.read_bytes() == first
    batch = load_heldout(path)
    assert batch.num_rows == 6 and mean_decoder_tokens(batch) > 1
    with pytest.raises(ValueError, match="new sweep directory"):
        make_heldout(tmp_path, "scaling-laws", TINY_DATA, EvalSpec(problems=7))


def test_evaluate_model_scores_an_untrained_model(tmp_path):
    import torch

    from lawfinder.model import build_model, get_preset

    torch.manual_seed(0)
    model = build_model(get_preset("sl-tiny", d_model=16, n_heads=2, ffn_hidden=32, n_encoder_layers=1,
                                   n_decoder_layers=1))
    spec = EvalSpec(problems=3, samples=8, max_len=12, sympy_check=False)
    batch = load_heldout(make_heldout(tmp_path, "scaling-laws", TINY_DATA, spec))
    result = evaluate_model(model, batch, spec, simplify, seed=1)
    # An untrained model: about uniform over the 40 tokens, so the loss is near log(40) and nothing is solved.
    assert abs(result["loss"] - math.log(40)) < 1.0
    assert result["n_problems"] == 3 and result["acc_solved"] == 0.0
    assert 0.0 <= result["acc_r2"] <= 1.0 and 0.0 <= result["valid_share"] <= 1.0
    again = evaluate_model(model, batch, spec, simplify, seed=1)
    assert again["loss"] == result["loss"] and again["median_best_r2"] == result["median_best_r2"]
