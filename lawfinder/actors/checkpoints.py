"""The run directory: checkpoint naming and policy (every N steps, keep the newest few, resume from the newest),
the metrics JSON-lines file beside the checkpoints, the launch counter that keeps relaunched producers on new
random streams, the check that the folder is writable before any actor starts, and the resume that falls back past
damaged checkpoints (renamed ``*.damaged``, kept for a look, and named in a warning).

Layout of ``--out DIR``::

    DIR/ckpt-00000200.pt    checkpoints, written atomically by the learner (temp file + os.replace)
    DIR/metrics.jsonl       one JSON object per progress report
    DIR/run.msgpack         {"launches": n}: how many times a training job has started on this directory
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable

import msgpack

from ..atomic import DamagedFile, write_bytes

CHECKPOINT_PATTERN = re.compile(r"ckpt-(\d{8})\.pt\Z")
METRICS_FILE = "metrics.jsonl"
RUN_FILE = "run.msgpack"


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return Path(directory) / f"ckpt-{step:08d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of every finished checkpoint, oldest first. Temp files of an interrupted save do not match."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def newest_checkpoint(directory: str | os.PathLike) -> Path | None:
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


def warn(message: str) -> None:
    print(f"lawfinder: warning: {message}", file=sys.stderr, flush=True)


INTERRUPTED_SAVE = re.compile(r"\.ckpt-\d{8}\.pt\..+\.tmp\Z")


def remove_interrupted_saves(directory: str | os.PathLike) -> list[Path]:
    """Delete the temp files of checkpoint saves cut off by a killed learner (``.ckpt-00000016.pt.XXXX.tmp``); the
    run directory has one run at a time (its lock), so no save is in flight when a run starts or resumes."""
    directory = Path(directory)
    removed = [p for p in directory.iterdir() if INTERRUPTED_SAVE.match(p.name)] if directory.is_dir() else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def load_newest_valid(directory: str | os.PathLike, load: Callable[[Path], dict],
                      report: Callable[[str], None] = warn) -> tuple[Path | None, dict | None]:
    """Load the newest checkpoint that is intact: -> (its path, what ``load`` returned), or (None, None).

    A damaged one (``load`` raised ``DamagedFile``: truncated, altered) is renamed ``NAME.damaged`` so that it is
    neither resumed from nor pruned as a good one, and ``report`` says which was skipped and why. Any other error
    (a foreign file, a newer format) is not damage and stops the resume rather than throwing the run away."""
    for step, path in reversed(list_checkpoints(directory)):
        try:
            return path, load(path)
        except DamagedFile as error:
            kept = path.with_name(path.name + ".damaged")
            os.replace(path, kept)
            report(f"skipped damaged checkpoint {path.name} (step {step}): {error}; kept it as {kept.name}")
    return None, None


def check_writable(directory: str | os.PathLike, flag: str = "--out") -> Path:
    """Create ``directory`` if needed and prove a file can be written there; ValueError in one line otherwise."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as error:
        raise ValueError(f"{flag} {str(directory)!r} is not a writable folder ({error.strerror or error})") \
            from None
    return directory


def checkpoint_due(step: int, every: int, max_steps: int) -> bool:
    """Save after every ``every``-th step and after the last one."""
    if every < 1:
        raise ValueError(f"checkpoint interval must be >= 1 step, got {every}")
    return step > 0 and (step % every == 0 or step == max_steps)


def prune_checkpoints(directory: str | os.PathLike, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints; returns what was deleted."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    old = [path for _, path in list_checkpoints(directory)[:-keep]]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def append_metrics(directory: str | os.PathLike, record: dict) -> None:
    """Append one JSON line; a crash can at worst leave a partial last line, which ``read_metrics`` skips."""
    with open(Path(directory) / METRICS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def read_metrics(directory: str | os.PathLike) -> list[dict]:
    path = Path(directory) / METRICS_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the partial line of a write cut short by a crash
    return records


def trim_metrics(directory: str | os.PathLike, step: int) -> int:
    """On resume from the checkpoint at ``step``: drop the lines of steps after it (they were trained again), so the
    file reads as one run. Returns how many lines were dropped."""
    path = Path(directory) / METRICS_FILE
    if not path.exists():
        return 0
    records = read_metrics(directory)
    kept = [r for r in records if r.get("step", 0) <= step]
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept)
    write_bytes(path, text.encode("utf-8"), fsync=True)
    return len(records) - len(kept)


def next_launch(directory: str | os.PathLike) -> int:
    """Count one more launch of a training job on ``directory`` and return its index (0 for the first)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RUN_FILE
    state = msgpack.unpackb(path.read_bytes()) if path.exists() else {"launches": 0}
    launch = int(state["launches"])
    state["launches"] = launch + 1
    write_bytes(path, msgpack.packb(state), fsync=True)
    return launch
