"""``lawfinder bench generate``: one worker and N workers side by side, draws and the rejection split reported."""

from __future__ import annotations

import json

from lawfinder.cli import main


def test_bench_generate_reports_one_and_n_workers(tmp_path, capsys):
    out = tmp_path / "gen.json"
    code = main(["bench", "generate", "--workers", "2", "--seconds", "0.3", "--batch-size", "8", "--no-decontaminate",
                 "--set", "max_points=64", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "generator scaling" in text and "non_finite_screen" in text
    assert "one at a time" in text and "probed in blocks" in text
    assert "numpy passes over" in text and "on rejected chains" in text
    runs = json.loads(out.read_text())["runs"]
    assert [r["workers"] for r in runs] == [1, 2]
    for r in runs:
        assert r["samples"] > 0 and r["samples_per_s"] > 0
        assert r["data_draws_per_sample"] >= r["draws_needed_per_sample"] >= 1
        assert 0 < r["full_draws_per_sample"] <= r["draws_needed_per_sample"]
        # Every sample's own points were evaluated, in one pass at least.
        assert r["evaluations_per_sample"] >= 1 and r["kept_draws_evaluated_per_sample"] >= 1
        assert r["points_evaluated_per_sample"] >= r["kept_draws_evaluated_per_sample"]
        assert 0 <= r["rejected_chain_share"] <= 1
        assert set(r["rejection_rates"]) >= {"non_finite_screen", "non_finite_data"}
        assert abs(sum(r["stage_fraction"].values()) - 1) < 0.05
