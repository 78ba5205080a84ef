"""``lawfinder bench draw-rules``: replaying ways of giving up on a skeleton's data over recorded data chains."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfinder.cli import main
from lawfinder.perf.draw_rules import ChainRecord, compare_rules, parse_rules, replay


def _records() -> list[ChainRecord]:
    few = np.array([16, 16] + [0] * 62, dtype=np.int16)  # 2 of 64 mini-draws had 16 finite leading points
    return [
        ChainRecord("ok", 1, 64, True, frozenset({"sin"})),  # first draw good: no rule touches it
        ChainRecord("ok", 5, 64, True, frozenset({"asin"}), few),  # a slow success
        ChainRecord("non_finite_data", 20, 64, False, frozenset({"log"}), np.zeros(64, dtype=np.int16)),
        ChainRecord("non_finite_screen", 1, 64, False, frozenset({"log"})),
    ]


def test_replay_as_run_counts_every_chains_draws():
    out = replay(_records(), ("as run",))
    assert out["samples"] == 2 and out["draws_per_sample"] == (1 + 5 + 20 + 1) / 2


def test_replay_foresight_drops_only_the_chains_that_fail_all_draws():
    out = replay(_records(), ("foresight",))
    assert out["samples"] == 2 and out["draws_per_sample"] == (1 + 5 + 1 + 1) / 2
    with pytest.raises(ValueError, match="unknown draw rule"):
        replay(_records(), ("bogus",))


def test_replay_max_data_tries_caps_draws_and_loses_slow_successes():
    four = replay(_records(), ("max_data_tries", 4))
    assert four["samples"] == 1 and four["draws_per_sample"] == 1 + 4 + 4 + 1
    six = replay(_records(), ("max_data_tries", 6))
    assert six["samples"] == 2 and six["draws_per_sample"] == (1 + 5 + 6 + 1) / 2


def test_replay_screen_drops_chains_with_too_few_passing_mini_draws():
    strict = replay(_records(), ("screen", 8, 64, 3))  # 2 passes < 3: the slow success is dropped too
    assert strict["samples"] == 1 and strict["draws_per_sample"] == 1 + 1 + 1 + 1
    lenient = replay(_records(), ("screen", 8, 64, 2))
    assert lenient["samples"] == 2 and lenient["draws_per_sample"] == (1 + 5 + 1 + 1) / 2
    # Only the first S mini-draws count, and a draw of n points needs only min(k, n) of them finite.
    assert replay(_records(), ("screen", 8, 1, 1))["samples"] == 2
    short = [ChainRecord("ok", 3, 4, True, frozenset(), np.array([4, 0], dtype=np.int16))]
    assert replay(short, ("screen", 16, 2, 1))["samples"] == 1


def test_compare_rules_reports_lost_samples_and_thinned_operators(monkeypatch):
    monkeypatch.setattr("lawfinder.perf.draw_rules.MIN_SUPPORT", 1)
    rows = {r["rule"]: r for r in compare_rules(_records(), [("max_data_tries", 4)])}
    assert rows["as run"]["samples_lost"] == 0
    four = rows["max_data_tries=4"]
    assert four["samples_lost"] == 0.5
    assert four["most_thinned"][0] == ["asin", 0.0]


def test_rules_are_parsed_and_checked():
    assert parse_rules("4, 6", "8/32/3", 20, 64, 16) == [("max_data_tries", 4), ("max_data_tries", 6),
                                                         ("screen", 8, 32, 3)]
    with pytest.raises(ValueError, match="max_data_tries"):
        parse_rules("30", "", 20, 64, 16)
    with pytest.raises(ValueError, match="k/S/m"):
        parse_rules("", "8-32-3", 20, 64, 16)
    with pytest.raises(ValueError, match="1 <= m <= S"):
        parse_rules("", "8/32/40", 20, 64, 16)


def test_bench_draw_rules_runs_a_small_recording(tmp_path, capsys):
    out = tmp_path / "rules.json"
    code = main(["bench", "draw-rules", "--samples", "40", "--no-decontaminate", "--set", "max_points=64",
                 "--tries", "4", "--screens", "8/32/3", "--out", str(out)])
    assert code == 0
    assert "max_data_tries=4" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["samples"] == 40 and report["chains"] >= 40
    rows = {r["rule"]: r for r in report["rows"]}
    assert set(rows) == {"as run", "foresight", "max_data_tries=4", "screen k=8 S=32 m=3"}
    assert rows["foresight"]["samples_lost"] == 0
    assert rows["as run"]["draws_per_sample"] >= 1
    assert all(0 <= r["samples_lost"] < 1 for r in rows.values())
    assert main(["bench", "draw-rules", "--samples", "10", "--screens", "8/32"]) == 2
