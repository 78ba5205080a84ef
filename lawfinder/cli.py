"""The ``lawfinder`` command: one argparse tree whose subcommands are contributed by the subsystems.

Each module in ``COMMAND_MODULES`` has ``register(subparsers)`` adding its commands; each in ``BENCH_MODULES`` has
``register_bench(subparsers)`` adding a ``lawfinder bench NAME`` command. Handlers import heavy libraries (torch, ray)
inside themselves so that ``lawfinder --help`` stays fast. Whatever a handler raises reaches the user as one line on
stderr, never a traceback (``LAWFINDER_TRACEBACK=1`` shows it): bad input or set-up (``ValueError``, a missing or
unwritable file, a missing optional package) with exit status 2, anything else with its class named and status 1;
Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = (
    "lawfinder.simplipy.cli",
    "lawfinder.simplipy.discover_cli",
    "lawfinder.generate.cli",
    "lawfinder.inference.cli",
    "lawfinder.actors.cli",
    "lawfinder.scaling.cli",
    "lawfinder.grow.cli",
)
BENCH_MODULES: tuple[str, ...] = (
    "lawfinder.perf.simplify",
    "lawfinder.perf.train_step",
    "lawfinder.perf.generate",
    "lawfinder.perf.batch_eval",
    "lawfinder.perf.draw_rules",
    "lawfinder.perf.fit",
    "lawfinder.evaluation.cli",
    "lawfinder.perf.pipeline",
    "lawfinder.evaluation.promote",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lawfinder", description="Neural symbolic regression that scales.")
    parser.add_argument("--version", action="version", version=f"lawfinder {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    if BENCH_MODULES:
        bench = sub.add_parser("bench", help="benchmarks that reproduce the papers' tables (each writes JSON)")
        bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
        for name in BENCH_MODULES:
            importlib.import_module(name).register_bench(bench_sub)
    return parser


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), as pip reports it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lawfinder")
    except PackageNotFoundError:
        return "(not installed: run from a source folder)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lawfinder: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the one place every error becomes one line
        if os.environ.get("LAWFINDER_TRACEBACK"):
            raise
        print(f"lawfinder: error: {one_line(error)}", file=sys.stderr)
        return 2 if isinstance(error, (ValueError, OSError, LookupError, ImportError)) else 1


def one_line(error: BaseException) -> str:
    """The error as one line: its message (lines joined), prefixed by its class unless it is plain bad input."""
    message = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    if isinstance(error, OSError) and error.filename is not None and str(error.filename) not in message:
        message = f"{message}: {error.filename}"
    if isinstance(error, ValueError) and message:
        return message
    kind = type(error).__name__
    return f"{kind}: {message}" if message else kind


if __name__ == "__main__":
    sys.exit(main())
