"""``lawfinder scaling sweep|fit``: run a grid of model sizes × compute budgets through the distributed trainer and
score it, then fit the scaling laws (error and loss against compute, IsoFLOP curves, compute-optimal N and D) with
confidence intervals, JSON and plots.

    lawfinder scaling sweep --config lawfinder/scaling/studies/cpu-micro.toml
    lawfinder scaling fit --runs runs/scaling/cpu-micro/runs.jsonl --out runs/scaling/cpu-micro/fit

A sweep is resumable: run the same command again and finished runs are skipped, interrupted ones resume from their
newest checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scaling", help="scaling-law sweeps and fits (model size x compute)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    scaling = p.add_subparsers(dest="scaling_command", required=True, metavar="SUBCOMMAND")

    s = scaling.add_parser("sweep", help="train and score every (size, budget) run of a config (resumable)")
    s.add_argument("--config", required=True, help="sweep config, TOML or JSON (see docs/scaling.md)")
    s.add_argument("--out", default=None, help="sweep directory (overrides the config's 'out')")
    s.add_argument("--only", nargs="+", default=None, metavar="RUN", help="run only these runs of the plan")
    s.add_argument("--dry-run", action="store_true",
                   help="draw the held-out set, print the plan (sizes, FLOPs per sample, steps) and stop")
    s.add_argument("--max-time", type=float, default=None,
                   help="per-launch time limit in seconds (overrides max_seconds); run again to continue")
    s.set_defaults(func=run_sweep_command)

    f = scaling.add_parser("fit", help="fit power laws, IsoFLOP curves and compute-optimal allocation to a runs file")
    f.add_argument("--runs", required=True, help="runs.jsonl written by `lawfinder scaling sweep`")
    f.add_argument("--out", required=True, help="directory for fit.json and the plots")
    f.add_argument("--no-plots", action="store_true", help="write fit.json only")
    f.set_defaults(func=run_fit_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .config import load_config
    from .plan import format_plan
    from .grid_runner import prepare, run_sweep

    config = load_config(args.config)
    if args.out:
        config = replace(config, out=args.out)
    if args.max_time is not None:
        config = replace(config, max_seconds=args.max_time)
    if args.dry_run:
        prepared = prepare(config)
        print(format_plan(prepared.runs, prepared.profiles, prepared.skipped))
        total = sum(r.flops for r in prepared.runs)
        print(f"\n{len(prepared.runs)} runs, {total:.3g} training FLOPs in all; held-out set in {config.out}")
        return 0
    states = run_sweep(config, only=args.only, log=lambda line: print(line, flush=True))
    print(json.dumps(states, indent=1))
    if states["failed"]:
        print(f"lawfinder: {len(states['failed'])} run(s) failed; run the same command again to retry them",
              file=sys.stderr)
        return 1
    if states["pending"]:
        print(f"{len(states['pending'])} run(s) stopped at the time limit; run the same command again to continue")
    return 0


def run_fit_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .analysis import analyse, format_analysis
    from .records import read_runs, write_atomic

    runs = read_runs(args.runs)
    result = analyse(runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "fit.json", json.dumps(result, indent=1, default=float))
    print(format_analysis(result))
    print(f"\nwrote {out / 'fit.json'}")
    if args.no_plots:
        return 0
    from .plots import plot_all

    try:
        written = plot_all(runs, result, out)
    except ImportError:
        print("lawfinder: matplotlib is not installed, so no plots were drawn (pip install matplotlib); "
              "fit.json has every number", file=sys.stderr)
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0
