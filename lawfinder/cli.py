"""The ``lawfinder`` command: one argparse tree whose subcommands are contributed by the subsystems.

Each module in ``COMMAND_MODULES`` has ``register(subparsers)`` adding its commands; each in ``BENCH_MODULES`` has
``register_bench(subparsers)`` adding a ``lawfinder bench NAME`` command. Handlers import heavy libraries (torch, ray)
inside themselves so that ``lawfinder --help`` stays fast. A handler's ``ValueError`` (bad input, named by the code
that found it) is printed as a one-line error with exit status 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "lawfinder.simplipy.cli",
    "lawfinder.simplipy.discover_cli",
    "lawfinder.generate.cli",
    "lawfinder.inference.cli",
    "lawfinder.actors.cli",
    "lawfinder.scaling.cli",
)
BENCH_MODULES: tuple[str, ...] = (
    "lawfinder.perf.simplify",
    "lawfinder.perf.train_step",
    "lawfinder.perf.generate",
    "lawfinder.perf.fit",
    "lawfinder.evaluation.cli",
    "lawfinder.perf.pipeline",
    "lawfinder.evaluation.promote",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lawfinder", description="Neural symbolic regression that scales.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    if BENCH_MODULES:
        bench = sub.add_parser("bench", help="benchmarks that reproduce the papers' tables (each writes JSON)")
        bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
        for name in BENCH_MODULES:
            importlib.import_module(name).register_bench(bench_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as error:
        print(f"lawfinder: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
