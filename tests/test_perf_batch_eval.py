"""``lawfinder bench batch-eval``: the level-synchronous evaluator it times agrees with the interpreter."""

from __future__ import annotations

import json

import numpy as np

from lawfinder.cli import main
from lawfinder.perf.batch_eval import level_synchronous
from lawfinder.simplipy.interpret import evaluate


def test_level_synchronous_values_equal_one_skeleton_at_a_time():
    rng = np.random.default_rng(2)
    programs = [["+", "x1", "<constant>"], ["x2"], ["<constant>"], ["sin", "*", "x1", "pi"],
                ["/", "log", "x2", "-", "x1", "1"], ["*", "<constant>", "exp", "neg", "pow2", "x1"]]
    columns = [rng.uniform(-3, 3, (d, 16)) for d in (1, 2, 1, 1, 2, 1)]
    constants = [[rng.normal(size=16) for _ in range(p.count("<constant>"))] for p in programs]
    got = level_synchronous(programs, columns, constants)
    for program, X, c, y in zip(programs, columns, constants, got):
        assert np.array_equal(evaluate(program, X, c), y, equal_nan=True), program


def test_bench_batch_eval_runs(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "batch-eval", "--batch-size", "4", "--batches", "2", "--points", "8", "--out", str(out)]) == 0
    assert "level-synchronous" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["skeletons"] == 8 and report["batched_us"] > 0 and report["one_at_a_time_us"] > 0
