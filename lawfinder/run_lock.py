"""One run per run directory: ``hold(folder)`` takes an exclusive lock on ``folder/.lock`` for as long as the run
lasts, so a second ``lawfinder train --out`` (or ``lawfinder grow --state``) on a folder in use stops at once with a
one-line error naming the run that holds it.

The lock is the kernel's (``fcntl.flock`` on an open file), not the file's existence: it goes with the process, so a
run that is killed (SIGKILL, a machine taken away) leaves nothing stuck, and the next run on that folder resumes as
usual. The file keeps the holder's pid, host, start time and command line, for the message. (On a network file
system that does not pass flock between hosts, two hosts are not kept apart.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


class FolderInUse(ValueError):
    """Another live run holds the folder (a ValueError: the CLI prints one line)."""


def _holder_text(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another run"
    return (f"run pid {info.get('pid')} on {info.get('host')} (started {info.get('started')}: "
            f"{info.get('command', '?')})")


@contextmanager
def hold(folder: str | os.PathLike, option: str = "--out"):
    """Hold ``folder`` for this run (created if missing); FolderInUse naming the holder when a live run has it."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUse(f"{option} {str(folder)!r} is in use by {_holder_text(path)}; wait for it to end, "
                              f"stop it, or choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
                                 "command": " ".join(["lawfinder", *sys.argv[1:]])[:300]}))
        handle.flush()
        yield path
    finally:
        handle.close()  # closing the file releases the lock
