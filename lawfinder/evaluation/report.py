"""Results as files: the JSON of a sweep (protocol, environment, runs with summaries and per-dataset records), the
human/Markdown table, and quoted published figures (kept apart from anything measured here)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import plain_json, write_text as write_atomic
from .datasets import DATA_FILE
from .axis_sweeps import SweepResult

QUOTED_FILE = Path(__file__).with_name("data") / "quoted.json"
COLUMNS = ("fNRR", "vNRR", "SRR", "accuracy_r2", "length_ratio")
HEADERS = {"fNRR": "fNRR %", "vNRR": "vNRR %", "SRR": "SRR %", "accuracy_r2": "R²>0.99 %",
           "length_ratio": "length ratio"}


def environment() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpus": os.cpu_count(), "date": _dt.date.today().isoformat(),
            "note": "timings from a shared 2-core box unless stated; compare methods within one run"}


def data_sha256() -> str:
    return hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()


def result_document(result: SweepResult, canonicalizer: str, keep_records: bool = True) -> dict:
    runs = result.runs if keep_records else [{k: v for k, v in r.items() if k != "records"} for r in result.runs]
    return {"benchmark": "FastSRB", "sweep": result.sweep, "protocol": asdict(result.config),
            "data_sha256": data_sha256(), "symbolic_canonicalizer": canonicalizer,
            "noise_free_equations": result.noise_free, "environment": environment(), "runs": runs}


def write_json(document: dict, path: Path) -> Path:
    # Non-finite floats become null so the file is plain JSON; NaN means "undefined for this run".
    return write_atomic(path, json.dumps(plain_json(document), indent=1) + "\n")


def _cell(estimate: dict | None, percent: bool) -> str:
    if not estimate or estimate.get("value") is None or not np.isfinite(estimate["value"]):
        return "–"
    scale = 100.0 if percent else 1.0
    value, low, high = (estimate[k] * scale if estimate.get(k) is not None else float("nan")
                        for k in ("value", "low", "high"))
    digits = 1 if percent else 2
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def markdown_table(runs: Sequence[dict], group: str = "main") -> str:
    """One row per run: what varied, mean wall time per problem, and every metric with its 95% CI."""
    head = ["method", "budget", "precision", "noise", "fit pts", "equations", "datasets", "s/problem",
            *(HEADERS[c] for c in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        summary = run["summary"].get(group)
        if not summary:
            continue
        seconds = summary["seconds"]["value"]
        cells = [run["method"], run["budget_label"], run["precision"], f"{run['noise']:g}", str(run["n_fit"]),
                 str(summary["n_equations"]), str(summary["n_datasets"]),
                 "–" if seconds is None else f"{seconds:.3g}",
                 *(_cell(summary.get(c), c != "length_ratio") for c in COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_markdown(document: dict, title: str = "") -> str:
    """The Markdown for one sweep file: main table, the excluded equations apart, and what the numbers mean."""
    runs = document["runs"]
    parts = [f"## {title or 'FastSRB ' + document['sweep'] + ' sweep'}", "",
             f"Measured here ({document['environment']['date']}, {document['environment']['cpus']} CPUs, "
             f"{document['environment']['note']}). Protocol: {document['protocol']['precision']}, "
             f"{document['protocol']['datasets_per_equation']} datasets/equation drawn, seed "
             f"{document['protocol']['seed']}; symbolic recovery via {document['symbolic_canonicalizer']}. "
             "Rates are per-equation means over datasets, then means over equations with 95% bootstrap CIs "
             "(1,000+ resamples over equations).", "", markdown_table(runs, "main")]
    if any("excluded" in r["summary"] for r in runs):
        parts += ["", "The equations Flash-ANSR excludes (B4, B7, B17, II.24.17; III.14.14 never yields data), "
                  "reported apart:", "", markdown_table(runs, "excluded")]
    if document.get("noise_free_equations") and document["sweep"] == "noise":
        parts += ["", "Noise-free under Flash-ANSR's noise rule (float32 std of the targets under- or overflows, so "
                  "no noise is drawn): " + ", ".join(document["noise_free_equations"]) + "."]
    return "\n".join(parts) + "\n"


def load_quoted() -> dict:
    with open(QUOTED_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def quoted_markdown(quoted: dict) -> str:
    lines = ["## Published figures (quoted, not measured here)", "", quoted.get("note", ""), "",
             "| what | value | source |", "|---|---|---|"]
    for entry in quoted["entries"]:
        value = entry["value"] if entry.get("value") is not None else "not recoverable from the shared text"
        lines.append(f"| {entry['what']} | {value} | {entry['source']} |")
    return "\n".join(lines) + "\n"
