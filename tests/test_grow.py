"""Growing the shipped model: the schedule's pure functions, the warm start that widens a 3-variable model, runs that
add up in one committed trunk (a second run continues the first), a stopped run and a killed run that resume, and
the feed's batches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lawfinder.grow.feed import Feed
from lawfinder.grow.lineage import read_lineage, trunk_path
from lawfinder.grow.recipe import Recipe, cooldown_lr, cooldown_steps, split_budget, trunk_lr
from lawfinder.grow.run import data_config, grow_run
from lawfinder.grow.warm_start import warm_start, widen_state
from lawfinder.model.build import build_model
from lawfinder.model.checkpoint import load_model, read_metadata, save_model
from lawfinder.model.presets import get_preset
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[1]
TINY = Recipe(preset="flash-tiny", model=(("max_variables", 4), ("max_len", 48)),
              data=(("min_points", 8), ("max_points", 24), ("max_operators", 4), ("max_variables", 4),
                    ("decontaminate", False), ("max_len", 48)),
              batch_size=8, warmup_steps=5, rewarm_steps=2)


def test_the_trunk_warms_up_once_per_lineage_and_briefly_per_run():
    r = Recipe(peak_lr=1e-3, warmup_steps=100, rewarm_steps=10)
    assert trunk_lr(0, 0, r) == pytest.approx(1e-5)
    assert trunk_lr(49, 49, r) == pytest.approx(5e-4)
    assert trunk_lr(0, 5000, r) == pytest.approx(1e-4)       # a later run re-warms its fresh optimiser
    assert trunk_lr(20, 5020, r) == 1e-3


def test_the_cool_down_falls_from_the_peak_as_one_minus_a_square_root():
    lrs = [cooldown_lr(i, 100, 1e-3) for i in range(100)]
    assert lrs[0] == 1e-3 and lrs[25] == pytest.approx(5e-4) and 0 < lrs[-1] < 1e-4
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert split_budget(100.0, 0.2) == (80.0, 20.0)
    assert cooldown_steps(20.0, 2.5) == 50 and cooldown_steps(1.0, 0.1) == 10
    with pytest.raises(ValueError, match="cooldown_share"):
        split_budget(10.0, 1.0)


def test_a_widened_model_reads_a_narrow_table_exactly_as_the_narrow_one(tmp_path):
    torch.manual_seed(0)
    narrow = build_model(get_preset("flash-tiny", max_variables=3)).eval()
    path = tmp_path / "narrow.pt"
    save_model(path, narrow)
    wide = build_model(get_preset("flash-tiny", max_variables=17)).eval()
    note = warm_start(wide, path)
    assert "3 variables widened to 17" in note
    X, y = torch.randn(2, 20, 3), torch.randn(2, 20)
    batch = {"X": X, "y": y, "point_mask": torch.ones(2, 20, dtype=torch.bool),
             "variable_mask": torch.ones(2, 3, dtype=torch.bool), "token_ids": torch.tensor([[1, 5, 7, 2]] * 2)}
    wide_batch = {**batch, "X": torch.cat([X, torch.zeros(2, 20, 14)], dim=2),
                  "variable_mask": torch.cat([torch.ones(2, 3, dtype=torch.bool), torch.zeros(2, 14, dtype=torch.bool)],
                                             dim=1)}
    with torch.no_grad():
        assert torch.allclose(narrow.loss(batch), wide.loss(wide_batch), atol=1e-6)
    with pytest.raises(ValueError, match="only the input embedding may differ"):
        widen_state(narrow.state_dict(), 3, build_model(get_preset("flash-tiny", d_model=48)).state_dict(), 17)


def test_the_feed_cuts_batches_of_close_point_counts_from_the_prior():
    config = data_config(replace(TINY, data=(*TINY.data, ("min_points", 1), ("max_points", 200))))
    with Feed(config, seed=3, batch_size=16, max_variables=4) as feed:
        batches = [feed.next() for _ in range(8)]
    assert all(n == 16 and a["X"].shape[2] == 4 for a, n in batches)
    spans = [a["point_mask"].sum(axis=1) for a, _ in batches]
    widths = [int(s.max() - s.min()) for s in spans]
    assert np.median(widths) < 60        # a random batch of 16 of U(1, 200) would span ~175
    assert len({int(s.max()) for s in spans}) > 4


def test_runs_add_up_in_one_trunk_and_export_a_cooled_candidate(tmp_path):
    state, run_dir = tmp_path / "growing", tmp_path / "run"
    lines: list[str] = []
    first = grow_run(state, run_dir, 4.0, recipe=TINY, report=lines.append)
    assert first["candidate"] and first["record"]["cooldown_steps"] >= 10
    lineage = read_lineage(state)
    assert lineage.trunk_steps == first["record"]["trunk_steps"] > 0
    assert lineage.runs[0]["status"] == "candidate exported" and lineage.origin == "fresh initialisation"
    trunk_before = load_model(trunk_path(state))[0].state_dict()
    candidate = load_model(run_dir / "candidate.pt")[0].state_dict()
    assert any(not torch.equal(trunk_before[k], candidate[k]) for k in candidate)   # the branch moved on

    second = grow_run(state, run_dir, 4.0, recipe=Recipe(), report=lines.append)   # the lineage's recipe wins
    lineage = read_lineage(state)
    assert lineage.recipe == TINY and [r["run"] for r in lineage.runs] == [1, 2]
    assert lineage.trunk_steps == first["record"]["trunk_steps"] + second["record"]["trunk_steps"]
    assert lineage.samples == 8 * lineage.trunk_steps
    assert any("continuing the trunk" in line for line in lines)
    history = read_metadata(run_dir / "candidate.pt")["extra"]["history"]
    assert [h["continued"] for h in history] == [False, True]
    assert json.loads((state / "history.json").read_text())["trunk_steps"] == lineage.trunk_steps


def test_a_stopped_run_saves_its_trunk_and_exports_nothing(tmp_path):
    stop = threading.Event()
    stop.set()
    result = grow_run(tmp_path / "growing", tmp_path / "run", 5.0, recipe=TINY, stop=stop, report=lambda _: None)
    assert result["candidate"] is None and not (tmp_path / "run" / "candidate.pt").exists()
    lineage = read_lineage(tmp_path / "growing")
    assert lineage.runs[-1]["status"] == "stopped" and lineage.trunk_steps == 0


def test_a_killed_run_leaves_a_trunk_the_next_run_continues(tmp_path):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(TINY.to_dict()))
    state = tmp_path / "growing"
    command = [sys.executable, "-m", "lawfinder", "grow", "--state", str(state), "--run-dir", str(tmp_path / "run"),
               "--recipe", str(recipe), "--minutes", "5", "--save-every", "0.002"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):   # wait for the first save of the trunk, then kill without warning
            if trunk_path(state).is_file() and read_lineage(state).trunk_steps > 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the run never saved its trunk")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed = read_lineage(state)
    assert killed.runs[-1]["status"] == "cut off" and killed.trunk_steps > 0
    done = subprocess.run([*command[:-4], "--minutes", "0.05"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lineage = read_lineage(state)
    assert [r["status"] for r in lineage.runs] == ["cut off", "candidate exported"]
    assert lineage.trunk_steps == killed.trunk_steps + lineage.runs[-1]["trunk_steps"]


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    from lawfinder.cli import main

    assert main(["grow", "--state", str(tmp_path), "--minutes", "0"]) == 2
    assert "--minutes must be positive" in capsys.readouterr().err
    (tmp_path / "r.json").write_text("{not json")
    assert main(["grow", "--state", str(tmp_path), "--recipe", str(tmp_path / "r.json")]) == 2
    assert "--recipe" in capsys.readouterr().err


def test_the_grow_script_runs_a_tiny_lineage_and_brings_back_its_files(tmp_path):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(TINY.to_dict()))
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "STATE": str(tmp_path / "growing"), "RUN": str(tmp_path / "run"), "GATE": "0",
           "OUT": str(out), "PYTHON": sys.executable, "PYTHONPATH": str(REPO),
           "EXTRA_ARGS": f"--recipe {recipe} --save-every 0.01"}
    done = subprocess.run(["bash", str(REPO / "deploy" / "grow.sh"), "0.05"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "a new lineage" in done.stderr and "fresh initialisation" in done.stderr   # no --init-from by default
    assert sorted(p.name for p in out.iterdir()) == ["candidate.pt", "history.json", "trunk.pt"]
    assert read_lineage(tmp_path / "growing").runs[-1]["status"] == "candidate exported"
