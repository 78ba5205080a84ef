"""PNG plots of a scaling study: IsoFLOP curves, loss and error rate against compute with the fitted power laws, and
compute-optimal N and D against compute. matplotlib is optional and imported here only: ``plot_all`` raises
ImportError without it and the CLI says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..evaluation.plots import save_figure

PAPER_TOKENS_PER_PARAM = 15


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt




def _log_axes(ax, y: bool = True) -> None:
    """Log axes: x labelled on the decades only (minor labels at 3e10, 4e10 ... overprint each other); y, whose
    range is often inside one decade, in plain numbers."""
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    if y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
        low, high = ax.get_ylim()
        within_a_decade = low > 0 and high / low < 10
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g") if within_a_decade else NullFormatter())


def _law_line(ax, law: dict | None, xs: np.ndarray, label: str, **style) -> None:
    if law is None:
        return
    grid = np.logspace(np.log10(xs.min()), np.log10(xs.max()), 50)
    lo, hi = law["exponent_ci"]
    ax.plot(grid, law["coefficient"] * grid ** law["exponent"],
            label=f"{label}: exponent {law['exponent']:+.3f} [{lo:+.3f}, {hi:+.3f}]", **style)


def plot_isoflop(plt, result: dict, path: Path) -> Path:
    iso = result["isoflop"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = plt.cm.viridis(np.linspace(0.1, 0.9, max(len(iso["curves"]), 1)))
    for color, curve, minimum in zip(colors, iso["curves"], iso["minima"]):
        n = np.asarray(curve["params"], dtype=float)
        ax.plot(n, curve["loss"], "o", color=color, label=f"C = {curve['flops_budget']:.2g} FLOPs")
        if curve["parabola"] is not None:
            a, b, c = curve["parabola"]
            fitted = np.asarray(curve.get("fitted_params") or curve["params"], dtype=float)
            grid = np.linspace(np.log10(fitted.min()) - 0.1, np.log10(fitted.max()) + 0.1, 100)
            ax.plot(10 ** grid, a * grid ** 2 + b * grid + c, "-", color=color, alpha=0.7)
        ax.plot([minimum["params"]], [minimum["loss"]], "*" if minimum["interior"] else "x", color=color,
                markersize=12)
    _log_axes(ax, y=False)
    ax.set_xlabel("parameters N (linear layers)")
    ax.set_ylabel("validation loss")
    ax.set_title("IsoFLOP curves: parabola around the best run (star: its minimum; x: minimum at an edge)",
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def plot_vs_compute(plt, runs: Sequence[dict], result: dict, path: Path) -> Path:
    """Loss and the two error rates against FLOPs: every run (by size), the best run per budget, the fitted laws."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    sizes = sorted({(r.get("size", r["name"]), r["params"]) for r in runs}, key=lambda s: s[1])
    colors = dict(zip([s for s, _ in sizes], plt.cm.plasma(np.linspace(0.05, 0.85, len(sizes)))))
    panels = [("loss", "validation loss", result["loss_vs_compute"], lambda v: v)]
    panels += [(key, f"error rate 1 - {label}", result["error_vs_compute"][key], lambda v: 1.0 - v)
               for key, label in (("acc_solved", "Acc_solved"), ("acc_r2", "Acc_R2>0.99"))]
    for ax, (key, label, fit, transform) in zip(axes, panels):
        for size, _ in sizes:
            rs = sorted([r for r in runs if r.get("size", r["name"]) == size and r.get(key) is not None],
                        key=lambda r: r["flops"])
            ax.plot([r["flops"] for r in rs], [transform(r[key]) for r in rs], "o-", color=colors[size],
                    alpha=0.6, label=size)
        points = fit["points"]
        if points:
            xs = np.asarray([p["flops"] for p in points], dtype=float)
            ax.plot(xs, [transform(p[key]) for p in points], "ks", fillstyle="none", markersize=9,
                    label="best per budget")
            _law_line(ax, fit.get("law"), xs, "fit", color="k", linestyle="--")
        if fit.get("skipped"):
            ax.set_title(f"not fitted: {fit['skipped']}", fontsize=7, wrap=True)
        _log_axes(ax)
        ax.set_xlabel("training FLOPs")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_optimal(plt, result: dict, path: Path) -> Path:
    """N_opt and D_opt against compute (D in target tokens when the runs record them), hollow where the minimum lies
    at an edge of the sizes tried, with the fitted laws and the allocation the paper's D/N = 15 would choose."""
    iso = result["isoflop"]
    minima = iso["minima"]
    target = bool(minima) and all(m.get("target_tokens") is not None for m in minima)
    d_key, d_label = ("target_tokens", "D_opt (target tokens)") if target else ("tokens", "D_opt (C/6N tokens)")
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if minima:
        flops = np.asarray([m["flops"] for m in minima], dtype=float)
        for key, label, marker, color in (("params", "N_opt", "o", "C0"), (d_key, d_label, "s", "C1")):
            for x, m in zip(flops, minima):
                ax.plot([x], [m[key]], marker, color=color, fillstyle="full" if m["interior"] else "none")
            ax.plot([], [], marker, color=color, label=label)
        _law_line(ax, iso["params_law"], flops, "N_opt fit", color="C0", linestyle="--")
        if not target:
            _law_line(ax, iso["tokens_law"], flops, "D_opt fit", color="C1", linestyle="--")
        if iso.get("paper_rule"):
            rule = iso["paper_rule"]
            xs = [p["flops"] for p in rule]
            n = np.asarray([p["params"] for p in rule])
            ax.plot(xs, n, ":", color="C0", label=f"N at the paper's D/N = {PAPER_TOKENS_PER_PARAM}")
            ax.plot(xs, PAPER_TOKENS_PER_PARAM * n, ":", color="C1", label=f"D at the paper's D/N = "
                                                                              f"{PAPER_TOKENS_PER_PARAM}")
    _log_axes(ax)
    ax.set_xlabel("training FLOPs")
    ax.set_ylabel("compute-optimal N (parameters) and D (tokens)")
    ratio = iso.get("target_tokens_per_param") if target else iso["tokens_per_param"]
    ax.set_title(f"compute-optimal allocation: D/N ≈ {ratio:.0f} (hollow: minimum at the edge of the sizes tried)",
                 fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_all(runs: Sequence[dict], result: dict, out: str | Path) -> list[Path]:
    """Write isoflop.png, vs_compute.png and optimal.png into ``out``; ImportError without matplotlib."""
    plt = _pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("isoflop.png", lambda p: plot_isoflop(plt, result, p)),
                       ("vs_compute.png", lambda p: plot_vs_compute(plt, runs, result, p)),
                       ("optimal.png", lambda p: plot_optimal(plt, result, p))):
        try:
            written.append(draw(out / name))
        finally:
            plt.close("all")
    return written
