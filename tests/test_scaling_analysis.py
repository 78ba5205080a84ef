"""The study analysis recovers the laws planted in synthetic sweeps, says why it skips a fit, and draws its plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfinder.scaling.analysis import analyse, format_analysis, ratio_interval
from lawfinder.scaling.power_laws import isoflop_curve


def synthetic_runs(alpha=0.34, beta=0.28, noise=0.0, seed=0):
    """A Chinchilla-shaped sweep: 5 budgets × 7 sizes around each budget's optimum, accuracy rising with compute."""
    rng = np.random.default_rng(seed)
    runs = []
    for flops in np.logspace(16, 20, 5):
        # The analytic optimum of the loss below: N_opt = G·(C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)).
        center = np.log10((alpha * 400 / (beta * 410)) ** (1 / (alpha + beta)) * (flops / 6) ** (beta / (alpha + beta)))
        for i, log_n in enumerate(center + np.linspace(-1.0, 1.0, 7)):
            n = 10 ** log_n
            loss = 1.0 + 400 / n ** alpha + 410 / (flops / (6 * n)) ** beta
            error = min(0.99, 40 * flops ** -0.2 * (1 + (log_n - center) ** 2))
            runs.append({"name": f"s{i}-C{flops:.0e}", "size": f"s{i}@{flops:.0e}", "flops_budget": flops,
                         "flops": flops, "params": n, "loss": loss * np.exp(rng.normal(0, noise)),
                         "acc_solved": 1 - error, "acc_r2": 1 - error / 2, "tokens_per_param": flops / (6 * n * n)})
    return runs


def test_analysis_recovers_planted_laws():
    alpha, beta = 0.34, 0.28
    result = analyse(synthetic_runs(alpha, beta))
    iso = result["isoflop"]
    assert iso["interior_minima"] == 5
    assert iso["params_law"]["exponent"] == pytest.approx(beta / (alpha + beta), abs=0.03)
    assert iso["tokens_law"]["exponent"] == pytest.approx(alpha / (alpha + beta), abs=0.03)
    lo, hi = iso["tokens_per_param_ci"]
    assert lo <= iso["tokens_per_param"] <= hi
    solved = result["error_vs_compute"]["acc_solved"]
    assert solved["law"]["exponent"] == pytest.approx(-0.2, abs=1e-6)
    assert solved["flops_for_target"]["flops"] == pytest.approx((0.2 / 40) ** (1 / -0.2), rel=1e-6)
    assert result["loss_vs_compute"]["law"]["exponent"] < 0
    assert len(result["max_flops_table"]) == 35
    json.dumps(result)  # every number is JSON
    text = format_analysis(result)
    assert "tokens per parameter" in text and "interior" in text


def test_all_zero_accuracy_is_not_fitted_and_says_why():
    runs = [dict(r, acc_solved=0.0) for r in synthetic_runs()]
    fit = analyse(runs)["error_vs_compute"]["acc_solved"]
    assert "law" not in fit and "0 at every budget" in fit["skipped"]
    runs = [dict(r, acc_r2=0.0 if r["flops_budget"] < 1e19 else r["acc_r2"]) for r in synthetic_runs()]
    fit = analyse(runs)["error_vs_compute"]["acc_r2"]
    assert "law" not in fit and "only 2 of 5" in fit["skipped"]


def test_two_budgets_give_no_power_law_but_still_a_table():
    runs = [r for r in synthetic_runs() if r["flops_budget"] < 1e18]
    result = analyse(runs)
    assert "needs 3" in result["loss_vs_compute"]["skipped"]
    assert result["isoflop"]["params_law"] is None
    assert "not fitted" in format_analysis(result)


def test_missing_keys_are_named():
    with pytest.raises(ValueError, match="lacks \\['loss'\\]"):
        analyse([{"name": "r", "flops_budget": 1.0, "flops": 1.0, "params": 3}])
    with pytest.raises(ValueError, match="no runs"):
        analyse([])


def test_isoflop_curve_and_ratio_interval():
    a, b, c = isoflop_curve([1e3, 1e4, 1e5], [3.0, 2.0, 3.0])
    assert a > 0 and -b / (2 * a) == pytest.approx(4.0)
    assert isoflop_curve([1e3, 1e3, 1e4], [1, 2, 3]) is None
    assert ratio_interval([10.0]) is None
    lo, hi = ratio_interval([10.0, 20.0, 15.0])
    assert lo < 15 < hi


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    from lawfinder.scaling.plots import plot_all

    runs = synthetic_runs(noise=0.01)
    paths = plot_all(runs, analyse(runs), tmp_path)
    assert sorted(p.name for p in paths) == ["isoflop.png", "optimal.png", "vs_compute.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_target_tokens_follow_the_flops_rule():
    from lawfinder.scaling.analysis import paper_rule_size, target_tokens_at

    # F(N) = 6·N·100 per sample (100 FLOPs-equivalent tokens), 25 target tokens per sample.
    runs = [{"params": n, "flops_per_sample": 600.0 * n, "d_out": 25.0} for n in (1e4, 1e5, 1e6)]
    assert target_tokens_at(3e4, 1e12, runs) == pytest.approx(1e12 / (600 * 3e4) * 25, rel=1e-9)
    assert paper_rule_size(1e12, runs) == pytest.approx((1e12 * 25 / (600 * 15)) ** 0.5, rel=1e-3)
    assert target_tokens_at(3e4, 1e12, [{"params": 1e4, "flops_per_sample": 6e5}]) is None
    result = analyse([dict(r, **s) for r, s in zip(synthetic_runs(), [{"flops_per_sample": 600.0 * r["params"],
                                                                       "d_out": 25.0} for r in synthetic_runs()])])
    iso = result["isoflop"]
    # 25 of every 100 charged tokens are targets: the two ratios differ by that factor at every minimum.
    assert iso["target_tokens_per_param"] == pytest.approx(iso["tokens_per_param"] * 0.25, rel=1e-6)
    assert len(iso["paper_rule"]) == 5
