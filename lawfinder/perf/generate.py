"""``lawfinder bench generate``: W worker processes each run a ``Generator`` for S seconds and report samples/s per
core, skeletons/s, data draws, rejection rates and the time split by stage. ``--workers N`` measures 1 worker and N
workers (default: all cores) one after the other and prints them side by side, so per-core and total rates and the
scaling between them are read off one run. The generator is imported only when a benchmark runs, so that building
the CLI stays fast."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time

from ..atomic import write_text
from ..generate.cli import add_config_arguments, config_from_args


def _worker(args: tuple) -> dict:
    from ..generate.generator import producer_process

    config_dict, seed, worker_index, seconds, batch_size = args
    # A Producer actor's settings, for this worker only (with 1 worker this is the CLI's process).
    with producer_process():
        return _measure(config_dict, seed, worker_index, seconds, batch_size)


def _measure(config_dict: dict, seed: int, worker_index: int, seconds: float, batch_size: int) -> dict:
    from ..generate.config import GeneratorConfig
    from ..generate.generator import Generator

    config = GeneratorConfig(**config_dict)
    generator = Generator(config, seed=seed, worker_index=worker_index)
    generator.sample_batch(batch_size)  # warm-up: imports, index load, first compiles are not timed
    generator.reset_stats()
    decontaminator = generator.decontaminator
    before = dict(decontaminator.stats) if decontaminator is not None else {}
    started = time.perf_counter()
    cpu_started = time.process_time()
    while time.perf_counter() - started < seconds:
        generator.sample_batch(batch_size)
    elapsed = time.perf_counter() - started
    out = generator.stats.as_dict()
    out.update({"elapsed": elapsed, "cpu_seconds": time.process_time() - cpu_started})
    if decontaminator is not None:
        out["decontamination"] = {k: v - before.get(k, 0) for k, v in decontaminator.stats.items()
                                  if k != "test_expressions"}
        out["decontamination"]["test_expressions"] = len(decontaminator)
    return out


def run_throughput(config, workers: int = 1, seconds: float = 10.0, seed: int = 0,
                   batch_size: int = 64) -> dict:
    """Measure a ``GeneratorConfig``; returns the JSON-ready report."""
    from ..generate.generator import DATA_REASONS, REASONS, GeneratorStats

    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if seconds <= 0:
        raise ValueError(f"--seconds must be > 0, got {seconds}")
    jobs = [(config.to_dict(), seed, i, seconds, batch_size) for i in range(workers)]
    if workers == 1:
        results = [_worker(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.map(_worker, jobs)
    total = GeneratorStats()
    for r in results:
        total.merge(r)
    elapsed = max(r["elapsed"] for r in results)
    cores = os.cpu_count() or 1
    samples_per_s = total.samples / elapsed
    stage_seconds = dict(total.seconds)
    worker_seconds = sum(r["elapsed"] for r in results)
    stage_seconds["other"] = max(0.0, worker_seconds - sum(total.seconds.values()))
    report = {
        "preset": config.name,
        "decontaminate": config.decontaminate,
        "workers": workers,
        "cpu_count": cores,
        "seconds": elapsed,
        "samples": total.samples,
        "samples_per_s": samples_per_s,
        # Per worker process; equals per core while workers <= cores and the box is otherwise idle.
        "samples_per_s_per_worker": samples_per_s / workers,
        "samples_per_cpu_second": total.samples / max(1e-9, sum(r["cpu_seconds"] for r in results)),
        "skeletons_per_s": total.attempts / elapsed,
        "skeletons_per_s_per_worker": total.attempts / elapsed / workers,
        "data_draws_per_sample": total.data_draws / max(1, total.samples),
        "draws_needed_per_sample": total.draws_needed / max(1, total.samples),
        "full_draws_per_sample": total.full_draws / max(1, total.samples),
        "screen_points_per_sample": total.screen_points / max(1, total.samples),
        # The evaluation work per sample, in numpy passes and in points; the points also in units of the draws the
        # samples keep (their mean n), the unit of the one-draw-per-pass loop the issue measured.
        "evaluations_per_sample": total.evaluations / max(1, total.samples),
        "points_evaluated_per_sample": total.points_evaluated / max(1, total.samples),
        "kept_draws_evaluated_per_sample": total.points_evaluated / max(1, total.sample_points),
        # Share of the data and evaluate stages spent on data chains that gave no sample.
        "rejected_chain_share": total.rejected_chain_seconds / max(1e-12, total.seconds["data"]
                                                                   + total.seconds["evaluate"]),
        # Data rejections happen once per data chain (several per skeleton when datasets_per_skeleton > 1).
        "rejection_rates": {k: total.rejected.get(k, 0) / max(1, total.chains if k in DATA_REASONS else total.attempts)
                            for k in REASONS},
        "accepted_rate": total.samples / max(1, total.attempts),
        "accepted_per_chain": total.samples / max(1, total.chains),
        "datasets_per_skeleton": config.datasets_per_skeleton,
        "stage_seconds": stage_seconds,
        "stage_fraction": {k: v / max(1e-12, worker_seconds) for k, v in stage_seconds.items()},
        "stats": total.as_dict(),
    }
    decontamination = [r["decontamination"] for r in results if "decontamination" in r]
    if decontamination:
        report["decontamination"] = {k: sum(d[k] for d in decontamination) for k in decontamination[0]
                                     if k != "test_expressions"}
        report["decontamination"]["test_expressions"] = decontamination[0]["test_expressions"]
    return report


def format_scaling(reports: list[dict]) -> str:
    """One line per worker count: total and per-core rates, and the total relative to N times one worker."""
    one = next((r for r in reports if r["workers"] == 1), None)
    lines = [f"generator scaling: preset {reports[0]['preset']}, {reports[0]['cpu_count']} core(s)",
             "  workers   samples/s total   per worker   per CPU second   vs N x 1 worker"]
    for r in reports:
        scale = (f"{r['samples_per_s'] / (r['workers'] * one['samples_per_s']):14.2f}" if one is not None
                 else f"{'-':>14}")
        lines.append(f"  {r['workers']:7d}   {r['samples_per_s']:15.1f}   {r['samples_per_s_per_worker']:10.1f}   "
                     f"{r['samples_per_cpu_second']:14.1f}   {scale}")
    return "\n".join(lines)


def format_report(report: dict) -> str:
    from ..generate.generator import PROBE, STAGES

    lines = [
        f"generator throughput: preset {report['preset']}, decontamination "
        f"{'on' if report['decontaminate'] else 'off'}, {report['workers']} worker(s) on {report['cpu_count']} "
        f"core(s), {report['seconds']:.1f} s",
        f"  samples/s per worker     {report['samples_per_s_per_worker']:10.1f}   "
        f"(total {report['samples_per_s']:.1f}; wall clock, shared with whatever else runs)",
        f"  samples per CPU second   {report['samples_per_cpu_second']:10.1f}   (per core; less sensitive to a shared box)",
        f"  skeletons/s per worker   {report['skeletons_per_s_per_worker']:10.1f}",
        f"  accepted / skeletons     {report['accepted_rate']:10.3f}   (data chains per skeleton: at most "
        f"{report['datasets_per_skeleton']}; accepted / chains {report['accepted_per_chain']:.3f})",
        f"  data draws per sample    {report['draws_needed_per_sample']:10.2f}   "
        f"(one at a time: up to each chain's first good draw, or its drop)",
        f"    probed in blocks       {report['data_draws_per_sample']:10.2f}   (draws 1-4 share a numpy pass, 5-20 "
        f"another: unused ones count too)",
        f"    on all their points    {report['full_draws_per_sample']:10.2f}   (the rest evaluated after a probe of "
        f"{PROBE} passed)",
        f"    screen points          {report['screen_points_per_sample']:10.1f}   "
        f"(points of the early-rejection screen's draws, per sample)",
        f"  evaluation per sample    {report['evaluations_per_sample']:10.2f}   numpy passes over "
        f"{report['points_evaluated_per_sample']:.0f} points = {report['kept_draws_evaluated_per_sample']:.2f} kept "
        f"draws' worth",
        f"    on rejected chains     {report['rejected_chain_share'] * 100:8.1f} %   (of data + evaluate time: chains "
        f"that gave no sample)",
        "  rejected (per skeleton; non_finite_* per data chain):",
    ]
    for k, v in report["rejection_rates"].items():
        lines.append(f"    {k:<22} {v:8.4f}")
    lines.append("  time by stage:")
    for k in (*STAGES, "other"):
        lines.append(f"    {k:<22} {report['stage_fraction'].get(k, 0.0) * 100:7.1f} %")
    if "decontamination" in report:
        d = report["decontamination"]
        lines.append(f"  decontamination: {d['checked']} checked, {d['contaminated']} held out "
                     f"({d['exact_matches']} exact, {d['numeric_matches']} numeric) against "
                     f"{d['test_expressions']} test expressions")
    return "\n".join(lines)


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generator throughput: samples/s per core, rejection rates, stage split")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (one per core; default all cores); 1 worker is measured too, for comparison")
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per worker (after a warm-up batch)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", help="write the figures as JSON here")
    add_config_arguments(p)
    p.set_defaults(func=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.holdout:
        raise ValueError("--holdout is not supported by the benchmark (it measures the shipped FastSRB index)")
    reports = [run_throughput(config, workers=n, seconds=args.seconds, seed=args.seed, batch_size=args.batch_size)
               for n in sorted({1, args.workers})]
    for report in reports:
        print(format_report(report))
    print(format_scaling(reports))
    if args.out:
        write_text(args.out, json.dumps(reports[0] if len(reports) == 1 else {"runs": reports}, indent=2))
    return 0
