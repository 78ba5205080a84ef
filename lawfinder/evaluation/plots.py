"""PNG plots of sweep results: recovery and length ratio against wall time per method with CI bands, recovery
against noise and against fit points, and recovery against ground-truth length. matplotlib is the ``plots`` extra:
imported here lazily; without it, plotting is skipped with a message.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

from .bootstrap import bootstrap_ci
from .harness import per_equation

MISSING = "matplotlib is not installed (pip install 'lawfinder[plots]'): plots skipped"


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415 - optional extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    return plt


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure (PNG, 120 dpi, tight) atomically."""
    from ..atomic import replacing

    with replacing(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    return path


# The data-blind oracles calibrate the harness; their microsecond "searches" would only stretch the time axis.
ORACLES = ("planted", "constant")


def _by_method(runs: Sequence[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        if "main" in run["summary"] and run["method"] not in ORACLES:
            groups[run["method"]].append(run)
    return groups


def _band(ax, xs, metric_runs, metric: str, label: str, scale: float = 1.0):
    y = np.array([r["summary"]["main"][metric]["value"] for r in metric_runs]) * scale
    lo = np.array([r["summary"]["main"][metric]["low"] for r in metric_runs]) * scale
    hi = np.array([r["summary"]["main"][metric]["high"] for r in metric_runs]) * scale
    order = np.argsort(xs)
    xs, y, lo, hi = np.asarray(xs)[order], y[order], lo[order], hi[order]
    (line,) = ax.plot(xs, y, marker="o", label=label)
    ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color())


def plot_budget(runs: Sequence[dict], path: Path, plt) -> Path:
    """vNRR and length ratio against mean wall time per problem (Flash-ANSR's Figure 2 layout)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for method, group in _by_method(runs).items():
        xs = [max(r["summary"]["main"]["seconds"]["value"], 1e-6) for r in group]
        _band(left, xs, group, "vNRR", method, 100.0)
        _band(right, xs, group, "length_ratio", method)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("wall time per problem [s]")
        ax.grid(alpha=0.3)
    left.set_ylabel("vNRR [%] (95% CI)")
    right.set_ylabel("length ratio (predicted / true)")
    right.axhline(1.0, color="grey", lw=0.8, ls="--")
    left.legend()
    return save_figure(fig, path)


def plot_axis(runs: Sequence[dict], path: Path, plt, axis: str) -> Path:
    """vNRR and fNRR against the noise level or the number of fit points."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for method, group in _by_method(runs).items():
        xs = [max(r[axis], 1e-4) if axis == "noise" else r[axis] for r in group]
        _band(left, xs, group, "vNRR", method, 100.0)
        _band(right, xs, group, "fNRR", method, 100.0)
    for ax, name in ((left, "vNRR"), (right, "fNRR")):
        ax.set_xscale("log", base=2 if axis == "n_fit" else 10)
        ax.set_xlabel("relative noise level (0 drawn at 1e-4)" if axis == "noise" else "fit points")
        ax.set_ylabel(f"{name} [%] (95% CI)")
        ax.grid(alpha=0.3)
    left.legend()
    return save_figure(fig, path)


def plot_length(runs: Sequence[dict], path: Path, plt) -> Path:
    """vNRR per ground-truth skeleton length bin, for each method's largest-budget run."""
    fig, ax = plt.subplots(figsize=(6, 4))
    edges = [1, 6, 10, 15, 20, 30, 200]
    for method, group in _by_method(runs).items():
        run = group[-1]
        records = [r for r in run["records"] if not r["excluded"]]
        lengths = {r["equation"]: r["truth_length"] for r in records}
        rates = per_equation(records, "recovered_val")
        xs, ys, lo, hi = [], [], [], []
        for a, b in zip(edges[:-1], edges[1:]):
            values = [rates[e] for e, n in lengths.items() if a <= n < b]
            if values:
                est = bootstrap_ci(values)
                xs.append(f"{a}-{b - 1}")
                ys.append(100 * est.value)
                lo.append(100 * (est.value - est.low))
                hi.append(100 * (est.high - est.value))
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=f"{method} ({run['budget_label']})")
    ax.set_xlabel("ground-truth skeleton length (tokens)")
    ax.set_ylabel("vNRR [%] (95% CI)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def write_plots(sweep: str, runs: Sequence[dict], out_dir: Path, prefix: str = "fastsrb") -> list[Path]:
    """All plots that fit this sweep; returns the files written (empty, with a message, without matplotlib)."""
    if not _by_method(runs):
        return []
    plt = _pyplot()
    if plt is None:
        print(MISSING)
        return []
    out_dir = Path(out_dir)
    written = []
    try:
        if sweep == "budget":
            # A time axis needs at least two budgets of one method to draw a curve.
            if max(len(group) for group in _by_method(runs).values()) > 1:
                written.append(plot_budget(runs, out_dir / f"{prefix}-budget.png", plt))
            if any(r.get("records") for r in runs):
                written.append(plot_length(runs, out_dir / f"{prefix}-length.png", plt))
        elif sweep == "noise":
            written.append(plot_axis(runs, out_dir / f"{prefix}-noise.png", plt, "noise"))
        elif sweep == "sparsity":
            written.append(plot_axis(runs, out_dir / f"{prefix}-sparsity.png", plt, "n_fit"))
    finally:
        plt.close("all")
    return written
