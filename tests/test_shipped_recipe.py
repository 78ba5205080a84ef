"""deploy/train_shipped.sh on the CPU with a tiny preset and a tiny time budget: it plans its steps from the clock,
continues from "shipped" weights of the same architecture (--init-from), and brings back a bf16 candidate with its
lease history that loads into fp32; the plan starts fresh, saying why, when the architectures differ."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from lawfinder.model.build import build_model
from lawfinder.model.checkpoint import load_model, read_metadata, save_model, verified_bytes
from lawfinder.model.presets import get_preset
from lawfinder.actors.shipping import SHIPPED, history_of, plan
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[1]
TINY_DATA = ("--set-data simplify=false --set-data decontaminate=false --set-data max_points=32 "
             "--set-data max_operators=5")


def test_plan_fits_the_schedule_into_the_time_left_and_says_where_it_starts(tmp_path):
    shipped = tmp_path / "shipped.pt"
    save_model(shipped, build_model(get_preset("flash-tiny")), recipe="test",
               history=[{"date": "d", "preset": "flash-tiny", "batch_size": 16, "samples": 500,
                         "samples_per_s": 400.0}])
    continued = plan("flash-tiny", seconds_left=200, batch_size=16, shipped=shipped)
    assert continued.init_from == str(shipped) and "500 samples seen" in continued.note
    assert continued.rate == 400.0 and continued.train_seconds == 200 - 90
    assert continued.max_steps == int(110 * 400 * 0.85 / 16)
    fresh = plan("flash-3M", seconds_left=510, batch_size=128, shipped=SHIPPED)
    if fresh.init_from is None:  # the CPU-trained 3-variable model: another architecture
        assert fresh.note.startswith("starting fresh") and "max_variables" in fresh.note
    assert fresh.rate == 2000.0 or fresh.init_from
    with pytest.raises(ValueError, match="too little to train"):
        plan("flash-tiny", seconds_left=60, batch_size=16, shipped=shipped)


@pytest.mark.ray
def test_recipe_continues_from_shipped_weights_and_brings_back_a_bf16_candidate(tmp_path):
    shipped = tmp_path / "shipped.pt"
    torch.manual_seed(0)
    save_model(shipped, build_model(get_preset("flash-tiny")), recipe="test",
               history=[{"date": "earlier", "preset": "flash-tiny", "batch_size": 16, "samples": 1000,
                         "flops": 1e9, "gpu_minutes": 1.0, "samples_per_s": 100.0}])
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(PRESET="flash-tiny", BATCH="16", PRODUCERS="1", TIME_BUDGET="34", OVERHEAD_S="30",
               PYTHON="python", SHIPPED=str(shipped), OUT=str(out), EXTRA_TRAIN_ARGS=TINY_DATA,
               RAY_USAGE_STATS_ENABLED="0")
    result = subprocess.run(["bash", "deploy/train_shipped.sh", str(tmp_path / "run")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"continuing from the shipped weights {shipped} (1,000 samples seen before this lease)" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["candidate.pt", "lease.json", "metrics.jsonl", "train.log"]
    lease = json.loads((out / "lease.json").read_text())
    assert lease["continued"] and lease["samples"] > 0 and lease["flops"] > 0 and lease["gpu_minutes"] > 0
    history = history_of(out / "candidate.pt")
    assert [h["date"] for h in history][0] == "earlier" and history[-1]["samples"] == lease["samples"]
    stored = torch.load(io.BytesIO(verified_bytes(out / "candidate.pt")), weights_only=True)["model"]
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.bfloat16}
    model, config = load_model(out / "candidate.pt")
    assert config == get_preset("flash-tiny") and next(model.parameters()).dtype == torch.float32
    assert read_metadata(out / "candidate.pt")["extra"]["recipe"] == "deploy/train_shipped.sh"
