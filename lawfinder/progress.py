"""Progress bars for the long commands (``fit``, ``generate``, ``train``, ``bench``): tqdm on stderr, so stdout
stays clean for tables and JSON, and silent when stderr is not a terminal or the user asked for quiet."""

from __future__ import annotations

import json
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def wanted(quiet: bool = False) -> bool:
    """Whether a command should draw bars: not ``--quiet`` and stderr is a terminal (not a log file or a pipe)."""
    return not quiet and sys.stderr.isatty()


def bar(total: int | None = None, desc: str = "", unit: str = "it", show: bool = True, **kwargs: Any):
    """A tqdm bar on stderr (a no-op bar when ``show`` is false); use as a context manager or call ``close``."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not show, leave=False,
                dynamic_ncols=True, **kwargs)


def last_step(path: str | Path) -> int | None:
    """The ``step`` of the last complete record of a JSON-lines metrics file, or None while there is none."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue  # a line still being written, or not a step record
    return None


@contextmanager
def following_steps(metrics: str | Path, total: int | None, show: bool, desc: str = "training"):
    """A bar that follows the ``step`` of a metrics file another process appends to (the Ray trainer's), polled once
    a second while the ``with`` body runs, and read once more at its end so the bar closes on the last step."""
    if not show:
        yield
        return
    stop = threading.Event()
    progress = bar(total=total, desc=desc, unit="step")

    def refresh() -> None:
        step = last_step(metrics)
        if step is not None and step > progress.n:
            progress.update(step - progress.n)

    def poll() -> None:
        while not stop.wait(1.0):
            refresh()

    thread = threading.Thread(target=poll, name="lawfinder-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        refresh()
        progress.refresh()  # drawn now: tqdm skips redraws within its minimum interval
        progress.close()
