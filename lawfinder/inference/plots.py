"""The picture of a fit: predicted against observed values, and the Pareto front (complexity against FVU) with the
chosen equation marked. matplotlib comes from the ``plots`` extra; without it the error says how to get it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .equation import Equation
from .pareto import pareto_mask
from .ranking import FVU_FLOOR

FVU_SHOWN = 10.0  # the Pareto panel's top: candidates worse than ten times the mean's error are counted, not drawn


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'lawfinder[plots]'") from None
    return plt


def check_path(path: str | Path) -> None:
    """Fail before a fit, not after it: matplotlib missing or an image format it cannot write."""
    _pyplot()
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(f"cannot draw {path}: the file name must end in one of "
                         f"{', '.join('.' + f for f in sorted(formats))}")


def plot_fit(equations: Sequence[Equation], chosen: int, observed: np.ndarray, predicted: np.ndarray,
             path: str | Path | None = None):
    """A two-panel figure; written atomically to ``path`` (format from its suffix) when given."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.4), layout="constrained")
    equation = equations[chosen]

    ok = np.isfinite(predicted)
    left.scatter(observed[ok], predicted[ok], s=12, alpha=0.7, color="tab:blue", edgecolor="none")
    low, high = np.nanmin(observed), np.nanmax(observed)
    left.plot([low, high], [low, high], color="0.4", linewidth=1, linestyle="--", label="predicted = observed")
    left.set_xlabel("observed")
    left.set_ylabel("predicted")
    # Plain text, not mathtext: SymPy's LaTeX uses commands matplotlib cannot typeset.
    left.set_title(_short(equation.text(), 70), fontsize=10)
    residual = observed[ok] - predicted[ok]
    r2 = 1.0 - float(residual @ residual) / float(np.sum((observed - observed.mean()) ** 2))
    left.text(0.97, 0.04, f"R² = {r2:.4f}" + (f"\n{int((~ok).sum())} rows undefined" if not ok.all() else ""),
              transform=left.transAxes, ha="right", va="bottom")
    left.legend(loc="upper left", frameon=False)

    mask = pareto_mask(equations)
    complexities = np.array([e.complexity for e in equations])
    losses = np.array([max(e.fvu, FVU_FLOOR) for e in equations])
    # FVU above 1 is worse than predicting the mean: those candidates would only stretch the axis.
    shown = ~mask & (losses <= FVU_SHOWN)
    hidden = int((~mask & ~shown).sum())
    right.scatter(complexities[shown], losses[shown], s=10, color="0.75",
                  label="other candidates" + (f" ({hidden} with FVU > {FVU_SHOWN:g} not shown)" if hidden else ""))
    front = np.flatnonzero(mask)
    front = front[np.argsort(complexities[front])]
    right.step(complexities[front], losses[front], where="post", color="tab:blue", linewidth=1.2)
    right.scatter(complexities[front], losses[front], s=22, color="tab:blue", label="Pareto front", zorder=3)
    right.scatter([equation.complexity], [max(equation.fvu, FVU_FLOOR)], s=140, marker="*", color="tab:red",
                  zorder=4, label=f"chosen: {_short(equation.text())}")
    right.set_yscale("log")
    right.set_xlabel("complexity (tokens)")
    right.set_ylabel("FVU (1 - R², log scale)")
    right.set_title("accuracy against simplicity")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False, fontsize=9)
    right.set_ylim(top=max(FVU_SHOWN, float(losses[mask].max())) * 3)

    if path is not None:
        import io

        from ..atomic import write_bytes

        buffer = io.BytesIO()
        figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
        write_bytes(path, buffer.getvalue())
    return figure


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
