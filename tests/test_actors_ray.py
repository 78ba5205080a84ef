"""The Ray shells on the session Ray (2 CPUs): a killed producer comes back on a new random stream while pulling goes
on; a killed trainer is restarted by Ray, resumes from its newest checkpoint and finishes; a relaunch on the same
run directory resumes again with producers on new streams. Kills are SIGKILL of the actor's process (a crash), not
``ray.kill``, so Ray's restart path is the one exercised.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

import numpy as np
import pytest

from lawfinder.actors.checkpoints import list_checkpoints, read_metrics
from lawfinder.actors.launch import TrainJob, finish, health, start, stop
from lawfinder.actors.learners import LearnerSpec
from lawfinder.actors.loop import LoopConfig
from lawfinder.actors.placement import producer_options
from lawfinder.actors.producer import Producer
from lawfinder.actors.ray_bindings import ray_puller
from lawfinder.actors.sources import SourceSpec, read_tag
from lawfinder.actors.stream_ids import stream_id

pytestmark = pytest.mark.ray

TINY_DATA = SourceSpec(batch_size=8, overrides=(("simplify", False), ("decontaminate", False), ("max_points", 32),
                                                ("max_operators", 5)))


def fingerprint(batch) -> str:
    digest = hashlib.sha256()
    for name in ("x", "y", "token_ids"):
        digest.update(np.asarray(batch.column(name).flatten()).tobytes())
    return digest.hexdigest()


def crash(actor) -> int:
    pid = health(actor)["pid"]
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_until(predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_crashed_producer_restarts_on_a_new_stream_and_pulling_goes_on(ray_session):
    ray = ray_session
    actor = ray.remote(Producer).options(**producer_options({}, num_cpus=0.5))
    producers = [actor.remote(TINY_DATA, 0, index, 0) for index in range(2)]
    try:
        puller = ray_puller(producers, depth=2)
        seen, tags = set(), []
        deadline = time.monotonic() + 90
        while sum(t["producer"] == 0 for t in tags) < 2 and time.monotonic() < deadline:
            _, batch = puller.next()
            seen.add(fingerprint(batch))
            tags.append(read_tag(batch))
        first_of_stream0 = [t for t in tags if t["producer"] == 0 and t["seq"] == 0]
        assert first_of_stream0, "producer 0 served nothing before the crash"
        old_pid = crash(producers[0])

        restarted, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline:  # pulls until the restarted producer has served twice
            index, batch = puller.next()
            tag = read_tag(batch)
            assert fingerprint(batch) not in seen, f"batch replayed: {tag}"
            seen.add(fingerprint(batch))
            if index == 0 and tag["restarts"] == 1:
                restarted.append(tag)
            if len(restarted) == 2:
                break
        assert [t["seq"] for t in restarted] == [0, 1]
        assert restarted[0]["stream"] == stream_id(0, 1) != first_of_stream0[0]["stream"]
        report = health(producers[0])
        assert report["restarts"] == 1 and report["pid"] != old_pid
        assert puller.alive == [0, 1] and not puller.dropped
    finally:
        for producer in producers:
            ray.kill(producer, no_restart=True)


def test_crashed_trainer_resumes_from_checkpoint_and_relaunch_continues(ray_session, tmp_path):
    ray = ray_session
    out = tmp_path / "run"
    job = TrainJob(out_dir=str(out), source=TINY_DATA,
                   learner=LearnerSpec(preset="flash-tiny", train_overrides=(("max_steps", 24),)),
                   loop=LoopConfig(max_steps=24, checkpoint_every=4, keep_checkpoints=50, report_every_s=1e9,
                                   report_every_steps=2),
                   producers=2, producer_cpus=0.5, trainer_cpus=0.5)
    launched = start(job)
    try:
        run = launched.trainer.run.remote(launched.producers, launched.launch, job.depth)
        wait_until(lambda: health(launched.trainer)["step"] >= 4, what="step 4")
        crash(launched.producers[1])  # training goes on with producer 1 restarting behind
        wait_until(lambda: health(launched.trainer)["step"] >= 10, what="step 10")
        crash(launched.trainer)
        summary = ray.get(run, timeout=180)  # Ray restarts the trainer and makes the run() call again
        producers = [health(p) for p in launched.producers]
    finally:
        stop(launched)

    assert summary["step"] == 24 and summary["trainer_restarts"] == 1
    resumed = summary["resumed_from"]
    assert resumed >= 8 and resumed % 4 == 0  # the newest checkpoint before the crash
    assert summary["start_step"] == resumed
    assert summary["data_position"]["samples"] == 24 * 8  # the data position travelled with the checkpoint
    assert producers[1]["restarts"] == 1 and producers[0]["restarts"] == 0

    steps = [r["step"] for r in read_metrics(out)]
    assert steps == list(range(2, 25, 2))  # trimmed at the resume point, no step reported twice
    check_checkpoints(out, expected=list(range(4, 25, 4)))

    # A relaunch on the same directory: resumes at 24, trains to 26, its producer on launch 1's stream.
    relaunch = TrainJob(**{**job.__dict__, "producers": 1,
                           "loop": LoopConfig(max_steps=26, checkpoint_every=4, report_every_s=1e9),
                           "learner": LearnerSpec(preset="flash-tiny", train_overrides=(("max_steps", 26),))})
    launched = start(relaunch)
    try:
        summary = finish(launched, relaunch)
    finally:
        stop(launched)
    assert launched.launch == 1 and summary["start_step"] == 24 and summary["step"] == 26
    assert {p["stream"] for p in summary["producers"]} == {stream_id(1, 0)}
    assert summary["data_position"]["launch"] == 1


def check_checkpoints(out, expected):
    """Every checkpoint is complete and loadable, with the step its name says; no temp file is left behind."""
    from lawfinder.model.train import load_checkpoint

    assert [step for step, _ in list_checkpoints(out)] == expected
    for step, path in list_checkpoints(out):
        assert load_checkpoint(path).step_count == step
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
