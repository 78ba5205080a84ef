"""A two-run micro-sweep end to end through the distributed trainer (Ray producer + trainer actors), then resumed:
finished runs are not trained or scored again, and a run that lost its result and last checkpoint resumes from the
checkpoint before."""

from __future__ import annotations

import os

import pytest

from lawfinder.actors.checkpoints import list_checkpoints
from lawfinder.scaling.analysis import analyse
from lawfinder.scaling.config import parse_config
from lawfinder.scaling.records import RESULT_FILE, read_runs
from lawfinder.scaling.grid_runner import run_sweep

pytestmark = pytest.mark.ray


def micro_config(out):
    # One 16-wide model and two budgets of about 3 and 6 steps of 8 samples on the depth-1 expression set.
    return parse_config({
        "out": str(out), "budgets": [1.3e8, 2.6e8], "checkpoint_every": 2, "producer_cpus": 0.5,
        "trainer_cpus": 0.5, "data_overrides": {"max_depth": 1, "decontaminate": False},
        "eval": {"problems": 3, "samples": 8, "max_len": 16},
        "sizes": [{"name": "d16", "preset": "sl-tiny", "batch_size": 8, "lr": 3e-3,
                   "model": {"d_model": 16, "n_heads": 2, "ffn_hidden": 32, "n_encoder_layers": 1,
                             "n_decoder_layers": 1}}],
    })


def test_micro_sweep_runs_scores_and_resumes(ray_session, tmp_path, monkeypatch):
    config = micro_config(tmp_path / "sweep")
    lines = []
    states = run_sweep(config, log=lines.append)
    assert states["failed"] == [] and states["pending"] == []
    assert len(states["done"]) == 2, lines

    runs = read_runs(states["runs_file"])
    assert len(runs) == 2
    for run in runs:
        assert list_checkpoints(tmp_path / "sweep" / run["name"])[-1][0] == run["steps"]
        assert run["flops"] == pytest.approx(run["steps"] * run["batch_size"] * run["flops_per_sample"])
        # A solved problem's prediction is the true formula, so its R² is 1: solved problems are a subset.
        assert 0.0 <= run["acc_solved"] <= run["acc_r2"] <= 1.0
        assert run["loss"] > 0 and run["n_problems"] == 3 and run["trainer_device"] == "cpu"
    short, long = sorted(runs, key=lambda r: r["steps"])
    assert short["steps"] < long["steps"]
    assert analyse(runs)["max_flops_table"][0]["flops"] == long["flops"]

    # Resume 1: everything finished, so nothing trains (run_job would raise) and nothing is appended twice.
    def no_training(job):
        raise AssertionError(f"finished run {job.out_dir} was trained again")

    monkeypatch.setattr("lawfinder.actors.launch.run_job", no_training)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "sweep").rglob("*.pt")}
    again = run_sweep(config, log=lines.append)
    assert sorted(again["cached"]) == sorted(states["done"]) and again["done"] == []
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "sweep").rglob("*.pt")} == stamps
    assert len(read_runs(states["runs_file"])) == 2
    monkeypatch.undo()

    # Resume 2: the long run lost its result and final checkpoint (a crash mid-run): it resumes from the one before.
    run_dir = tmp_path / "sweep" / long["name"]
    (run_dir / RESULT_FILE).unlink()
    checkpoints = list_checkpoints(run_dir)
    os.remove(checkpoints[-1][1])
    resumed_from = checkpoints[-2][0]
    third = run_sweep(config, log=lines.append)
    assert third["done"] == [long["name"]] and third["cached"] == [short["name"]]
    assert any(f"resuming at step {resumed_from}" in line for line in lines)
    assert list_checkpoints(run_dir)[-1][0] == long["steps"]
