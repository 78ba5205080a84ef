"""Atomic file writes: every output lawfinder leaves (checkpoints, metrics, results, saved fits, caches) is written to a
temporary file beside its target and renamed over it, so a crash leaves the old file or the new one, never half.
``DamagedFile`` is the error for a file that was damaged after that (a disk, a copy or a user cut it short)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = ".tmp"):
    """For writers that need a file name of their own (matplotlib's ``savefig``, Arrow's file writer): yields a
    temporary path beside ``path`` (parents created); when the block ends normally it becomes ``path`` (mode 0644)
    by one rename, and when it raises the temporary file is removed and ``path`` is left as it was. ``suffix`` is the
    temporary file's ending (``.png`` lets savefig infer the format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (parents created; mode 0644); ``fsync`` also flushes it to disk first."""
    with replacing(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
    return Path(path)


def write_text(path: str | os.PathLike, text: str, fsync: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"), fsync)


def check_distinct(inputs: dict[str, str | os.PathLike | None], outputs: dict[str, str | os.PathLike | None]) -> None:
    """ValueError, before any work, when an output path is one of the inputs or another output of the same command
    (the same file however it is spelled: relative, absolute, through a link). Keys name the option that gave each
    path (``{"DATA": ..., "--save": ...}``); None entries are ignored."""
    seen: dict[str, str] = {}
    for role, path in [*inputs.items(), *outputs.items()]:
        if path is None:
            continue
        key = os.path.realpath(os.fspath(path))
        if key in seen:
            kind = "input" if seen[key] in inputs else "output"
            raise ValueError(f"{role} {os.fspath(path)!r} is the same file as the {kind} {seen[key]}: "
                             f"{'it would be overwritten' if kind == 'input' else 'one would overwrite the other'}")
        seen[key] = role


def plain_json(value):
    """``value`` with every non-finite float (inf, nan: JSON has none) written as None, in dicts, lists and tuples
    at any depth, so any JSON reader loads the file; NaN means "undefined" there."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value


class DamagedFile(ValueError):
    """A file lawfinder wrote whose bytes no longer match what was written (truncated, altered): callers that can
    fall back to an older copy (resuming training) catch this one and nothing broader."""
