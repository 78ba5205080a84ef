"""The sweep's files: a run's ``result.json`` (written atomically, its presence means "finished") and the sweep's
``runs.jsonl`` (one record per finished run, appended; what ``lawfinder scaling fit`` reads).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import plain_json, write_text

RESULT_FILE = "result.json"
RUNS_FILE = "runs.jsonl"


def write_atomic(path: str | Path, text: str) -> None:
    """Results are flushed to disk before they replace the old file: a run's record must survive a crash."""
    write_text(path, text, fsync=True)


def write_result(run_dir: str | Path, record: dict) -> None:
    write_atomic(Path(run_dir) / RESULT_FILE, json.dumps(plain_json(record), indent=1, sort_keys=True))


def read_result(run_dir: str | Path) -> dict | None:
    path = Path(run_dir) / RESULT_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def read_runs(path: str | Path) -> list[dict]:
    """Records of a runs file, the last one per run name (a run appended twice counts once); partial lines skipped."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"runs file {str(path)!r} does not exist")
    by_name: dict[str, dict] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the partial last line of an append cut short
        if not isinstance(record, dict) or "name" not in record:
            raise ValueError(f"{path}:{number}: a run record must be a JSON object with a 'name'")
        by_name[record["name"]] = record
    return list(by_name.values())


def append_run(path: str | Path, record: dict) -> None:
    """Append one record unless the file already has one for this run name."""
    path = Path(path)
    if path.exists() and any(r.get("name") == record["name"] for r in read_runs(path)):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(plain_json(record), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
