"""Runs one method over FastSRB datasets and scores it: a record per dataset (FVUs, recoveries, length ratio, wall
time), then per-equation means and bootstrap CIs over equations, the five Flash-ANSR exclusions summarised apart.
"""

from __future__ import annotations

import math
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import metrics
from .bootstrap import N_RESAMPLES, bootstrap_ci
from .datasets import Dataset
from .protocol import Budget, Method, Prediction, Task

# Aggregated metrics: name -> (record field, statistic over an equation's datasets then over equations).
METRICS = {
    "fNRR": "recovered_fit",
    "vNRR": "recovered_val",
    "SRR": "symbolic",
    "accuracy_r2": "accurate_val",
    "length_ratio": "length_ratio",
    "seconds": "seconds",
    "fit_success": "success",
}
RATE_METRICS = ("fNRR", "vNRR", "SRR", "accuracy_r2", "fit_success")
ABORT_AFTER = 3


@dataclass(frozen=True)
class RunSpec:
    """One point of a sweep: what varied, recorded alongside its results."""

    method: str
    budget: Budget
    precision: str = "float32"
    noise: float = 0.0
    n_fit: int = 512

    def as_dict(self) -> dict:
        return {"method": self.method, "budget": {"value": self.budget.value, "seconds": self.budget.seconds},
                "budget_label": self.budget.label(), "precision": self.precision, "noise": self.noise,
                "n_fit": self.n_fit}


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _safe_fvu(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    try:
        with np.errstate(all="ignore"):
            y_hat = np.asarray(predict(X), dtype=np.float64)
        return metrics.fvu(y, y_hat)
    except (ValueError, FloatingPointError, OverflowError, ZeroDivisionError):
        return math.inf


def score(dataset: Dataset, prediction: Prediction | None, simplify=None) -> dict:
    """The per-dataset record of one prediction (``None``: the method failed). Fit FVU is judged against the targets
    the method saw (noisy in a noise sweep), validation FVU against clean held-out targets."""
    truth = list(dataset.equation.tokens)
    record = {"equation": dataset.equation.id, "dataset": dataset.index, "excluded": dataset.equation.excluded,
              "truth_length": len(metrics.skeleton(truth, simplify))}
    if prediction is None:
        return {**record, "success": False, "fvu_fit": None, "fvu_val": None, "recovered_fit": False,
                "recovered_val": False, "accurate_val": False, "symbolic": False, "length_ratio": math.nan,
                "expression": None}
    fvu_fit = _safe_fvu(prediction.predict, dataset.X_fit, dataset.y_fit)
    fvu_val = _safe_fvu(prediction.predict, dataset.X_val, dataset.y_val)
    ratio, symbolic = math.nan, False
    if prediction.tokens is not None:
        ratio = metrics.length_ratio(prediction.tokens, truth, simplify)
        symbolic = metrics.symbolic_match(prediction.tokens, truth, simplify)
    return {**record, "success": True, "fvu_fit": _finite_or_none(fvu_fit), "fvu_val": _finite_or_none(fvu_val),
            "recovered_fit": metrics.recovered(fvu_fit), "recovered_val": metrics.recovered(fvu_val),
            "accurate_val": metrics.accurate(fvu_val), "symbolic": symbolic, "length_ratio": ratio,
            "expression": prediction.text or None}


def evaluate(method: Method, datasets: Sequence[Dataset], budget: Budget, simplify=None, seed: int = 0,
             progress: Callable[[int, int, dict], None] | None = None) -> list[dict]:
    """Fit every dataset with ``method`` under ``budget`` and return one record per dataset, in order."""
    from ..inference.validate import TooManyVariables

    records = []
    setup_errors = 0    # problems that failed with an error that says nothing about the problem itself
    for i, dataset in enumerate(datasets):
        names = [v.name for v in dataset.equation.variables]
        task = Task(X=dataset.X_fit, y=dataset.y_fit, feature_names=names, truth=dataset.equation.tokens,
                    seed=seed + i)
        start = time.perf_counter()
        error = None
        try:
            prediction = method.fit_predict(task, budget)
        except Exception as exc:  # noqa: BLE001 - a baseline crashing on one problem is a scored failure
            prediction = None
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            setup_errors += not isinstance(exc, TooManyVariables)
        seconds = time.perf_counter() - start
        record = score(dataset, prediction, simplify)
        record["seconds"] = seconds
        if error:
            record["error"] = error
        records.append(record)
        if progress is not None:
            progress(i + 1, len(datasets), record)
        if i + 1 == ABORT_AFTER and len({r.get("error") for r in records}) == 1 and setup_errors == ABORT_AFTER:
            # The same exception on every problem so far is a set-up error (no model, missing extra), not a score;
            # a table wider than the model reads is a scored failure of that problem, however many come first.
            raise ValueError(f"method {method.name!r} failed on the first {ABORT_AFTER} problems with: {error}")
    return records


def per_equation(records: Sequence[dict], field: str) -> dict[str, float]:
    """Mean of ``field`` over each equation's datasets (NaN entries ignored; all-NaN gives NaN)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        value = r.get(field)
        groups[r["equation"]].append(math.nan if value is None else float(value))
    out = {}
    for eq, values in groups.items():
        arr = np.asarray(values, dtype=np.float64)
        out[eq] = float(np.nanmean(arr)) if np.any(~np.isnan(arr)) else math.nan
    return out


def summarize(records: Sequence[dict], n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict:
    """Metrics with 95% bootstrap CIs over equations, for the scored equations and apart for the excluded ones."""
    out = {}
    for group, keep in (("main", False), ("excluded", True)):
        subset = [r for r in records if bool(r["excluded"]) == keep]
        if not subset:
            continue
        summary = {"n_equations": len({r["equation"] for r in subset}), "n_datasets": len(subset)}
        for name, field in METRICS.items():
            values = list(per_equation(subset, field).values())
            summary[name] = bootstrap_ci(values, n_resamples=n_resamples, seed=seed).as_dict()
        summary["seconds_median"] = float(np.median([r["seconds"] for r in subset]))
        finite = [r["fvu_val"] for r in subset if r["fvu_val"] is not None and r["fvu_val"] > metrics.FVU_THRESHOLD]
        # Flash-ANSR's diagnostic: log10 FVU of the fits that are not perfect (exact fits excluded).
        summary["log10_fvu_val_imperfect_median"] = float(np.median(np.log10(finite))) if finite else None
        out[group] = summary
    return out


def failures(records: Sequence[dict], field: str = "recovered_val") -> list[str]:
    """Equations where ``field`` failed on at least one dataset (for reading a calibration run)."""
    return sorted({r["equation"] for r in records if not r[field]})
