"""``lawfinder generate``: write training samples from a generator preset to an Arrow IPC file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="flash-ansr", help="generator preset: flash-ansr (default) or scaling-laws")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                   help="override a GeneratorConfig field, e.g. --set max_points=256 (repeatable)")
    p.add_argument("--no-decontaminate", action="store_true", help="do not hold out FastSRB (and --holdout) formulas")
    p.add_argument("--holdout", action="append", default=[], metavar="FILE",
                   help="extra test formulas to hold out: one infix formula per line, or a JSON list (repeatable)")
    p.add_argument("--seed", type=int, default=0)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write training samples (Arrow IPC file) from a generator preset")
    p.add_argument("--n", type=int, required=True, help="number of samples")
    p.add_argument("--out", required=True, help="output .arrow file (Arrow IPC file format)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per record batch (default: the config's)")
    p.add_argument("--worker-index", type=int, default=0, help="random stream index (disjoint per index)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(p)
    p.set_defaults(func=run_generate)


def config_from_args(args: argparse.Namespace):
    from .config import parse_override, preset

    overrides = dict(parse_override(text) for text in args.overrides)
    if args.no_decontaminate:
        overrides["decontaminate"] = False
    return preset(args.preset, **overrides)


def _read_holdout(path: str) -> list[str]:
    text = Path(path).read_text()
    if text.lstrip().startswith("["):
        formulas = json.loads(text)
        if not all(isinstance(f, str) for f in formulas):
            raise ValueError(f"{path}: a JSON holdout file must be a list of formula strings")
        return formulas
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _decontaminator(args: argparse.Namespace, config):
    if not config.decontaminate:
        return None
    from .decontaminate import Decontaminator

    decontaminator = Decontaminator.fastsrb()
    for path in args.holdout:
        formulas = _read_holdout(path)
        decontaminator.add(formulas, ids=[f"{Path(path).name}:{i + 1}" for i in range(len(formulas))])
    return decontaminator


def run_generate(args: argparse.Namespace) -> int:
    from ..progress import bar, wanted
    from .generator import Generator, producer_process
    from .schema import write_ipc

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    config = config_from_args(args)
    batch_size = args.batch_size or config.batch_size
    if config.kind == "exhaustive":
        from .decontaminate import default_simplify
        from .exhaustive import load_or_build_base_set

        # Built once per machine and cached; show its progress (minutes at depth 3) before sampling starts.
        simplify = default_simplify() if config.simplify else None
        base = load_or_build_base_set(config, simplify, verbose=not args.quiet)
        counts = base.counts
        print(f"base set: {counts['base_expressions']} distinct base expressions ({counts['numerically_distinct']} "
              f"numerically distinct) from {counts['raw_trees'][str(config.max_depth)]} trees; "
              f"one epoch = {len(base)} samples, k = {config.pairs_per_expression} epochs", file=sys.stderr)
    generator = Generator(config, seed=args.seed, worker_index=args.worker_index,
                          decontaminator=_decontaminator(args, config))
    progress = bar(total=args.n, desc="generating", unit="sample", show=wanted(args.quiet))

    def batches():
        done = 0
        while done < args.n:
            batch = generator.sample_batch(min(batch_size, args.n - done))
            done += batch.num_rows
            progress.update(batch.num_rows)
            yield batch

    with producer_process():  # this command is a producer for its duration
        rows = write_ipc(args.out, batches())
    progress.close()
    stats = generator.stats.as_dict()
    rejected = ", ".join(f"{k} {v}" for k, v in stats["rejected"].items() if v)
    print(f"wrote {rows} samples to {args.out} ({stats['attempts']} skeletons drawn; rejected: {rejected or 'none'})")
    return 0
