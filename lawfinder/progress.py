"""Progress bars for the long commands (``fit``, ``generate``, ``train``, ``bench``): tqdm on stderr, so stdout
stays clean for tables and JSON, and silent when stderr is not a terminal or the user asked for quiet."""

from __future__ import annotations

import sys
from typing import Any


def wanted(quiet: bool = False) -> bool:
    """Whether a command should draw bars: not ``--quiet`` and stderr is a terminal (not a log file or a pipe)."""
    return not quiet and sys.stderr.isatty()


def bar(total: int | None = None, desc: str = "", unit: str = "it", show: bool = True, **kwargs: Any):
    """A tqdm bar on stderr (a no-op bar when ``show`` is false); use as a context manager or call ``close``."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not show, leave=False,
                dynamic_ncols=True, **kwargs)
