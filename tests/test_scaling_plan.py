"""Sweep configs are read with errors that name the bad key; the grid prices runs by the FLOPs rule; run files are
atomic and deduplicated."""

from __future__ import annotations

import json

import pytest

from lawfinder.scaling.config import PAPER_TRAIN, SizeSpec, load_config, parse_config
from lawfinder.scaling.plan import SizeProfile, plan_runs, run_name, size_profile, steps_for_budget
from lawfinder.scaling.records import append_run, read_result, read_runs, write_result

BASE = {"out": "sweep", "budgets": [1e9, 1e10],
        "sizes": [{"name": "a", "preset": "sl-tiny", "model": {"d_model": 16, "n_heads": 2}, "batch_size": 8},
                  {"name": "b", "preset": "sl-XS"}]}


def test_parse_config_fills_paper_training_and_resolves_out(tmp_path):
    config = parse_config(BASE, base_dir=tmp_path)
    assert config.out == str(tmp_path / "sweep")
    assert dict(config.train) == PAPER_TRAIN
    assert config.sizes[0] == SizeSpec("a", "sl-tiny", (("d_model", 16), ("n_heads", 2)), 8, None)
    assert config.budgets == (1e9, 1e10)


def test_toml_and_json_configs_read_the_same(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('out = "o"\nbudgets = [1e9, 1e10]\n[train]\nbetas = [0.9, 0.95]\n'
                    '[[sizes]]\nname = "a"\npreset = "sl-tiny"\nmodel = {d_model = 16, n_heads = 2}\nbatch_size = 8\n')
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"out": "o", "budgets": [1e9, 1e10], "train": {"betas": [0.9, 0.95]},
                              "sizes": [BASE["sizes"][0]]}))
    a, b = load_config(toml), load_config(js)
    assert a == b
    assert dict(a.train)["betas"] == (0.9, 0.95)


@pytest.mark.parametrize("change, message", [
    ({"budget": [1]}, "unknown key"),
    ({"budgets": [1e9, -1]}, "budgets"),
    ({"budgets": [1e9, 1e9]}, "duplicates"),
    ({"sizes": []}, "at least one"),
    ({"sizes": [{"name": "a"}]}, "needs 'preset'"),
    ({"sizes": [{"name": "a", "preset": "nope"}]}, "unknown model preset"),
    ({"sizes": [{"name": "a", "preset": "sl-tiny", "model": {"width": 3}}]}, "width"),
    ({"sizes": [BASE["sizes"][0], BASE["sizes"][0]]}, "duplicate name"),
    ({"train": {"momentum": 0.9}}, "momentum"),
    ({"data": "nope"}, "generator preset"),
    ({"data_overrides": {"max_dept": 2}}, "max_dept"),
    ({"eval": {"samples": 0}}, "samples"),
])
def test_bad_configs_name_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        parse_config({**BASE, **change})


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "none.toml")


def test_steps_for_budget_rounds_to_the_nearest_step():
    assert steps_for_budget(1e12, 1e7, 32) == 3125
    assert steps_for_budget(1e12, 3e7, 32) == 1042  # 1041.67
    assert steps_for_budget(1e6, 1e7, 32) == 0
    with pytest.raises(ValueError):
        steps_for_budget(1e12, 0, 32)


def test_run_names_are_distinct_and_path_safe():
    names = {run_name("d/32", b) for b in (1e11, 3e11, 1e12, 2.5e12)}
    assert names == {"d_32-C1e11", "d_32-C3e11", "d_32-C1e12", "d_32-C2.5e12"}


def test_size_profile_counts_linear_parameters_and_prices_a_sample():
    size = SizeSpec("a", "sl-tiny", (("d_model", 16), ("n_heads", 2), ("ffn_hidden", 64)), None, 1e-3)
    p = size_profile(size, d_out=20.0, n_points=64)
    assert p.d_in == 64 * 3  # two variables + y per point
    assert p.params == p.n_enc + p.n_dec < p.params_total
    assert p.flops_per_sample == pytest.approx(6 * (p.n_enc * 192 + p.n_dec * 20))
    assert p.lr == 1e-3 and p.batch_size == 16  # the preset's batch size when the size gives none


def test_plan_runs_prices_each_budget_and_skips_too_short_runs(tmp_path):
    config = parse_config({**BASE, "min_steps": 2}, base_dir=tmp_path)
    profiles = {"a": SizeProfile("a", 1000, 1200, 500, 500, 192, 20.0, 1e6, 8, 1e-3),
                "b": SizeProfile("b", 10**6, 10**6, 5 * 10**5, 5 * 10**5, 192, 20.0, 1e9, 32, 4.6e-4)}
    runs, skipped = plan_runs(config, profiles)
    assert [(r.name, r.steps) for r in runs] == [("a-C1e9", 125), ("a-C1e10", 1250)]
    assert runs[1].flops == 1250 * 8 * 1e6 and runs[1].samples == 10000
    assert len(skipped) == 2 and all(s.startswith("b-") for s in skipped)


def test_results_and_runs_file(tmp_path):
    write_result(tmp_path / "r1", {"name": "r1", "loss": 1.0, "r2": float("-inf")})
    assert read_result(tmp_path / "r1") == {"name": "r1", "loss": 1.0, "r2": None}
    assert read_result(tmp_path / "r2") is None
    runs = tmp_path / "runs.jsonl"
    append_run(runs, {"name": "r1", "loss": 1.0})
    append_run(runs, {"name": "r1", "loss": 2.0})  # already there: not appended again
    append_run(runs, {"name": "r2", "loss": 3.0})
    with open(runs, "a") as handle:
        handle.write('{"name": "r3", "lo')  # a partial line from a crash
    assert [(r["name"], r["loss"]) for r in read_runs(runs)] == [("r1", 1.0), ("r2", 3.0)]
    with pytest.raises(FileNotFoundError):
        read_runs(tmp_path / "none.jsonl")
