"""Scaling-law fitting recovers known exponents and optima from synthetic, noisy data."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.scaling.power_laws import compute_optimal, error_law, fit_power_law, frontier, isoflop_minimum


def test_power_law_recovers_exponent_within_its_interval():
    rng = np.random.default_rng(1)
    x = np.logspace(15, 19, 12)
    y = 3.0e4 * x ** -0.28 * np.exp(rng.normal(0, 0.05, x.size))
    law = fit_power_law(x, y)
    assert law.exponent_ci[0] <= -0.28 <= law.exponent_ci[1]
    assert law.exponent == pytest.approx(-0.28, abs=0.02)
    assert law.r2 > 0.98
    assert law.solve(law(1e17)) == pytest.approx(1e17, rel=1e-9)


def test_power_law_interval_covers_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    x = np.logspace(0, 3, 8)
    hits = 0
    for _ in range(400):
        y = 2.0 * x ** 0.5 * np.exp(rng.normal(0, 0.1, x.size))
        lo, hi = fit_power_law(x, y).exponent_ci
        hits += lo <= 0.5 <= hi
    assert 0.91 <= hits / 400 <= 0.99


def test_power_law_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        fit_power_law([1, 2], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([1, 2, 3], [1, -2, 3])


def _chinchilla_loss(n, d, e=1.0, a=400.0, alpha=0.34, b=410.0, beta=0.28):
    return e + a / n ** alpha + b / d ** beta


def test_isoflop_minimum_finds_the_analytic_optimum():
    flops = 1e18
    sizes = np.logspace(5.5, 8.5, 9)
    losses = _chinchilla_loss(sizes, flops / (6 * sizes))
    found = isoflop_minimum(sizes, losses, flops)
    dense = np.logspace(5.5, 8.5, 20001)
    truth = dense[np.argmin(_chinchilla_loss(dense, flops / (6 * dense)))]
    assert found.interior
    assert np.log10(found.params) == pytest.approx(np.log10(truth), abs=0.1)
    assert found.tokens == pytest.approx(flops / (6 * found.params))


def test_isoflop_edge_minimum_is_flagged_not_extrapolated():
    found = isoflop_minimum([1e6, 2e6, 4e6], [3.0, 2.0, 1.0], 1e17)
    assert not found.interior and found.params == 4e6


def test_compute_optimal_recovers_allocation_exponents():
    # Under the Chinchilla form, N_opt ∝ C^(beta/(alpha+beta)) and D_opt ∝ C^(alpha/(alpha+beta)).
    alpha, beta = 0.34, 0.28
    runs = []
    for flops in np.logspace(16, 20, 6):
        center = np.log10(0.05 * flops ** (beta / (alpha + beta)))
        for log_n in center + np.linspace(-1.2, 1.2, 7):
            n = 10 ** log_n
            runs.append({"flops_budget": flops, "flops": flops, "params": n,
                         "loss": _chinchilla_loss(n, flops / (6 * n), alpha=alpha, beta=beta)})
    result = compute_optimal(runs)
    assert all(m.interior for m in result.minima)
    assert result.params_law.exponent == pytest.approx(beta / (alpha + beta), abs=0.03)
    assert result.tokens_law.exponent == pytest.approx(alpha / (alpha + beta), abs=0.03)
    assert result.tokens_per_param_range[0] <= result.tokens_per_param <= result.tokens_per_param_range[1]


def test_error_law_uses_the_best_run_per_budget():
    runs = [
        {"flops_budget": 1e16, "flops": 1e16, "acc_solved": 0.03},
        {"flops_budget": 1e16, "flops": 1e16, "acc_solved": 0.05},
        {"flops_budget": 1e17, "flops": 1e17, "acc_solved": 0.15},
        {"flops_budget": 1e18, "flops": 1e18, "acc_solved": 0.30},
        {"flops_budget": 1e19, "flops": 1e19, "acc_solved": 0.50},
    ]
    assert [r["acc_solved"] for r in frontier(runs, "acc_solved", lower_is_better=False)] == [0.05, 0.15, 0.30, 0.50]
    law = error_law(runs)
    assert law.exponent < 0 and law.n == 4


def test_isoflop_window_fits_the_neighbourhood_of_the_best_run():
    # Steep on the far side: a parabola through all seven sizes puts its vertex well away from the best run.
    sizes = np.logspace(3, 6, 7)
    losses = np.array([1.30, 1.21, 1.20, 1.24, 1.50, 2.20, 3.50])
    everything = isoflop_minimum(sizes, losses, 1e11)
    local = isoflop_minimum(sizes, losses, 1e11, window=1)
    assert local.interior and sizes[1] < local.params < sizes[3]
    # The local parabola's minimum sits on the runs; the global one promises a loss no run came near.
    assert abs(local.loss - 1.20) < 0.01 < 0.1 < abs(everything.loss - 1.20)
    with pytest.raises(ValueError, match="window"):
        isoflop_minimum(sizes, losses, 1e11, window=0)
