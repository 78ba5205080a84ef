"""Data-parallel training on Ray Train: ``lawfinder train --learners N`` runs N learners as the workers of a
``TorchTrainer``, which sets up PyTorch's process group (NCCL on GPUs, gloo on CPUs) and restarts the whole group
when a learner dies (``FailureConfig``); the step itself is PyTorch's DistributedDataParallel
(``model.train.Trainer.distribute``). Each learner pulls from its own share of the producers through the object
store, exactly as the single trainer does (``ray_bindings.ray_puller``), so no process carries every batch.

The run directory is the single trainer's: rank 0 writes the checkpoints (one per step for the whole group, atomic,
verified on load), ``metrics.jsonl`` and ``summary.json``; every learner resumes from the newest checkpoint, so a
group restarted by Ray Train, or a later run with another number of learners (one included), goes on from it. The
global batch is N × the per-learner batch; ``lawfinder train`` scales the LR for it by the presets' rule.
On a cluster ``--out`` must be storage every learner's node can read (rank 0 writes, all read at resume).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.json"   # rank 0's summary of the last run, beside the checkpoints


@dataclass
class DistGroup:
    """The ``loop.Group`` of a torch.distributed process group: agreement by all-reduce, gathering by object."""

    rank: int
    size: int
    device: Any = "cpu"

    def any(self, flag: bool) -> bool:
        import torch
        import torch.distributed as dist

        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather(self, value: Any) -> list:
        import torch.distributed as dist

        out: list = [None] * self.size
        dist.all_gather_object(out, value)
        return out


def train_worker(config: dict) -> None:
    """One learner: the function Ray Train runs on each worker (again on every worker after a failure)."""
    import ray.train

    from .learners import build_learner
    from .loop import resume, train_loop
    from .placement import producer_shares
    from .ray_bindings import ray_puller

    context = ray.train.get_context()
    rank, size = context.get_world_rank(), context.get_world_size()
    out_dir, loop = config["out_dir"], config["loop"]
    learner = build_learner(replace(config["learner"], data_parallel=True))
    position = resume(learner, out_dir, writer=rank == 0)
    resumed_from = learner.step
    mine = producer_shares(len(config["producers"]), size)[rank]
    puller = ray_puller([config["producers"][i] for i in mine], config["depth"])

    def pull() -> tuple[int, Any]:
        local, batch = puller.next()
        return mine[local], batch   # the producer's index in the whole job, unique in the group

    report = partial(print, file=sys.stderr, flush=True)
    summary = train_loop(learner, pull, out_dir, loop, {**(position or {}), "launch": config["launch"]},
                         report=report, group=DistGroup(rank, size, learner.device))
    if rank == 0:
        from ..atomic import plain_json, write_text

        summary = {**summary, "learners": size, "resumed_from": resumed_from,
                   "dropped_producers": puller.dropped, "device": str(learner.device)}
        write_text(Path(out_dir) / SUMMARY_FILE, json.dumps(plain_json(summary), indent=1))


def run_data_parallel(job) -> dict:
    """Run ``job`` (a ``launch.TrainJob`` with ``learners`` set) on Ray Train; returns rank 0's summary with the
    producers' health, like the single trainer's ``launch.finish``."""
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from .checkpoints import check_writable, next_launch
    from .launch import (capacity_warnings, connect, cpus_needed, health, joins_cluster, last_error_line,
                         start_producers)
    from .placement import learner_scaling, producer_shares

    producer_shares(job.producers, job.learners)   # refuses too few producers before Ray starts
    if not joins_cluster():
        check_writable(job.out_dir)
    connect(cpus_needed(job))
    resources = ray.cluster_resources()
    for warning in capacity_warnings(job, resources):
        print(f"lawfinder: warning: {warning}", file=sys.stderr)
    scaling = learner_scaling(resources, job.learners, job.trainer_cpus)
    # The launch counter lives in the run directory, which every learner reads: on a cluster, shared storage.
    launch = next_launch(job.out_dir)
    producers = start_producers(job, resources, launch)
    summary_path = Path(job.out_dir) / SUMMARY_FILE
    summary_path.unlink(missing_ok=True)
    trainer = TorchTrainer(
        train_worker,
        train_loop_config={"out_dir": job.out_dir, "loop": job.loop, "learner": job.learner, "depth": job.depth,
                           "producers": producers, "launch": launch},
        scaling_config=ScalingConfig(**scaling),
        torch_config=TorchConfig(backend="nccl" if scaling["use_gpu"] else "gloo"),
        run_config=RunConfig(name=f"launch-{launch}", storage_path=os.path.join(job.out_dir, "ray_train"),
                             failure_config=FailureConfig(max_failures=job.trainer_max_restarts)),
    )
    try:
        trainer.fit()
    except ray.train.TrainingFailedError as error:
        raise ValueError(f"data-parallel training failed after {job.trainer_max_restarts} restarts of the group: "
                         f"{last_error_line(error)}") from None
    finally:
        states = [health(p) for p in producers]
        for producer in producers:
            ray.kill(producer, no_restart=True)
    summary = json.loads(summary_path.read_text())
    summary.update(producers=states, launch=launch, cluster=joins_cluster(),
                   trainer={"device": summary.get("device"), "learners": job.learners})
    return summary

