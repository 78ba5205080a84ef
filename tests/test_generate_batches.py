"""Generated batches: only finite values, consistent targets, numpy views, Arrow files, determinism, the CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from lawfinder.cli import main
from lawfinder.generate import BATCH_SCHEMA, PRESETS, Generator, batch_to_arrays, read_ipc, write_ipc
from lawfinder.simplipy.interpret import evaluate
from lawfinder.model.tokenizer import get_tokenizer
from lawfinder.simplipy import compile_expression, validate
from lawfinder.simplipy.operators import CONSTANT


def _config(**overrides):
    return PRESETS["flash-ansr"].with_overrides(**{"max_points": 96, **overrides})


@pytest.fixture(scope="module")
def batch() -> pa.RecordBatch:
    return Generator(_config(), seed=11).sample_batch(48)


def test_batches_never_hold_non_finite_or_huge_values():
    # Operators that overflow or leave their domain often, and a tight magnitude limit: retries must filter.
    config = _config(unary_operators={"exp": 1.0, "log": 1.0, "asin": 1.0, "inv": 1.0, "pow5": 1.0},
                     max_abs_value=1e4, max_data_tries=3)
    generator = Generator(config, seed=3)
    for _ in range(3):
        arrays = batch_to_arrays(generator.sample_batch(32))
        assert np.isfinite(arrays["X"]).all() and np.isfinite(arrays["y"]).all()
        assert np.abs(arrays["y"]).max() <= 1e4
    assert generator.stats.rejected["non_finite_data"] > 0  # the retry path ran
    assert generator.stats.data_draws > generator.stats.samples


@pytest.mark.parametrize("datasets_per_skeleton", [1, 3])
def test_held_out_skeletons_never_reach_a_batch(datasets_per_skeleton):
    from lawfinder.generate import Decontaminator

    # Small-operator prior so that the held-out families come up often.
    config = _config(max_operators=2, max_variables=3, datasets_per_skeleton=datasets_per_skeleton)
    held_out = Decontaminator(["x1", "sin(x1)", "x1 * x2", "x1 + x2"])
    generator = Generator(config, seed=8, decontaminator=held_out)
    batch = generator.sample_batch(60 * datasets_per_skeleton)
    assert generator.stats.rejected["contaminated"] == held_out.contaminated > 10
    checker = Decontaminator(["x1", "sin(x1)", "x1 * x2", "x1 + x2"])
    assert not any(checker.is_contaminated(s.split()) for s in batch.column("skeleton").to_pylist())


def test_samples_are_consistent(batch):
    tokenizer = get_tokenizer("prefix")
    rows = batch.to_pylist()
    for row in rows:
        skeleton = row["skeleton"].split()
        validate(skeleton)
        assert len(skeleton) <= 35 and row["n_constants"] == skeleton.count(CONSTANT)
        assert tokenizer.decode(row["token_ids"]) == skeleton and row["token_ids"][0] == tokenizer.bos_id
        assert len(row["x"]) == row["n_points"] * row["n_variables"] and len(row["y"]) == row["n_points"]
        assert 1 <= row["n_points"] <= 96
        # y is f(x) in float64 on the stored float32 x, then stored as float32; compile agrees with the interpreter.
        X = np.asarray(row["x"], dtype=np.float64).reshape(row["n_points"], row["n_variables"])
        columns = {f"x{v + 1}": f"x{i + 1}" for i, v in enumerate(row["variables"])}
        program = [columns.get(t, t) for t in skeleton]
        y64 = compile_expression(program)(X, row["constants"])
        np.testing.assert_array_equal(y64.astype(np.float32), np.asarray(row["y"], dtype=np.float32))
        np.testing.assert_array_equal(evaluate(program, X.T.copy(), row["constants"]), y64)
    assert len({r["n_points"] for r in rows}) > 10


def test_batch_to_arrays_matches_a_per_sample_reference(batch):
    arrays = batch_to_arrays(batch, max_points=100, max_len=40)
    assert set(arrays) == {"X", "y", "point_mask", "variable_mask", "token_ids"}
    B = batch.num_rows
    assert arrays["X"].shape == (B, 100, 17) and arrays["X"].dtype == np.float32
    assert arrays["y"].shape == (B, 100) and arrays["point_mask"].dtype == bool
    assert arrays["variable_mask"].shape == (B, 17) and arrays["token_ids"].dtype == np.int64
    for b, row in enumerate(batch.to_pylist()):
        n, d = row["n_points"], row["n_variables"]
        X = np.zeros((100, 17), dtype=np.float32)
        X[:n, row["variables"]] = np.asarray(row["x"], dtype=np.float32).reshape(n, d)
        np.testing.assert_array_equal(arrays["X"][b], X)
        np.testing.assert_array_equal(arrays["y"][b, :n], np.asarray(row["y"], dtype=np.float32))
        assert not arrays["y"][b, n:].any() and arrays["point_mask"][b].sum() == n and arrays["point_mask"][b, n - 1]
        assert sorted(np.flatnonzero(arrays["variable_mask"][b]).tolist()) == row["variables"]
        ids = row["token_ids"]
        assert arrays["token_ids"][b, : len(ids)].tolist() == ids and not arrays["token_ids"][b, len(ids):].any()
    # A slice of a batch (offsets not starting at 0) converts the same way.
    sliced = batch_to_arrays(batch.slice(5, 7), max_points=100, max_len=40)
    np.testing.assert_array_equal(sliced["X"], arrays["X"][5:12])
    np.testing.assert_array_equal(sliced["token_ids"], arrays["token_ids"][5:12])
    with pytest.raises(ValueError, match="n_points"):
        batch_to_arrays(batch, max_points=1)
    with pytest.raises(ValueError, match="max_variables"):
        batch_to_arrays(batch, max_variables=1)


def test_arrow_round_trip(tmp_path, batch):
    generator = Generator(_config(), seed=2)
    batches = [batch, generator.sample_batch(5), generator.sample_batch(17)]
    path = tmp_path / "samples.arrow"
    assert write_ipc(path, batches) == 48 + 5 + 17
    back = read_ipc(path)
    assert len(back) == 3 and all(a.equals(b) for a, b in zip(batches, back))
    assert back[0].schema.equals(BATCH_SCHEMA, check_metadata=False)
    assert back[0].schema.metadata[b"lawfinder.max_variables"] == b"17"
    for a, b in zip(batches, back):
        for key, value in batch_to_arrays(a).items():
            np.testing.assert_array_equal(value, batch_to_arrays(b)[key])
    assert [p.name for p in tmp_path.iterdir()] == ["samples.arrow"]  # no temp file left behind


_CHILD = """
import hashlib, sys
from lawfinder.generate import PRESETS, Generator, batch_to_arrays
g = Generator(PRESETS["flash-ansr"].with_overrides(max_points=96), seed=int(sys.argv[1]), worker_index=int(sys.argv[2]))
h = hashlib.sha256()
for _ in range(2):
    b = g.sample_batch(16)
    h.update("|".join(b.column("skeleton").to_pylist()).encode())
    for v in batch_to_arrays(b).values():
        h.update(v.tobytes())
print(h.hexdigest())
"""


def _digest_here(seed: int, worker_index: int) -> str:
    g = Generator(_config(), seed=seed, worker_index=worker_index)
    h = hashlib.sha256()
    for _ in range(2):
        b = g.sample_batch(16)
        h.update("|".join(b.column("skeleton").to_pylist()).encode())
        for v in batch_to_arrays(b).values():
            h.update(v.tobytes())
    return h.hexdigest()


def test_same_seed_same_samples_in_another_process():
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # set iteration order differs from this process's
    child = subprocess.run([sys.executable, "-c", _CHILD, "4", "1"], capture_output=True, text=True, env=env,
                           check=True, timeout=120)
    assert child.stdout.strip() == _digest_here(4, 1)
    assert _digest_here(4, 2) != _digest_here(4, 1)


def test_worker_streams_are_disjoint():
    def samples(**kw) -> set[bytes]:
        batch = Generator(_config(), seed=0, **kw).sample_batch(20)
        return {np.asarray(x, dtype=np.float32).tobytes() for x in batch.column("x").to_pylist() if x}

    base = samples(worker_index=0)
    assert len(base) > 15
    assert not base & samples(worker_index=1) and not base & samples(worker_index=0, stream=1)
    assert base == samples(worker_index=0)


def test_generate_cli_writes_a_readable_file(tmp_path, capsys):
    out = tmp_path / "train.arrow"
    assert main(["generate", "--n", "30", "--out", str(out), "--batch-size", "16", "--quiet", "--seed", "1",
                 "--set", "max_points=32"]) == 0
    batches = read_ipc(out)
    assert [b.num_rows for b in batches] == [16, 14]
    assert "wrote 30 samples" in capsys.readouterr().out
    assert main(["generate", "--n", "3", "--out", str(out), "--set", "max_pointz=3"]) == 2
    assert "unknown GeneratorConfig field" in capsys.readouterr().err


def test_batches_are_drawn_with_rarer_collections_and_the_old_thresholds_come_back():
    import gc

    from lawfinder.generate.generator import GC_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    seen = []
    with fewer_collections():
        seen.append(gc.get_threshold())
    assert seen == [GC_THRESHOLD] and gc.get_threshold() == before
    with pytest.raises(RuntimeError):
        with fewer_collections():
            raise RuntimeError("a failing batch")
    assert gc.get_threshold() == before


def test_a_producer_keeps_its_higher_thresholds_through_a_batch():
    import gc

    from lawfinder.generate.generator import (PRODUCER_GC_THRESHOLD, PRODUCER_MEMO_LIMIT, configure_producer,
                                              fewer_collections)
    from lawfinder.simplipy.simplify import engine

    before, memo_before = gc.get_threshold(), engine().memo_limit
    try:
        configure_producer()
        assert gc.get_threshold() == PRODUCER_GC_THRESHOLD and engine().memo_limit == PRODUCER_MEMO_LIMIT
        with fewer_collections():
            assert gc.get_threshold() == PRODUCER_GC_THRESHOLD  # the per-batch setting never lowers it
        assert gc.get_threshold() == PRODUCER_GC_THRESHOLD
    finally:
        gc.set_threshold(*before)
        engine().memo_limit = memo_before


def test_producer_settings_are_scoped():
    import gc

    from lawfinder.generate.generator import PRODUCER_GC_THRESHOLD, PRODUCER_MEMO_LIMIT, producer_process
    from lawfinder.simplipy.simplify import engine

    before, memo_before = gc.get_threshold(), engine().memo_limit
    assert memo_before != PRODUCER_MEMO_LIMIT
    with pytest.raises(RuntimeError):
        with producer_process():
            assert gc.get_threshold()[0] >= PRODUCER_GC_THRESHOLD[0]
            assert engine().memo_limit == PRODUCER_MEMO_LIMIT
            raise RuntimeError("a failing run")
    assert gc.get_threshold() == before and engine().memo_limit == memo_before


def test_simplifier_output_does_not_depend_on_the_memo_size():
    from lawfinder.simplipy.simplify import engine, simplify

    generator = Generator(PRESETS["flash-ansr"].with_overrides(simplify=False, decontaminate=False), seed=4)
    skeletons = [generator._sampler.sample(generator.uniform) for _ in range(400)]
    memo_before = engine().memo_limit
    try:
        outputs = {}
        for limit in (50_000, 300, 0):
            engine().memo_limit = limit
            engine().clear()
            outputs[limit] = [simplify(s, cache=False) for s in skeletons]
    finally:
        engine().memo_limit = memo_before
    assert outputs[300] == outputs[50_000] and outputs[0] == outputs[50_000]
