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


def _one_learner(rank: int, world: int, init_file: str, out: str, grad_accum: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        config = get_preset("flash-tiny")
        trainer = Trainer.create(config, TrainConfig(max_steps=1, grad_accum=grad_accum, seed=0))
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
    single = Trainer.create(config, TrainConfig(max_steps=1, seed=0))
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
