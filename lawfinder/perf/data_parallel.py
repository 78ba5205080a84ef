"""The data-parallel modes of ``lawfinder bench pipeline`` (the ``learners`` run itself is ``pipeline.measure_learners``;
its table and the all-reduce measurement are here):

- ``learners``: the Ray Train / DDP path end to end for each ``--learners`` count (1 included: the DDP path with a
  group of one), each learner fed by its own replay producer, so producers keep up and what is measured is the
  learners: the group's samples/s and the loop's seconds per step.
- ``allreduce``: what one step's gradient all-reduce costs per model preset: its fp32 gradient bytes, the seconds of
  one ``all_reduce`` of that many bytes among ``--learners`` gloo processes on this machine (NCCL on a GPU machine,
  where the group's backend is NCCL), the bus bandwidth that implies (2(N-1)/N x bytes / seconds, the ring's), and
  the share of a step it would take next to this machine's measured CPU step of that preset at ``--batch-size``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time


def _all_reduce_worker(rank: int, world: int, init_file: str, numel: int, repeats: int, out: str) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        buffer = torch.ones(numel, dtype=torch.float32)
        dist.all_reduce(buffer)   # the first call sets up the connections
        seconds = []
        for _ in range(repeats):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buffer)
            seconds.append(time.perf_counter() - t0)
        if rank == 0:
            with open(out, "w") as handle:
                handle.write(repr(statistics.median(seconds)))
    finally:
        dist.destroy_process_group()


def all_reduce_seconds(numel: int, learners: int, repeats: int = 5) -> float:
    """Median seconds of one all-reduce of ``numel`` fp32 values among ``learners`` gloo processes here."""
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="lawfinder-allreduce-") as tmp:
        out = os.path.join(tmp, "seconds")
        mp.spawn(_all_reduce_worker, args=(learners, os.path.join(tmp, "init"), numel, repeats, out),
                 nprocs=learners, join=True)
        with open(out) as handle:
            return float(handle.read())


def cpu_step_seconds(preset: str, batch_size: int, steps: int = 2) -> tuple[int, float]:
    """(parameters, median seconds of a training step) of ``preset`` on this process's CPU threads."""
    import torch

    from ..model.config import TrainConfig
    from ..model.presets import get_preset
    from ..model.train import Trainer

    config = get_preset(preset)
    trainer = Trainer.create(config, TrainConfig(max_steps=steps + 1, batch_size=batch_size))
    g = torch.Generator().manual_seed(0)
    n, length = 64, min(24, config.max_len)
    tokens = torch.randint(3, config.vocab_size, (batch_size, length), generator=g)
    tokens[:, 0], tokens[:, -1] = 1, 2
    batch = {"X": torch.randn(batch_size, n, config.max_variables, generator=g),
             "y": torch.randn(batch_size, n, generator=g), "point_mask": torch.ones(batch_size, n, dtype=torch.bool),
             "variable_mask": torch.ones(batch_size, config.max_variables, dtype=torch.bool), "token_ids": tokens}
    trainer.step(batch)   # warm-up
    seconds = []
    for _ in range(steps):
        t0 = time.perf_counter()
        trainer.step(batch)
        seconds.append(time.perf_counter() - t0)
    parameters = sum(p.numel() for p in trainer.model.parameters())
    return parameters, statistics.median(seconds)


def allreduce_rows(presets: list[str], learners: list[int], batch_size: int) -> list[dict]:
    rows = []
    for preset in presets:
        parameters, step_s = cpu_step_seconds(preset, batch_size)
        for n in learners:
            if n < 2:
                continue
            seconds = all_reduce_seconds(parameters, n)
            size = 4 * parameters
            rows.append({"mode": "allreduce", "preset": preset, "learners": n, "parameters": parameters,
                         "bytes_per_step": size, "all_reduce_s": seconds,
                         "bus_gb_per_s": 2 * (n - 1) / n * size / seconds / 1e9, "cpu_step_s": step_s,
                         "share_of_step": seconds / (seconds + step_s), "batch_size": batch_size})
    return rows


def format_learners(rows: list[dict]) -> str:
    lines = [f"{'learners':>8} {'samples/s':>10} {'steps/s':>8} {'ms/step':>9}  device", "-" * 48]
    for r in rows:
        ms = f"{1000 * r['loop_s_per_step']:.1f}" if r.get("loop_s_per_step") else "-"
        lines.append(f"{r['learners']:>8} {r['samples_per_s']:>10.1f} {r['steps_per_s']:>8.2f} {ms:>9}  {r['device']}")
    return "\n".join(lines)


def format_allreduce(rows: list[dict]) -> str:
    lines = [f"{'preset':<11} {'params':>11} {'MB/step':>8} {'learners':>8} {'all-reduce':>11} {'bus GB/s':>9} "
             f"{'CPU step':>9} {'share':>6}", "-" * 80]
    for r in rows:
        lines.append(f"{r['preset']:<11} {r['parameters']:>11,} {r['bytes_per_step'] / 1e6:>8.1f} {r['learners']:>8} "
                     f"{1000 * r['all_reduce_s']:>9.1f}ms {r['bus_gb_per_s']:>9.2f} {r['cpu_step_s']:>8.2f}s "
                     f"{100 * r['share_of_step']:>5.1f}%")
    return "\n".join(lines)
