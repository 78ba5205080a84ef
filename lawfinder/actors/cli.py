"""``lawfinder train``: distributed training of a model preset with Ray producers feeding one trainer.

Connects to ``RAY_ADDRESS`` when set (so ``ray job submit -- lawfinder train ...`` runs on the cluster), else starts
a local Ray; an address that does not answer within ``LAWFINDER_RAY_TIMEOUT`` seconds (default 20) is a one-line
error. Progress lines come from the TrainerActor; metrics go to ``--out/metrics.jsonl`` beside the checkpoints.
Running the same command again on the same ``--out`` resumes from the newest intact checkpoint. ``--init-from PATH``
starts a new run from trained weights (e.g. the shipped model) with a fresh optimiser and LR schedule.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace

from .learners import DEFAULT_PRESET

JOB_FILE = "job.json"   # the run's resolved record, beside its checkpoints


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model with Ray producer actors feeding a trainer actor",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"model preset (lawfinder.model.PRESETS), e.g. flash-3M (default {DEFAULT_PRESET})")
    p.add_argument("--producers", type=int, default=2,
                   help="producer actors (one CPU each); with --learners N, each learner pulls from its own share")
    p.add_argument("--learners", type=int, default=1,
                   help="data-parallel learners on Ray Train (one per GPU where there are GPUs; gloo on CPUs); the "
                        "global batch is N x --batch-size and the LR scales by sqrt(global batch / preset batch)")
    p.add_argument("--ddp", action="store_true",
                   help="run even one learner through the Ray Train / DDP path (what deploy/gpu-check.sh measures)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="samples per batch (default: the preset's); the LR scales by sqrt(batch / preset batch)")
    p.add_argument("--grad-accum", type=int, default=None,
                   help="micro-batches per step, for a batch that does not fit the device at once (default 1)")
    p.add_argument("--max-steps", type=int, default=None, help="total optimiser steps (default: the preset's)")
    p.add_argument("--out", required=True, help="run directory: checkpoints, metrics.jsonl (resumed if present)")
    p.add_argument("--data", default=None,
                   help="generator preset (default: the model preset's, e.g. flash-ansr for flash-*)")
    p.add_argument("--set-data", action="append", default=[], metavar="NAME=VALUE", help="GeneratorConfig field")
    p.add_argument("--set-model", action="append", default=[], metavar="NAME=VALUE", help="ModelConfig field")
    p.add_argument("--set-train", action="append", default=[], metavar="NAME=VALUE", help="TrainConfig field")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--keep", type=int, default=3, help="checkpoints kept (newest)")
    p.add_argument("--max-time", type=float, default=0.0,
                   help="stop with a checkpoint after this many seconds (0 = none); run again to continue")
    p.add_argument("--report-every", type=float, default=10.0, help="seconds between progress lines")
    p.add_argument("--depth", type=int, default=2, help="next_batch calls in flight per producer (backpressure)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-from", metavar="PATH", default=None,
                   help="start from these weights (a model file or checkpoint; same architecture; fresh optimiser "
                        "and schedule); ignored when --out already holds a checkpoint to resume")
    p.add_argument("--producer-cpus", type=float, default=1.0)
    p.add_argument("--trainer-cpus", type=float, default=1.0,
                   help="CPUs of the trainer actor; also its torch threads (a GPU trainer wants 2-4)")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON")
    p.add_argument("--print-job", action="store_true",
                   help=f"print the run's resolved record (saved as {JOB_FILE} beside the checkpoints) and stop")
    p.set_defaults(func=run_train)


def build_job(args: argparse.Namespace):
    """The TrainJob an argument namespace describes (ValueError names the bad flag or field)."""
    from ..generate.config import parse_override
    from ..overrides import parse_assignment
    from ..model.config import ModelConfig
    from ..model.presets import get
    from .launch import TrainJob
    from .learners import LearnerSpec
    from .loop import LoopConfig
    from .sources import SourceSpec

    try:
        preset = get(args.preset)
    except ValueError as error:
        raise ValueError(f"--preset {args.preset!r}: {error}") from None
    model_overrides = tuple(parse_assignment(ModelConfig, text, "--set-model") for text in args.set_model)
    train_overrides = [parse_assignment(_train_config_class(), text, "--set-train") for text in args.set_train]
    if args.grad_accum is not None:
        train_overrides.append(("grad_accum", args.grad_accum))
    # The LR schedule spans the run, and the batch the producers make is the batch the trainer steps on: both come
    # from the flags or else the preset's training record, and the configs are resolved here, once (a bad
    # combination fails here, not in the trainer actor, which only reads the resolved configs).
    base = preset.train_config(overrides=train_overrides)
    batch_size = args.batch_size or base.batch_size
    max_steps = args.max_steps or base.max_steps
    train_overrides += [("max_steps", max_steps), ("batch_size", batch_size)]
    if args.learners > 1 and not any(name == "lr" for name, _ in train_overrides):
        # One step sees every learner's batch: the LR follows the global batch (the presets' square-root rule).
        from ..model.presets import scaled_lr

        train_overrides.append(("lr", scaled_lr(preset.train.lr, args.learners * batch_size,
                                                preset.train.batch_size)))
    learner = LearnerSpec(kind="model", preset=args.preset, model_overrides=model_overrides,
                          train_overrides=tuple(train_overrides), seed=args.seed,
                          threads=max(1, int(args.trainer_cpus)))
    data = args.data or preset.data
    init_from = _checked_init_from(args.init_from, learner.model)
    return TrainJob(
        out_dir=args.out,
        loop=LoopConfig(max_steps=max_steps, checkpoint_every=args.checkpoint_every, keep_checkpoints=args.keep,
                        report_every_s=args.report_every, max_seconds=args.max_time),
        source=SourceSpec(kind="generator", preset=data, batch_size=batch_size,
                          overrides=tuple(parse_override(text) for text in args.set_data)),
        learner=replace(learner, init_from=init_from),
        producers=args.producers, learners=args.learners, ddp=args.ddp, seed=args.seed, depth=args.depth,
        producer_cpus=args.producer_cpus,
        trainer_cpus=args.trainer_cpus)


def run_train(args: argparse.Namespace) -> int:
    from ..progress import following_steps, wanted
    from .jobs import run

    from ..run_lock import hold

    from ..atomic import plain_json, write_text

    job = build_job(args)
    if args.print_job:
        print(json.dumps(plain_json(job.record()), indent=1, default=str))
        return 0
    with hold(job.out_dir, "--out"), \
            following_steps(os.path.join(job.out_dir, "metrics.jsonl"), job.loop.max_steps, wanted()):
        # The run as one record beside its checkpoints (each launch rewrites it: a resumed run may change its length).
        write_text(os.path.join(job.out_dir, JOB_FILE), json.dumps(plain_json(job.record()), indent=1, default=str))
        summary = run(job)
    if args.json:  # stdout holds the JSON alone: progress and the trainer's lines go to stderr
        print(json.dumps(summary, default=str))
    else:
        print(format_summary(summary, job))
    return 0


def format_summary(summary: dict, job) -> str:
    trainer = summary["trainer"]
    learners = f"{trainer['learners']} learners" if trainer.get("learners", 1) > 1 else "trainer"
    lines = [f"trained {summary['start_step']} -> {summary['step']} steps in {summary['elapsed_s']:.1f} s "
             f"(launch {summary['launch']}, {learners} on {trainer.get('device', '?')})",
             f"  {summary['samples_per_s']:.1f} samples/s, {summary['batches_per_s']:.2f} batches/s, "
             f"waited for data {100 * summary['wait_share']:.0f}% of the time",
             f"  checkpoint: {summary['checkpoint']}",
             f"  metrics:    {job.out_dir}/metrics.jsonl"]
    for health in summary["producers"]:
        if "dead" in health:
            lines.append(f"  producer: dead ({health['dead']})")
        else:
            lines.append(f"  producer {health['index']}: {health['served']} batches served, "
                         f"{health['restarts']} restarts")
    if summary.get("dropped_producers"):
        lines.append(f"  dropped producers: {summary['dropped_producers']}")
    return "\n".join(lines)


def _checked_init_from(path: str | None, config) -> str | None:
    """``--init-from`` as an absolute path (the trainer may run elsewhere), refused at once when its weights cannot
    start this model (missing, damaged, another architecture) rather than inside the trainer actor."""
    if path is None:
        return None
    import os

    from ..model.checkpoint import architecture_difference

    difference = architecture_difference(path, config)
    if difference:
        raise ValueError(f"--init-from {path!r}: its architecture differs from this model's ({difference})")
    return os.path.abspath(path)


def _train_config_class():
    from ..model.config import TrainConfig

    return TrainConfig
