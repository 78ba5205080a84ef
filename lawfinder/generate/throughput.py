"""Generator throughput: W worker processes each run a ``Generator`` for S seconds; the figures for
``lawfinder bench generate`` (samples/s per core, skeletons/s, rejection rates, time split by stage)."""

from __future__ import annotations

import multiprocessing
import os
import time

from .config import GeneratorConfig
from .generator import REASONS, STAGES, Generator, GeneratorStats


def _worker(args: tuple) -> dict:
    config_dict, seed, worker_index, seconds, batch_size = args
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


def run_throughput(config: GeneratorConfig, workers: int = 1, seconds: float = 10.0, seed: int = 0,
                   batch_size: int = 64) -> dict:
    """Measure; returns the JSON-ready report."""
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
        "rejection_rates": {k: total.rejected.get(k, 0) / max(1, total.attempts) for k in REASONS},
        "accepted_rate": total.samples / max(1, total.attempts),
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


def format_report(report: dict) -> str:
    lines = [
        f"generator throughput: preset {report['preset']}, decontamination "
        f"{'on' if report['decontaminate'] else 'off'}, {report['workers']} worker(s) on {report['cpu_count']} "
        f"core(s), {report['seconds']:.1f} s",
        f"  samples/s per worker     {report['samples_per_s_per_worker']:10.1f}   "
        f"(total {report['samples_per_s']:.1f}; wall clock, shared with whatever else runs)",
        f"  samples per CPU second   {report['samples_per_cpu_second']:10.1f}   (per core; less sensitive to a shared box)",
        f"  skeletons/s per worker   {report['skeletons_per_s_per_worker']:10.1f}",
        f"  accepted / skeletons     {report['accepted_rate']:10.3f}",
        f"  data draws per sample    {report['data_draws_per_sample']:10.2f}",
        "  rejected (per skeleton):",
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
