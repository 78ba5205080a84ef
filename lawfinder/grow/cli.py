"""``lawfinder grow``: one growing run of the shipped model's lineage (``deploy/grow.sh`` wraps it with ``nice``
and the gate).

Continues the trunk in ``--state`` (default ``growing/``; a new lineage starts there when it holds none, from
``--init-from`` or fresh), trains for ``--minutes`` of wall clock (trunk at the constant peak LR, then a cool-down
branch), and writes the candidate to ``--run-dir``/candidate.pt for ``lawfinder bench promote``. Ctrl-C or SIGTERM
saves the trunk and stops (a second one aborts); a killed run loses at most ``--save-every`` minutes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grow", help="continue training the growing model for a wall-clock budget, export a candidate",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state", default="growing", help="folder of the committed trunk (default: growing)")
    p.add_argument("--run-dir", default="runs/grow", help="where the candidate is written (default: runs/grow)")
    p.add_argument("--minutes", type=float, default=150.0, help="wall-clock budget of the run (default 150)")
    p.add_argument("--init-from", default=None, metavar="PATH|default",
                   help="weights a new lineage starts from (a narrower model is widened); ignored when --state "
                        "already holds a trunk")
    p.add_argument("--recipe", default=None, metavar="JSON",
                   help="a recipe file for a new lineage (fields of lawfinder.grow.recipe.Recipe; default: the "
                        "shipped recipe); ignored when --state already holds a trunk")
    p.add_argument("--producers", type=int, default=0,
                   help="generator processes (default 0: generate in the training process, best on a CPU)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the other core stays free)")
    p.add_argument("--device", default=None, help="cpu, cuda (default: cuda when available)")
    p.add_argument("--save-every", type=float, default=10.0, help="minutes between trunk saves (default 10)")
    p.add_argument("--seed", type=int, default=0, help="added to the run number to seed the run's data")
    p.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    p.set_defaults(func=run_grow)


def _stop_on_signals(stop: threading.Event) -> dict:
    """Route SIGINT and SIGTERM to ``stop`` (a second one aborts); returns the handlers they had."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        print(f"grow: {signal.Signals(signum).name}: saving the trunk and stopping (again to abort)", file=sys.stderr,
              flush=True)
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def run_grow(args: argparse.Namespace) -> int:
    import torch

    from .run import grow_run

    if args.minutes <= 0:
        raise ValueError(f"--minutes must be positive, got {args.minutes:g}")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    init_from = args.init_from
    if init_from is not None:
        from ..evaluation.promote import resolve

        init_from = str(resolve(init_from))
    recipe = None
    if args.recipe is not None:
        from pathlib import Path

        from .recipe import Recipe

        try:
            recipe = Recipe.from_dict(json.loads(Path(args.recipe).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"--recipe {args.recipe!r}: {error}") from None
    torch.set_num_threads(args.threads)
    stop = threading.Event()
    from ..run_lock import hold

    previous = _stop_on_signals(stop)
    try:
        with hold(args.state, "--state"):
                result = grow_run(args.state, args.run_dir, args.minutes * 60.0, init_from=init_from, recipe=recipe,
                              producers=args.producers, device=args.device, seed=args.seed,
                              save_every_s=args.save_every * 60.0, stop=stop,
                              report=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    lineage, record = result["lineage"], result["record"]
    if args.json:
        print(json.dumps({"candidate": result["candidate"], "run": record, "trunk_steps": lineage.trunk_steps,
                          "samples": lineage.samples}, default=float))
    else:
        print(f"run {record['run']}: {record['status']}; {record['trunk_steps']:,} trunk + "
              f"{record['cooldown_steps']:,} "
              f"cool-down steps, {record['samples']:,} samples in {record['seconds'] / 60:.1f} min; lineage "
              f"{lineage.trunk_steps:,} steps, {lineage.samples:,} samples")
        if result["candidate"]:
            print(f"candidate: {result['candidate']} (next: lawfinder bench promote {result['candidate']})")
    return 0
