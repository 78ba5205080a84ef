"""``lawfinder bench pipeline``: what the producer → object store → trainer path delivers, per producer count.

Modes (each measured for ``--seconds`` per producer count, after the actors are up; the first report window is
dropped as warm-up):

- ``synthetic``: ~1 MB Arrow batches served at no cost to a trainer that trains nothing: the pull path's ceiling
  (batches/s, MB/s).
- ``generator``: real generator batches to the same sink: consumed samples/s, which should grow with producers until
  the cores run out.
- ``transport``: real batches (made once per producer, then replayed, so producers keep up) feeding a real model's
  train step, against the same learner fed the same kind of batches from memory in a Ray task with the same CPU
  share. Per step, the loop's time outside ``train_step`` is the feeding cost (pulling from the object store, or
  taking the next batch from a list, plus bookkeeping). Transport overhead = (feeding cost fed by the pipeline - fed
  from memory) / train step fed from memory; the end-to-end ratio of loop times per step is reported beside it (on a
  shared machine it also carries the load that changed between the two runs).
- ``train`` (not in the default set): the real thing — generator producers feeding the real trainer — against the
  same trainer fed from memory (the transport baseline): producer-fed vs memory-fed samples/s and the wait share.
  With ``--device cuda`` the trainer (and the memory-fed baseline) run on the GPU; ``--trainer-cpus`` sets the
  trainer's CPUs and torch threads. ``--warmup S`` drops the first S seconds of each run (compilation).
- ``sizing`` (not in the default set): producer cores one GPU needs per model preset, from one core's measured
  samples/s and the trainer's samples/s computed from counted FLOPs (``sizing.py``).
- ``learners`` and ``allreduce`` (not in the default set): data-parallel training on Ray Train per ``--learners``
  count, and the gradient all-reduce's cost per preset (``perf/data_parallel.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile


def register_bench(sub: argparse._SubParsersAction) -> None:
    from ..actors.learners import DEFAULT_PRESET  # msgpack and dataclasses only: no Ray or torch at registration

    p = sub.add_parser("pipeline", help="batches/s, samples/s, wait share and transport overhead of Ray training",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--producers", default="1,2", help="comma-separated producer counts")
    p.add_argument("--learners", default="1,2", help="comma-separated learner counts (learners, allreduce modes)")
    p.add_argument("--allreduce-presets", default="flash-3M,flash-20M,flash-120M",
                   help="model presets of the allreduce mode")
    p.add_argument("--seconds", type=float, default=10.0, help="measuring time per run")
    p.add_argument("--modes", default="synthetic,generator,transport",
                   help="comma-separated subset of synthetic, generator, transport, train, sizing, learners, "
                        "allreduce")
    p.add_argument("--batch-size", type=int, default=None, help="samples per batch (default: the --preset's)")
    p.add_argument("--synthetic-mb", type=float, default=1.0, help="size of one synthetic batch")
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"model preset trained in the transport mode (default {DEFAULT_PRESET})")
    p.add_argument("--data", default=None, help="generator preset (default: the --preset's)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the trainer runs: cuda asks Ray for a GPU (an error if the cluster has none)")
    p.add_argument("--trainer-cpus", type=float, default=1.0, help="CPUs (and torch threads) of the trainer")
    p.add_argument("--warmup", type=float, default=0.0,
                   help="seconds dropped at the start of each run (compilation); 0 = drop the first report window")
    p.add_argument("--set-data", action="append", default=[], metavar="NAME=VALUE",
                   help="GeneratorConfig field of the --data preset (in sizing: of that preset's measurement)")
    p.add_argument("--depth", type=int, default=2, help="next_batch calls in flight per producer")
    p.add_argument("--sizing-presets", default="flash-3M,flash-20M,flash-120M,flash-1B,sl-XS,sl-S,sl-M,sl-L,sl-XL",
                   help="model presets of the sizing mode")
    p.add_argument("--gpu-tflops", type=float, default=None, help="sizing: assumed GPU peak (default: H100 bf16)")
    p.add_argument("--mfu", type=float, default=None, help="sizing: assumed model FLOPs utilisation")
    p.add_argument("--trainer-rates", default=None,
                   help="sizing: bench train-step JSON/JSONL whose measured samples/s replace the computed ones")
    p.add_argument("--jsonl", default=None, help="append one JSON line per result row here")
    p.add_argument("--out", help="write the results as JSON here")
    p.set_defaults(func=run_bench)


MODES = ("synthetic", "generator", "transport", "train", "sizing", "learners", "allreduce")


def run_bench(args: argparse.Namespace) -> int:
    from ..actors.sources import SourceSpec
    from ..generate.config import parse_override
    from ..model.presets import get

    counts = [int(c) for c in str(args.producers).split(",") if c.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not counts or min(counts) < 1:
        raise ValueError(f"--producers must list counts >= 1, got {args.producers!r}")
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise ValueError(f"--modes: unknown mode(s) {unknown}; known: {list(MODES)}")
    if args.seconds <= 0:
        raise ValueError(f"--seconds must be > 0, got {args.seconds}")
    preset = get(args.preset)
    args.batch_size = args.batch_size or preset.train.batch_size
    data = SourceSpec(kind="generator", preset=args.data or preset.data, batch_size=args.batch_size,
                      overrides=tuple(parse_override(text) for text in args.set_data))

    report = {"benchmark": "pipeline", "cpu_count": os.cpu_count(),
              "shared_machine_note": "timings from a machine shared with other work; compare ratios within one run",
              "seconds": args.seconds, "batch_size": args.batch_size, "depth": args.depth, "preset": args.preset}
    if "sizing" in modes:
        from ..actors import sizing

        rows = sizing.size_presets([p.strip() for p in args.sizing_presets.split(",") if p.strip()], args.seconds,
                                   args.gpu_tflops or sizing.GPU_TFLOPS, args.mfu or sizing.MFU,
                                   data_overrides={data.preset: data.overrides},
                                   trainer_rates=sizing.read_trainer_rates(args.trainer_rates)
                                   if args.trainer_rates else None)
        report["sizing"] = rows
        print(sizing.format_sizing(rows), flush=True)
        for row in rows:
            _append_jsonl(args, "sizing", row)
        modes.remove("sizing")
    learners = [int(c) for c in str(args.learners).split(",") if c.strip()]
    if ("learners" in modes or "allreduce" in modes) and (not learners or min(learners) < 1):
        raise ValueError(f"--learners must list counts >= 1, got {args.learners!r}")
    if "allreduce" in modes:
        from .data_parallel import allreduce_rows, format_allreduce

        rows = allreduce_rows([p.strip() for p in args.allreduce_presets.split(",") if p.strip()], learners,
                              args.batch_size)
        report["allreduce"] = rows
        print(format_allreduce(rows), flush=True)
        for row in rows:
            _append_jsonl(args, "allreduce", row)
        modes.remove("allreduce")
    if not modes:
        return _finish(args, report)

    from ..actors.launch import connect

    # The Trainer's progress lines would drown the table; the rates come from its metrics file instead.
    cpus = max(counts) + args.trainer_cpus
    if "learners" in modes:
        cpus = max(cpus, max(learners) * (1 + args.trainer_cpus))
    report["cluster_resources"] = connect(cpus, log_to_driver=False)
    if args.device == "cuda" and report["cluster_resources"].get("GPU", 0) < 1:
        raise ValueError("--device cuda: the Ray cluster has no GPU")
    if "learners" in modes:
        from .data_parallel import format_learners

        rows = []
        for n in learners:
            rows.append(measure_learners(args, n, data))
            _append_jsonl(args, "learners", rows[-1])
        report["learners"] = rows
        print(format_learners(rows), flush=True)
        modes.remove("learners")
        if not modes:
            return _finish(args, report)
    results = []
    print(_header(), flush=True)
    for mode in modes:
        if mode in ("transport", "train"):
            results.append(measure_memory(args, data, mode))
            _show(args, add_overheads(results)[-1])
        for n in counts:
            results.append(measure_pipeline(args, mode, n, data))
            _show(args, add_overheads(results)[-1])
    report["results"] = add_overheads(results)
    return _finish(args, report)


def _finish(args, report: dict) -> int:
    if args.out:
        _write_json(args.out, report)
    return 0


def _show(args, row: dict) -> None:
    print(format_row(row), flush=True)
    _append_jsonl(args, "pipeline", row)


def _append_jsonl(args, benchmark: str, row: dict) -> None:
    # Row by row, so that a run cut short by a timeout keeps what it measured.
    if args.jsonl:
        with open(args.jsonl, "a") as handle:
            handle.write(json.dumps({"benchmark": benchmark, **row}, default=str) + "\n")


def measure_pipeline(args, mode: str, producers: int, data) -> dict:
    import ray

    from ..actors.launch import TrainJob, finish, start, stop
    from ..actors.learners import LearnerSpec
    from ..actors.sources import SourceSpec

    if mode == "synthetic":
        source = SourceSpec(kind="synthetic", batch_size=args.batch_size,
                            synthetic_bytes=int(args.synthetic_mb * (1 << 20)))
    else:
        source = SourceSpec(kind="replay" if mode == "transport" else "generator", preset=data.preset,
                            batch_size=data.batch_size, overrides=data.overrides)
    learner = _learner(args) if mode in ("transport", "train") else LearnerSpec(kind="sink")
    with tempfile.TemporaryDirectory(prefix="lawfinder-bench-") as out_dir:
        job = TrainJob(out_dir=out_dir, loop=_timed_loop(args.seconds, args.warmup), source=source, learner=learner,
                       producers=producers, depth=args.depth, trainer_cpus=args.trainer_cpus)
        launched = start(job)
        try:
            ray.get([p.health.remote() for p in launched.producers])  # every producer constructed
            ray.get(launched.trainer.health.remote())
            summary = finish(launched, job)
        finally:
            stop(launched)
        steady = _steady(out_dir, args.warmup)
    return {"mode": mode, "feed": "pipeline", "producers": producers, **steady, "batch_mb": _batch_mb(source),
            "trainer_device": summary["trainer"].get("device")}


def measure_learners(args, learners: int, data) -> dict:
    """The group's steady samples/s with ``learners`` data-parallel learners on Ray Train."""
    from ..actors.data_parallel import run_data_parallel
    from ..actors.launch import TrainJob
    from ..actors.sources import SourceSpec

    source = SourceSpec(kind="replay", preset=data.preset, batch_size=data.batch_size, overrides=data.overrides)
    with tempfile.TemporaryDirectory(prefix="lawfinder-bench-") as out_dir:
        job = TrainJob(out_dir=out_dir, loop=_timed_loop(args.seconds, args.warmup), source=source,
                       learner=_learner(args), producers=learners, learners=learners, ddp=True, depth=args.depth,
                       trainer_cpus=args.trainer_cpus)
        summary = run_data_parallel(job)
        steady = _steady(out_dir, args.warmup)
    return {"mode": "learners", "learners": learners, "samples_per_s": steady["samples_per_s"],
            "steps_per_s": steady["batches_per_s"], "loop_s_per_step": steady.get("loop_s_per_step"),
            "device": summary["trainer"].get("device")}


def _learner(args):
    from ..actors.learners import LearnerSpec

    return LearnerSpec(kind="model", preset=args.preset, train_overrides=(("batch_size", args.batch_size),),
                       threads=max(1, int(args.trainer_cpus)))


def measure_memory(args, data, mode: str = "transport") -> dict:
    """The baseline: the same learner stepping on replayed batches held in its own memory, with the trainer's
    resources (its CPUs, and the GPU when the trainer would get one)."""
    import ray

    from ..actors.sources import SourceSpec

    source = SourceSpec(kind="replay", preset=data.preset, batch_size=data.batch_size, overrides=data.overrides)
    gpus = 1 if args.device == "cuda" or (args.device == "auto" and ray.cluster_resources().get("GPU", 0) >= 1) else 0
    with tempfile.TemporaryDirectory(prefix="lawfinder-bench-") as out_dir:
        task = ray.remote(num_cpus=args.trainer_cpus, num_gpus=gpus)(memory_feed)
        device = ray.get(task.remote(_learner(args), source, _timed_loop(args.seconds, args.warmup), out_dir))
        steady = _steady(out_dir, args.warmup)
    return {"mode": mode, "feed": "memory", "producers": 0, **steady, "batch_mb": _batch_mb(source),
            "trainer_device": device}


def memory_feed(learner_spec, source_spec, loop, out_dir) -> str:
    """Run the training loop with batches from memory (the same loop and learner the TrainerActor runs)."""
    import itertools

    from ..actors.learners import build_learner
    from ..actors.loop import train_loop
    from ..actors.sources import build_source

    learner = build_learner(learner_spec)
    batches = itertools.cycle(build_source(source_spec, 0, 0, 0).batches)
    train_loop(learner, lambda: (0, next(batches)), out_dir, loop, {"launch": 0}, report=lambda line: None)
    return str(learner.device)


def _timed_loop(seconds: float, warmup: float = 0.0):
    from ..actors.loop import LoopConfig

    # Reports every fifth of the measuring time; what comes before the warm-up's end (or the first window) is dropped.
    return LoopConfig(max_steps=10**9, checkpoint_every=10**9, max_seconds=warmup + seconds,
                      report_every_s=seconds / 5)


def _steady(out_dir: str, warmup: float = 0.0) -> dict:
    """Rates over the report windows after the warm-up (the first ``warmup`` seconds, at least the first window:
    first steps, first batches, lazy imports, compilation)."""
    from ..actors.checkpoints import read_metrics

    records = read_metrics(out_dir)
    start = next((i for i, r in enumerate(records) if r["elapsed_s"] >= warmup), len(records))
    records = records[start:]
    if len(records) < 2:
        raise RuntimeError(f"the run wrote {len(records)} report(s) after its warm-up; --seconds is too short")
    first, last = records[0], records[-1]
    seconds = last["elapsed_s"] - first["elapsed_s"]
    batches = last["batches_total"] - first["batches_total"]
    samples = last["samples_total"] - first["samples_total"]
    windows = [(r["elapsed_s"] - p["elapsed_s"], r["batches_total"] - p["batches_total"], r)
               for p, r in zip(records, records[1:])]
    waited = sum(w * r["wait_share"] for w, _, r in windows)
    stepped = sum(n * r["step_s"] for _, n, r in windows if r.get("step_s") is not None)
    return {"seconds_measured": seconds, "batches_per_s": batches / seconds, "samples_per_s": samples / seconds,
            "wait_share": waited / seconds, "loop_s_per_step": seconds / batches if batches else None,
            "train_step_s": stepped / batches if batches else None}


def _batch_mb(source) -> float:
    from ..actors.sources import build_source

    return build_source(source, 0, 0, 0).next().nbytes / (1 << 20)


def add_overheads(results: list) -> list:
    """Transport overhead and share of the memory-fed rate of each pipeline-fed transport/train run, against the
    memory-fed baseline of the same mode."""
    for r in results:
        if r.get("loop_s_per_step") and r.get("train_step_s") is not None:
            r["feed_s_per_step"] = r["loop_s_per_step"] - r["train_step_s"]
        memory = next((m for m in results if m["mode"] == r["mode"] and m["feed"] == "memory"), None)
        if r["mode"] in ("transport", "train") and r["feed"] == "pipeline" and memory and memory.get("train_step_s"):
            r["transport_overhead"] = (r["feed_s_per_step"] - memory["feed_s_per_step"]) / memory["train_step_s"]
            r["end_to_end_ratio"] = r["loop_s_per_step"] / memory["loop_s_per_step"] - 1
            if r.get("samples_per_s") and memory.get("samples_per_s"):
                r["share_of_memory_fed"] = r["samples_per_s"] / memory["samples_per_s"]
    return results


def format_row(r: dict) -> str:
    def ms(key):
        return f"{1000 * r[key]:.2f}" if r.get(key) is not None else "-"

    overhead = f"{100 * r['transport_overhead']:+.1f}%" if "transport_overhead" in r else ""
    end_to_end = f"{100 * r['end_to_end_ratio']:+.1f}%" if "end_to_end_ratio" in r else ""
    share = f"{100 * r['share_of_memory_fed']:.0f}%" if "share_of_memory_fed" in r else ""
    return (f"{r['mode']:<10} {r['feed']:<9} {r['producers']:>9} {r['batches_per_s']:>10.1f} "
            f"{r['samples_per_s']:>10.1f} {r['batches_per_s'] * r['batch_mb']:>8.1f} {100 * r['wait_share']:>6.1f}% "
            f"{ms('loop_s_per_step'):>9} {ms('feed_s_per_step'):>8} {overhead:>9} {end_to_end:>8} {share:>7}")


def _header() -> str:
    header = (f"{'mode':<10} {'feed':<9} {'producers':>9} {'batches/s':>10} {'samples/s':>10} {'MB/s':>8} "
              f"{'wait':>7} {'ms/step':>9} {'feed ms':>8} {'overhead':>9} {'e2e':>8} {'of mem':>7}")
    return header + "\n" + "-" * len(header)


def _write_json(path: str, report: dict) -> None:
    from ..atomic import write_text

    write_text(path, json.dumps(report, indent=2, default=str))
