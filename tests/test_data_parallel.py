"""Data-parallel training: the DDP step itself (two gloo processes, no Ray) and the Ray Train path end to end."""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lawfinder.model.config import TrainConfig
from lawfinder.model.presets import get_preset
from lawfinder.model.train import Trainer
from tests.test_model_train import make_batch


# Every trainer here runs in fp32: the tests check the arithmetic of the gradient weighting to 1e-4, which bf16
# autocast (the default on a CPU with AMX tiles) would blur.
def _one_learner(rank: int, world: int, init_file: str, out: str, grad_accum: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        config = get_preset("flash-tiny")
        trainer = Trainer.create(config, TrainConfig(max_steps=1, grad_accum=grad_accum, seed=0, precision="fp32"))
        trainer.distribute()
        batch = make_batch(config, b=8)
        share = {k: v[rank * 4:(rank + 1) * 4] for k, v in batch.items()}   # rows with different target counts
        trainer.step(share)
        grads = {name: p.grad.clone() for name, p in trainer.model.named_parameters()}
        params = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
        torch.save({"grads": grads, "params": params}, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_two_gloo_learners_take_the_step_one_learner_takes_on_both_batches(tmp_path, grad_accum):
    mp.spawn(_one_learner, args=(2, str(tmp_path / "init"), str(tmp_path), grad_accum), nprocs=2, join=True)
    config = get_preset("flash-tiny")
    single = Trainer.create(config, TrainConfig(max_steps=1, seed=0, precision="fp32"))
    single.step(make_batch(config, b=8))
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for name, p in single.model.named_parameters():
        for rank in ranks:
            torch.testing.assert_close(rank["grads"][name], p.grad, rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(rank["params"][name], p.detach(), rtol=1e-5, atol=1e-6)


def test_distribute_needs_a_process_group():
    trainer = Trainer.create(get_preset("flash-tiny"), TrainConfig(max_steps=1))
    with pytest.raises(RuntimeError, match="process group"):
        trainer.distribute()


# ---------------------------------------------------------------------------------------------------- on Ray Train
def _job(out, learners, max_steps, every, **kw):
    from lawfinder.actors.launch import TrainJob
    from lawfinder.actors.learners import LearnerSpec
    from lawfinder.actors.loop import LoopConfig
    from lawfinder.actors.sources import SourceSpec

    # The session's Ray has 2 CPUs: fractions of a CPU fit two learners and their producers.
    return TrainJob(out_dir=str(out), loop=LoopConfig(max_steps=max_steps, checkpoint_every=every,
                                                      report_every_s=1e9, report_every_steps=2),
                    source=SourceSpec(kind="generator", preset="flash-ansr", batch_size=8,
                                      overrides=(("max_points", 32), ("max_variables", 3))),
                    learner=LearnerSpec(preset="flash-tiny", model_overrides=(("max_variables", 3),),
                                        train_overrides=(("max_steps", max_steps), ("batch_size", 8))),
                    producers=2, learners=learners, producer_cpus=0.25, trainer_cpus=0.5, **kw)


@pytest.mark.ray
def test_two_learners_on_ray_train_checkpoint_once_and_one_learner_continues(ray_session, tmp_path):
    from lawfinder.actors.checkpoints import list_checkpoints, read_metrics
    from lawfinder.actors.jobs import run as run_job
    from lawfinder.model.train import load_checkpoint

    out = tmp_path / "run"
    summary = run_job(_job(out, learners=2, max_steps=6, every=3))
    assert summary["step"] == 6 and summary["learners"] == 2 and summary["trainer"]["learners"] == 2
    assert [s for s, _ in list_checkpoints(out)] == [3, 6]          # one checkpoint per step for the whole group
    position = load_checkpoint(list_checkpoints(out)[-1][1]).data_position
    assert position["samples"] == 6 * 2 * 8                          # global batch = learners x batch
    assert set(position["batches"]) == {"0", "1"} and sum(position["batches"].values()) == 12  # each its own
    assert {r["learners"] for r in read_metrics(out)} == {2} and [r["step"] for r in read_metrics(out)] == [2, 4, 6]

    # The same directory, one learner (the plain trainer actor): it resumes from the group's checkpoint.
    summary = run_job(_job(out, learners=1, max_steps=8, every=4))
    assert summary["start_step"] == 6 and summary["step"] == 8


@pytest.mark.ray
def test_a_killed_learner_brings_the_group_back_from_the_last_checkpoint(ray_session, tmp_path):
    import signal
    import threading
    import time

    from ray._private import state   # the actor table straight from the GCS (the state API needs the dashboard)

    from lawfinder.actors.checkpoints import list_checkpoints, read_metrics
    from lawfinder.actors.jobs import run as run_job

    out = tmp_path / "run"
    job = _job(out, learners=2, max_steps=40, every=4, trainer_max_restarts=2)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(run_job(job)))
    thread.start()
    deadline = time.monotonic() + 240
    while not any(r["step"] >= 10 for r in read_metrics(out)) and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.5)
    workers = [a["Pid"] for a in state.actors().values()
               if a["ActorClassName"] == "RayTrainWorker" and a["State"] == "ALIVE"]
    assert len(workers) == 2, workers
    os.kill(workers[1], signal.SIGKILL)   # a learner dies without warning
    thread.join(timeout=400)
    assert not thread.is_alive()
    assert result["step"] == 40
    assert result["resumed_from"] >= 8 and result["resumed_from"] % 4 == 0   # the newest checkpoint before the kill
    assert [s for s, _ in list_checkpoints(out)][-1] == 40
