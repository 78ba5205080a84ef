"""Regenerate the README's first picture and the law it quotes, from the command the README shows (`make docs-images`).

The README's picture is ``![COMMAND](docs/images/fit-incline.png)`` and the line after it quotes the law that command
finds. This script runs COMMAND (with ``--plot`` aimed at the picture) through the ``lawfinder`` entry point with
the shipped model and writes the law it found back into that line, so the README shows what a user who types the
command gets. Run it whenever the shipped model or the search changes; ``tests/test_readme_picture.py`` fails when
the quoted law and what the command finds differ.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import sys
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PICTURE = "docs/images/fit-incline.png"
LAW_LINE = re.compile(r"^It finds `(?P<law>[^`]+)` \(FVU (?P<fvu>[^)]+)\)\.$", re.M)


def documented_command(text: str) -> list[str]:
    """The arguments of the README's pictured command, less ``lawfinder`` and its ``--plot PATH``."""
    match = re.search(r"^!\[lawfinder (?P<command>[^\]]+)\]\(" + re.escape(PICTURE) + r"\)$", text, re.M)
    if match is None:
        raise ValueError(f"README.md has no picture line '![lawfinder ...]({PICTURE})'")
    args = shlex.split(match["command"])
    if "--plot" in args:
        i = args.index("--plot")
        del args[i:i + 2]
    return args


def quoted_law(text: str) -> str:
    match = LAW_LINE.search(text)
    if match is None:
        raise ValueError("README.md has no line 'It finds `TARGET = LAW` (FVU x).' under its picture")
    return match["law"]


def find(args: list[str], plot: str | None = None) -> dict:
    """Run ``lawfinder ARGS --json`` (and ``--plot``) here -> the chosen row, with the target's name."""
    from lawfinder.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        code = main([*args, "--json", "--quiet", *(["--plot", plot] if plot else [])])
    if code != 0:
        raise RuntimeError(f"lawfinder {shlex.join(args)} exited {code}")
    row = json.loads(out.getvalue())[0]
    target = args[args.index("--target") + 1]
    return {**row, "law": f"{target} = {row['expression']}"}


def main() -> int:
    text = README.read_text(encoding="utf-8")
    args = documented_command(text)
    quoted_law(text)  # the line must be there to be rewritten
    row = find(args, str(ROOT / PICTURE))
    new = LAW_LINE.sub(f"It finds `{row['law']}` (FVU {row['fvu']:.2g}).", text, count=1)
    README.write_text(new, encoding="utf-8")
    print(f"{PICTURE}: lawfinder {shlex.join(args)} finds {row['law']} (FVU {row['fvu']:.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
