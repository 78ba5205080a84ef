"""The parts the Ray shells are built from, without Ray: batch sources and tags, the sink learner, the CLI's job
description and the bench's steady-state arithmetic."""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pytest

from lawfinder.actors.checkpoints import append_metrics
from lawfinder.actors.learners import LearnerSpec, SinkLearner, build_learner
from lawfinder.actors.sources import SourceSpec, build_source, read_tag, tag_batch
from lawfinder.actors.stream_ids import stream_id

TINY = (("simplify", False), ("decontaminate", False), ("max_points", 16), ("max_operators", 4))


def test_synthetic_batches_have_the_asked_size_and_depend_on_the_stream():
    spec = SourceSpec(kind="synthetic", batch_size=8, synthetic_bytes=1 << 16)
    a, b = build_source(spec, 0, 0, 0), build_source(spec, 0, 0, 1)
    first = a.next()
    assert first.num_rows == 8 and abs(first.nbytes - (1 << 16)) < 1024
    assert not first.equals(b.next())
    assert build_source(spec, 0, 0, 0).next().equals(first)  # same stream, same data


def test_generator_source_streams_differ_and_replay_repeats():
    spec = SourceSpec(batch_size=4, overrides=TINY)
    one, restarted = build_source(spec, 0, 3, stream_id(0, 0)), build_source(spec, 0, 3, stream_id(0, 1))
    x_one, x_restarted = one.next().column("y"), restarted.next().column("y")
    assert not x_one.equals(x_restarted)
    assert one.stats()["samples"] == 4
    replay = build_source(SourceSpec(kind="replay", replay_batches=2, batch_size=4, overrides=TINY), 0, 0, 0)
    served = [replay.next() for _ in range(4)]
    assert served[0] is served[2] and served[1] is served[3] and served[0] is not served[1]


def test_tags_round_trip_and_keep_the_schema_metadata():
    batch = pa.RecordBatch.from_arrays([pa.array(np.arange(3))], names=["a"]).replace_schema_metadata({"k": "v"})
    tagged = tag_batch(batch, producer=2, stream=stream_id(4, 7), seq=11)
    assert read_tag(tagged) == {"producer": 2, "stream": stream_id(4, 7), "seq": 11, "launch": 4, "restarts": 7}
    assert tagged.schema.metadata[b"k"] == b"v" and tagged.column(0).equals(batch.column(0))
    with pytest.raises(ValueError, match="tag"):
        read_tag(batch)


def test_specs_reject_bad_values():
    with pytest.raises(ValueError, match="source kind"):
        SourceSpec(kind="kafka")
    with pytest.raises(ValueError, match="batch_size"):
        SourceSpec(batch_size=0)
    with pytest.raises(ValueError, match="learner kind"):
        LearnerSpec(kind="svm")


def test_sink_learner_checkpoint_round_trip(tmp_path):
    sink = build_learner(LearnerSpec(kind="sink"))
    for _ in range(3):
        assert sink.train_step(object()) == {}
    sink.save(tmp_path / "ckpt-00000003.pt", {"samples": 12, "batches": {"0": 3}})
    again = SinkLearner()
    assert again.load(tmp_path / "ckpt-00000003.pt") == {"samples": 12, "batches": {"0": 3}}
    assert again.step == 3


def cli_args(*argv):
    from lawfinder.cli import build_parser

    return build_parser().parse_args(["train", *argv])


def test_train_cli_builds_the_job_it_describes(tmp_path):
    from lawfinder.actors.cli import build_job

    job = build_job(cli_args("--preset", "sl-tiny", "--producers", "3", "--batch-size", "8", "--max-steps", "50",
                             "--out", str(tmp_path), "--set-train", "lr=0.01", "--set-model", "dropout=0.2",
                             "--set-data", "max_points=32", "--checkpoint-every", "10"))
    assert job.producers == 3 and job.out_dir == str(tmp_path)
    assert job.source.preset == "scaling-laws" and job.source.batch_size == 8
    assert dict(job.source.overrides) == {"max_points": 32}
    assert dict(job.learner.model_overrides) == {"dropout": 0.2}
    assert dict(job.learner.train_overrides) == {"lr": 0.01, "max_steps": 50, "batch_size": 8}
    assert job.loop.max_steps == 50 and job.loop.checkpoint_every == 10
    assert job.learner.threads == 1


def test_train_cli_batch_size_scales_the_preset_lr_and_sets_micro_batches(tmp_path):
    from lawfinder.actors.cli import build_job
    from lawfinder.model.presets import get

    job = build_job(cli_args("--preset", "sl-tiny", "--batch-size", "64", "--grad-accum", "4", "--trainer-cpus", "3",
                             "--out", str(tmp_path)))
    config = job.learner.train                  # resolved when the job was built
    reference = get("sl-tiny").train
    assert config.batch_size == 64 and config.grad_accum == 4 and job.learner.threads == 3
    assert config.lr == pytest.approx(reference.lr * (64 / reference.batch_size) ** 0.5)
    with pytest.raises(ValueError, match="grad_accum"):
        build_job(cli_args("--preset", "sl-tiny", "--batch-size", "2", "--grad-accum", "4", "--out", str(tmp_path)))


def test_learners_scale_the_lr_to_the_global_batch_and_need_a_producer_each(tmp_path):
    from lawfinder.actors.cli import build_job
    from lawfinder.model.presets import get

    job = build_job(cli_args("--preset", "sl-tiny", "--batch-size", "16", "--learners", "4", "--producers", "4",
                             "--out", str(tmp_path)))
    reference = get("sl-tiny").train
    assert job.learners == 4 and job.learner.train.batch_size == 16          # per learner
    assert job.learner.train.lr == pytest.approx(reference.lr * (4 * 16 / reference.batch_size) ** 0.5)
    own = build_job(cli_args("--preset", "sl-tiny", "--learners", "2", "--set-train", "lr=0.01", "--out", str(tmp_path)))
    assert own.learner.train.lr == 0.01                                       # an LR the user gave is kept
    with pytest.raises(ValueError, match="--producers 2 cannot feed --learners 3"):
        build_job(cli_args("--learners", "3", "--out", str(tmp_path)))


def test_learners_get_a_gpu_each_only_when_there_is_one_for_each():
    from lawfinder.actors.placement import learner_scaling, producer_shares

    assert learner_scaling({"CPU": 16}, 2) == {"num_workers": 2, "use_gpu": False, "resources_per_worker": {"CPU": 1.0}}
    assert learner_scaling({"CPU": 16, "GPU": 4}, 4, 2)["resources_per_worker"] == {"CPU": 2, "GPU": 1}
    assert learner_scaling({"CPU": 16, "GPU": 1}, 2)["use_gpu"] is False
    assert learner_scaling({"CPU": 8, "GPU": 2, "trainer": 2}, 2)["resources_per_worker"]["trainer"] == 1
    assert producer_shares(5, 2) == [[0, 2, 4], [1, 3]]


def test_train_cli_names_bad_input(tmp_path):
    from lawfinder.actors.cli import build_job

    with pytest.raises(ValueError, match="--preset 'huge'"):
        build_job(cli_args("--preset", "huge", "--out", str(tmp_path)))
    with pytest.raises(ValueError, match="--set-train"):
        build_job(cli_args("--out", str(tmp_path), "--set-train", "learning_rate=1"))
    with pytest.raises(ValueError, match="lr"):
        build_job(cli_args("--out", str(tmp_path), "--set-train", "lr=fast"))
    with pytest.raises(ValueError, match="--producers"):
        build_job(cli_args("--out", str(tmp_path), "--producers", "0"))


def test_bench_steady_rates_drop_the_warm_up_window(tmp_path):
    from lawfinder.perf.pipeline import _steady, add_overheads

    # A slow first window (warm-up), then 2 windows of 1 s with 10 batches of 4 samples each.
    for elapsed, batches, wait in ((5.0, 1, 0.9), (6.0, 11, 0.5), (7.0, 21, 0.3)):
        append_metrics(tmp_path, {"elapsed_s": elapsed, "batches_total": batches, "samples_total": 4 * batches,
                                  "wait_share": wait, "step_s": 0.05, "step": batches})
    steady = _steady(str(tmp_path))
    assert steady["batches_per_s"] == pytest.approx(10.0) and steady["samples_per_s"] == pytest.approx(40.0)
    assert steady["wait_share"] == pytest.approx(0.4) and steady["loop_s_per_step"] == pytest.approx(0.1)
    results = add_overheads([
        {"mode": "transport", "feed": "memory", "loop_s_per_step": 0.081, "train_step_s": 0.08},
        {"mode": "transport", "feed": "pipeline", "loop_s_per_step": 0.1, "train_step_s": 0.095}])
    # Feeding took 4 ms more per step than from memory: 5% of the 80 ms step.
    assert results[1]["transport_overhead"] == pytest.approx(0.05)
    assert results[1]["end_to_end_ratio"] == pytest.approx(0.1 / 0.081 - 1)
    train = add_overheads([{"mode": "train", "feed": "memory", "loop_s_per_step": 0.1, "train_step_s": 0.09,
                            "samples_per_s": 1000.0},
                           {"mode": "train", "feed": "pipeline", "loop_s_per_step": 0.11, "train_step_s": 0.09,
                            "samples_per_s": 900.0}])
    assert train[1]["share_of_memory_fed"] == pytest.approx(0.9)
    # With a warm-up in seconds, every window that ends before it is dropped.
    assert _steady(str(tmp_path), warmup=6.0)["batches_per_s"] == pytest.approx(10.0)
    with pytest.raises(RuntimeError, match="too short"):
        _steady(str(tmp_path), warmup=6.5)


def test_bench_cli_rejects_bad_arguments():
    from lawfinder.cli import build_parser

    parser = build_parser()
    for argv, message in ((["--modes", "warp"], "warp"), (["--producers", "0"], "--producers"),
                          (["--seconds", "0"], "--seconds")):
        args = parser.parse_args(["bench", "pipeline", *argv])
        with pytest.raises(ValueError, match=message):
            args.func(args)


def test_sizing_reads_measured_trainer_rates_and_rounds_cores_up(tmp_path):
    import json

    from lawfinder.actors.sizing import producer_cores, read_trainer_rates

    rows = [{"benchmark": "environment", "torch": "x"},
            {"benchmark": "train-step", "preset": "flash-3M", "samples_per_s": 900.0, "compile": False},
            {"benchmark": "train-step", "preset": "flash-3M", "samples_per_s": 1500.0, "compile": True},
            {"benchmark": "train-step", "preset": "sl-XS", "error": "OutOfMemoryError"},
            {"benchmark": "pipeline", "mode": "train", "samples_per_s": 5.0}]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rates = read_trainer_rates(str(path))
    assert set(rates) == {"flash-3M"} and rates["flash-3M"]["compile"] is True
    assert producer_cores(1500.0, 1000.0) == 2 and producer_cores(10.0, 1000.0) == 1
    (tmp_path / "empty.jsonl").write_text(json.dumps(rows[0]) + "\n")
    with pytest.raises(ValueError, match="no bench train-step rows"):
        read_trainer_rates(str(tmp_path / "empty.jsonl"))


def test_the_trainer_gets_resolved_configs_and_never_looks_up_a_preset(tmp_path, monkeypatch):
    """Issue 32 item 1: the preset is resolved once, where the job is built; the learner reads the result."""
    from lawfinder.actors.cli import build_job
    from lawfinder.actors.learners import build_learner
    from lawfinder.model import presets

    job = build_job(cli_args("--preset", "flash-tiny", "--set-model", "max_variables=4", "--max-steps", "7",
                             "--seed", "3", "--out", str(tmp_path)))
    assert job.learner.model.max_variables == 4 and job.learner.train.max_steps == 7 and job.learner.train.seed == 3

    def refuse(name):
        raise AssertionError(f"the learner looked up preset {name!r}")

    monkeypatch.setattr(presets, "get", refuse)
    learner = build_learner(job.learner)          # what the TrainerActor does with the spec it receives
    assert learner.trainer.model_config == job.learner.model and learner.trainer.config.max_steps == 7


def test_a_run_is_one_printable_record(tmp_path, capsys):
    import json

    from lawfinder.cli import main

    assert main(["train", "--preset", "flash-tiny", "--set-model", "max_variables=4", "--max-steps", "9",
                 "--batch-size", "8", "--out", str(tmp_path / "run"), "--print-job"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["learner"]["model"]["max_variables"] == 4 and record["learner"]["train"]["max_steps"] == 9
    assert record["source"]["batch_size"] == 8 and record["loop"]["max_steps"] == 9
    assert not (tmp_path / "run").exists()                   # printing starts nothing
