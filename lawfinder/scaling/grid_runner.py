"""The sweep runner: every (size, budget) run of the grid through the distributed trainer (``actors.launch.run_job``:
Ray producers generating data, one trainer actor), then scored on the fixed held-out problems.

Resumable at two levels. A run whose ``result.json`` exists is finished and never trained or scored again (its
record is re-appended to ``runs.jsonl`` if a crash came between the two writes). A run that has checkpoints but no
result continues from its newest checkpoint (``run_job`` resumes on its own), or goes straight to scoring when that
checkpoint is already at the planned step. Sweep directory::

    OUT/heldout.arrow, heldout.json   the held-out problems (drawn once)
    OUT/plan.json                     the grid as planned (sizes, FLOPs per sample, steps)
    OUT/runs.jsonl                    one record per finished run: what ``lawfinder scaling fit`` reads
    OUT/<run>/ckpt-*.pt, metrics.jsonl, timing.json, result.json
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .config import SweepConfig
from .evaluate import data_config, evaluate_model, load_heldout, make_heldout, mean_decoder_tokens
from .plan import RunPlan, SizeProfile, plan_runs, size_profile
from .records import RUNS_FILE, append_run, read_result, write_atomic, write_result


@dataclass
class Prepared:
    heldout: object                 # pyarrow.RecordBatch of the held-out problems
    profiles: dict[str, SizeProfile]
    runs: list[RunPlan]
    skipped: list[str]
    data_key: str | None            # the exhaustive base set's cache key: which expressions the runs trained on


def warm_data(config: SweepConfig, log: Callable[[str], None] = print) -> str | None:
    """Build (or load) the generator's cached base set here, once, so producers never build it themselves; returns
    its cache key (it changes with the simplifier's source, so records say which expression set they saw)."""
    from ..generate.generator import Generator

    data = data_config(config.data, config.data_overrides)
    if data.kind != "exhaustive":
        return None
    from ..generate.exhaustive import base_set_key, cache_dir

    key = base_set_key(data, data.simplify)
    if not (cache_dir() / f"scaling-laws-base-{key}.msgpack").exists():
        log(f"building the exhaustive expression set (depth {data.max_depth}; minutes at depth 3, once per "
            f"simplifier version, cached in {cache_dir()})")
    Generator(data, seed=config.seed)
    return key


def prepare(config: SweepConfig, log: Callable[[str], None] = print) -> Prepared:
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    data_key = warm_data(config, log)
    heldout = load_heldout(make_heldout(out, config.data, config.data_overrides, config.eval))
    d_out = mean_decoder_tokens(heldout)
    n_points = int(heldout.column("n_points").to_numpy(zero_copy_only=False).max())
    profiles = {s.name: size_profile(s, d_out, n_points) for s in config.sizes}
    runs, skipped = plan_runs(config, profiles)
    write_atomic(out / "plan.json", json.dumps({"profiles": [asdict(p) for p in profiles.values()],
                                                "runs": [r.to_dict() for r in runs], "skipped": skipped,
                                                "data_key": data_key}, indent=1))
    return Prepared(heldout, profiles, runs, skipped, data_key)


def train_overrides(config: SweepConfig, plan: RunPlan) -> tuple:
    """The run's TrainConfig fields: the shared [train] table, then the size's LR and batch and the budget's steps
    (the cosine schedule spans exactly the planned steps)."""
    fields = dict(config.train)
    fields.update({"lr": plan.lr, "batch_size": plan.batch_size, "max_steps": plan.steps})
    return tuple(fields.items())


def build_job(config: SweepConfig, plan: RunPlan):
    from ..actors.launch import TrainJob
    from ..actors.learners import LearnerSpec
    from ..actors.loop import LoopConfig
    from ..actors.sources import SourceSpec

    size = next(s for s in config.sizes if s.name == plan.size)
    return TrainJob(
        out_dir=str(Path(config.out) / plan.name),
        loop=LoopConfig(max_steps=plan.steps, checkpoint_every=config.checkpoint_every, keep_checkpoints=2,
                        report_every_s=15.0, max_seconds=config.max_seconds),
        source=SourceSpec(kind="generator", preset=config.data, batch_size=plan.batch_size,
                          overrides=tuple(config.data_overrides)),
        learner=LearnerSpec(kind="model", preset=size.preset, model_overrides=tuple(size.model),
                            train_overrides=train_overrides(config, plan), seed=config.seed,
                            threads=max(1, int(config.trainer_cpus))),
        producers=config.producers, seed=config.seed, producer_cpus=config.producer_cpus,
        trainer_cpus=config.trainer_cpus)


def trained_steps(run_dir: str | Path) -> int:
    from ..actors.checkpoints import list_checkpoints

    found = list_checkpoints(run_dir)
    return found[-1][0] if found else 0


def _add_timing(run_dir: Path, key: str, seconds: float, **fields) -> dict:
    """Accumulate seconds over launches (a resumed run adds to them) in ``timing.json``; returns its contents."""
    path = run_dir / "timing.json"
    timing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    timing[key] = timing.get(key, 0.0) + seconds
    timing.update({k: v for k, v in fields.items() if v is not None})
    write_atomic(path, json.dumps(timing))
    return timing


def score(config: SweepConfig, plan: RunPlan, prepared: Prepared, simplify) -> dict:
    """Evaluate the run's final checkpoint and build its record."""
    import torch

    from ..actors.checkpoints import newest_checkpoint, read_metrics
    from ..model import load_model

    run_dir = Path(config.out) / plan.name
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, _ = load_model(newest_checkpoint(run_dir), device)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.eval.threads)
    try:
        result = evaluate_model(model, prepared.heldout, config.eval, simplify, seed=config.eval.seed)
    finally:
        torch.set_num_threads(threads)
    timing = _add_timing(run_dir, "eval_seconds", result["eval_seconds"])
    metrics = [m for m in read_metrics(run_dir) if m.get("loss") is not None]
    size = next(s for s in config.sizes if s.name == plan.size)
    tokens = plan.flops / (6 * plan.params)
    return {
        **plan.to_dict(), **result, "flops_budget": plan.budget, "tokens": tokens,
        "tokens_per_param": tokens / plan.params, "target_tokens": plan.samples * plan.d_out,
        "target_tokens_per_param": plan.samples * plan.d_out / plan.params,
        "train_loss": metrics[-1]["loss"] if metrics else None,
        "train_seconds": timing.get("train_seconds"), "preset": size.preset, "model_overrides": dict(size.model),
        "data": config.data, "data_overrides": dict(config.data_overrides), "data_key": prepared.data_key,
        "eval_device": device, "trainer_device": timing.get("device"), "finished_at": time.time()}


def run_one(config: SweepConfig, plan: RunPlan, prepared: Prepared, simplify, log: Callable[[str], None]) -> str:
    """Train (or resume) and score one run; returns "done", "cached" or "pending" (stopped by max_seconds)."""
    from ..actors.launch import run_job

    run_dir = Path(config.out) / plan.name
    runs_file = Path(config.out) / RUNS_FILE
    finished = read_result(run_dir)
    if finished is not None:
        append_run(runs_file, finished)
        return "cached"
    if trained_steps(run_dir) < plan.steps:
        # A simplifier edited since the last run means a new base set: build it here, not in a producer.
        warm_data(config, log)
        log(f"[{plan.name}] training {plan.steps} steps of batch {plan.batch_size} "
            f"({plan.flops:.3g} FLOPs, N={plan.params:,})" +
            (f", resuming at step {trained_steps(run_dir)}" if trained_steps(run_dir) else ""))
        summary = run_job(build_job(config, plan))
        _add_timing(run_dir, "train_seconds", float(summary.get("elapsed_s", 0.0)),
                    device=summary.get("trainer", {}).get("device"))
        log(f"[{plan.name}] step {summary['step']}/{plan.steps} in {summary.get('elapsed_s', 0):.0f} s, "
            f"{summary.get('samples_per_s', 0):.0f} samples/s, waited for data "
            f"{100 * summary.get('wait_share', 0):.0f}%")
        if trained_steps(run_dir) < plan.steps:
            return "pending"
    log(f"[{plan.name}] scoring on {config.eval.problems} held-out problems x {config.eval.samples} samples")
    record = score(config, plan, prepared, simplify)
    write_result(run_dir, record)
    append_run(runs_file, record)
    log(f"[{plan.name}] val loss {record['loss']:.4f}  Acc_solved {record['acc_solved']:.3f}  "
        f"Acc_R2>0.99 {record['acc_r2']:.3f}  ({record['eval_seconds']:.0f} s to score)")
    return "done"


def run_sweep(config: SweepConfig, only: list[str] | None = None, log: Callable[[str], None] = print) -> dict:
    """Run the grid (or the runs named in ``only``); returns which runs ended in which state."""
    from ..evaluation.metrics import load_simplifier

    prepared = prepare(config, log)
    runs = prepared.runs
    if only:
        names = {r.name for r in runs}
        unknown = sorted(set(only) - names)
        if unknown:
            raise ValueError(f"--only: no run named {unknown} in the plan; runs: {sorted(names)}")
        runs = [r for r in runs if r.name in set(only)]
    simplify = load_simplifier()
    states: dict[str, list[str]] = {"done": [], "cached": [], "pending": [], "failed": []}
    for plan in runs:
        try:
            states[run_one(config, plan, prepared, simplify, log)].append(plan.name)
        except Exception as error:  # noqa: BLE001 - one broken run must not cost the rest; rerunning resumes it
            log(f"[{plan.name}] failed: {type(error).__name__}: {error}")
            states["failed"].append(plan.name)
    return {**states, "skipped": prepared.skipped, "runs_file": str(Path(config.out) / RUNS_FILE)}
