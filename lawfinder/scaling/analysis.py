"""From run records to the study's numbers: error rate and loss against compute as power laws (best run per budget),
the IsoFLOP curves with their minima, compute-optimal N and D against compute, the tokens-per-parameter ratio, and
the paper-style table of each size at its largest budget. Plain dicts out, ready for JSON and the plots.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Sequence

import numpy as np
from scipy import stats

from .power_laws import around_best, compute_optimal, fit_power_law, frontier, isoflop_curve

REQUIRED = ("name", "flops_budget", "flops", "params", "loss")
ACCURACIES = {"acc_solved": "Acc_solved", "acc_r2": "Acc_R2>0.99"}
# The paper's extrapolation target: the compute at which Acc_solved would reach 0.8.
TARGET_ACCURACY = 0.8
# IsoFLOP parabolas are fitted to the best run and up to this many sizes on each side of it (fit.around_best).
ISOFLOP_WINDOW = 2


def check_runs(runs: Sequence[dict]) -> None:
    if not runs:
        raise ValueError("the runs file holds no runs")
    for run in runs:
        missing = [k for k in REQUIRED if run.get(k) is None]
        if missing:
            raise ValueError(f"run {run.get('name', '?')!r} lacks {missing}")


def _law(law) -> dict | None:
    return None if law is None else law.to_dict()


def error_fit(runs: Sequence[dict], accuracy: str) -> dict:
    """Power law of the error rate (1 − accuracy) of the best run per budget against its FLOPs, or why not."""
    with_metric = [r for r in runs if r.get(accuracy) is not None]
    points = frontier(with_metric, accuracy, lower_is_better=False)
    out = {"metric": accuracy, "points": [{"name": p["name"], "flops": p["flops"], accuracy: p[accuracy]}
                                          for p in points]}
    if len(points) < 3:
        out["skipped"] = f"{len(points)} budgets with {accuracy}; a fit with an interval needs 3"
        return out
    nonzero = sum(p[accuracy] > 0 for p in points)
    if nonzero == 0:
        out["skipped"] = f"{accuracy} is 0 at every budget: no error-rate trend to fit at this scale"
        return out
    if nonzero < 3:
        # An error of exactly 1 at most budgets says "nothing solved yet", not a slope: a fit would be noise.
        out["skipped"] = f"{accuracy} is above 0 at only {nonzero} of {len(points)} budgets; a fit needs 3"
        return out
    if any(p[accuracy] >= 1 for p in points):
        out["skipped"] = f"{accuracy} reached 1.0: the error rate has no logarithm"
        return out
    law = fit_power_law([p["flops"] for p in points], [1.0 - p[accuracy] for p in points])
    out["law"] = law.to_dict()
    if law.exponent < 0 and accuracy == "acc_solved":
        out["flops_for_target"] = {"accuracy": TARGET_ACCURACY, "flops": law.solve(1.0 - TARGET_ACCURACY)}
    return out


def loss_fit(runs: Sequence[dict]) -> dict:
    points = frontier(runs, "loss", lower_is_better=True)
    out = {"metric": "loss", "points": [{"name": p["name"], "flops": p["flops"], "loss": p["loss"]} for p in points]}
    if len(points) < 3:
        out["skipped"] = f"{len(points)} budgets; a fit with an interval needs 3"
        return out
    out["law"] = fit_power_law([p["flops"] for p in points], [p["loss"] for p in points]).to_dict()
    return out


def ratio_interval(ratios: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval of the geometric mean of ``ratios`` (in log space); None with fewer than two."""
    logs = np.log(np.asarray(ratios, dtype=float))
    if logs.size < 2:
        return None
    half = stats.t.ppf(0.5 + confidence / 2, logs.size - 1) * logs.std(ddof=1) / math.sqrt(logs.size)
    return float(math.exp(logs.mean() - half)), float(math.exp(logs.mean() + half))


def target_tokens_at(params: float, flops: float, runs: Sequence[dict]) -> float | None:
    """Target (LaTeX) tokens a model of ``params`` parameters reads in ``flops``: C / F(N) samples times D_out, with
    F(N) interpolated in log-log between the sizes run. None when the records lack ``d_out``.

    Two token counts are in play. ``tokens`` = C / (6·N) counts every token the FLOPs rule charges (table cells and
    targets, weighted by the encoder/decoder split); the paper's tokens-per-parameter ratio (≈ 15) only makes sense
    counting the targets, so this is the D that ratio is compared with (see docs/scaling.md)."""
    known = sorted((r["params"], r["flops_per_sample"], r["d_out"]) for r in runs
                   if r.get("d_out") and r.get("flops_per_sample"))
    if not known:
        return None
    log_n = np.log10([k[0] for k in known])
    log_f = np.log10([k[1] for k in known])
    per_sample = 10 ** np.interp(np.log10(params), log_n, log_f)
    return float(flops / per_sample * np.mean([k[2] for k in known]))


def paper_rule_size(flops: float, runs: Sequence[dict], ratio: float = 15.0) -> float | None:
    """The N at which target tokens per parameter equal the paper's ratio for this budget (None without d_out)."""
    sizes = [r["params"] for r in runs]
    grid = np.logspace(np.log10(min(sizes)) - 2, np.log10(max(sizes)) + 2, 400)
    per_param = [target_tokens_at(n, flops, runs) for n in grid]
    if per_param[0] is None:
        return None
    per_param = np.asarray(per_param) / grid  # falls as N grows
    return float(10 ** np.interp(np.log10(ratio), np.log10(per_param[::-1]), np.log10(grid[::-1])))


def isoflop_fit(runs: Sequence[dict], window: int | None = ISOFLOP_WINDOW) -> dict:
    """IsoFLOP curves (loss against N at each budget, with the parabola in log10 N fitted around the best run) and
    the compute-optimal allocation read off their minima."""
    groups: dict[float, list[dict]] = {}
    for run in runs:
        groups.setdefault(float(run["flops_budget"]), []).append(run)
    curves = []
    for budget, rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["params"])
        near_n, near_loss = around_best([r["params"] for r in rs], [r["loss"] for r in rs], window)
        coefficients = isoflop_curve(near_n, near_loss)
        curves.append({"flops_budget": budget, "params": [r["params"] for r in rs], "loss": [r["loss"] for r in rs],
                       "names": [r["name"] for r in rs], "fitted_params": near_n.tolist(),
                       "parabola": None if coefficients is None else list(coefficients)})
    optimal = compute_optimal(runs, "loss", window)
    interior = [m for m in optimal.minima if m.interior]
    use = interior or optimal.minima
    minima = []
    for m, curve in zip(optimal.minima, curves):
        # A minimum at the smallest size tried says only N_opt <= that size (so D/N is at least the ratio shown);
        # at the largest, N_opt >= it.
        bound = None
        if not m.interior:
            bound = "upper" if m.params <= min(curve["params"]) else "lower" if m.params >= max(curve["params"]) else None
        target = target_tokens_at(m.params, m.flops, runs)
        minima.append({**asdict(m), "n_opt_bound": bound, "target_tokens": target,
                       "target_tokens_per_param": None if target is None else target / m.params})
    chosen = [m for m in minima if m["interior"]] or minima
    targets = [m["target_tokens_per_param"] for m in chosen if m["target_tokens_per_param"] is not None]
    paper = [{"flops": c["flops_budget"], "params": paper_rule_size(c["flops_budget"], runs)} for c in curves]
    return {
        "curves": curves, "minima": minima,
        "params_law": _law(optimal.params_law), "tokens_law": _law(optimal.tokens_law),
        "tokens_per_param": optimal.tokens_per_param, "tokens_per_param_range": list(optimal.tokens_per_param_range),
        "tokens_per_param_ci": ratio_interval([m.tokens / m.params for m in use]),
        "tokens_per_param_from": "interior minima" if interior else "best run per budget (no interior minimum)",
        "interior_minima": len(interior), "window": window,
        "target_tokens_per_param": float(np.exp(np.mean(np.log(targets)))) if targets else None,
        "target_tokens_per_param_range": [min(targets), max(targets)] if targets else None,
        "target_tokens_per_param_ci": ratio_interval(targets) if targets else None,
        "paper_rule": [p for p in paper if p["params"] is not None],
    }


def max_flops_table(runs: Sequence[dict]) -> list[dict]:
    """Each size at its largest budget: the paper's 'best performance at maximum compute' table."""
    best: dict[str, dict] = {}
    for run in runs:
        size = run.get("size", run["name"])
        if size not in best or run["flops"] > best[size]["flops"]:
            best[size] = run
    rows = [{"size": s, "params": r["params"], "flops": r["flops"], "acc_solved": r.get("acc_solved"),
             "acc_r2": r.get("acc_r2"), "loss": r["loss"]} for s, r in best.items()]
    return sorted(rows, key=lambda row: row["params"])


def analyse(runs: Sequence[dict]) -> dict:
    check_runs(runs)
    return {
        "n_runs": len(runs),
        "budgets": sorted({float(r["flops_budget"]) for r in runs}),
        "sizes": sorted({(r.get("size", r["name"]), r["params"]) for r in runs}, key=lambda s: s[1]),
        "loss_vs_compute": loss_fit(runs),
        "error_vs_compute": {k: error_fit(runs, k) for k in ACCURACIES},
        "isoflop": isoflop_fit(runs),
        "max_flops_table": max_flops_table(runs),
        "runs": [{k: r.get(k) for k in ("name", "size", "params", "flops_budget", "flops", "steps", "batch_size",
                                        "lr", "tokens_per_param", "target_tokens_per_param", "loss", "train_loss",
                                        "acc_solved", "acc_r2")}
                 for r in sorted(runs, key=lambda r: (r["flops_budget"], r["params"]))],
    }


def _law_text(law: dict | None) -> str:
    if law is None:
        return "not fitted"
    lo, hi = law["exponent_ci"]
    return f"exponent {law['exponent']:+.3f} (95% CI {lo:+.3f} .. {hi:+.3f}), R² {law['r2']:.3f}, n={law['n']}"


def format_analysis(result: dict) -> str:
    lines = [f"{result['n_runs']} runs, budgets {', '.join(f'{b:.3g}' for b in result['budgets'])} FLOPs", ""]
    lines.append(f"{'run':<18} {'N':>9} {'FLOPs':>9} {'D/N':>7} {'val loss':>9} {'Acc_solved':>10} {'Acc_R2':>7}")
    for r in result["runs"]:
        acc = "-" if r["acc_solved"] is None else f"{r['acc_solved']:.3f}"
        acc_r2 = "-" if r["acc_r2"] is None else f"{r['acc_r2']:.3f}"
        ratio = "-" if r["tokens_per_param"] is None else f"{r['tokens_per_param']:.1f}"
        lines.append(f"{r['name']:<18} {r['params']:>9,} {r['flops']:>9.3g} {ratio:>7} {r['loss']:>9.4f} "
                     f"{acc:>10} {acc_r2:>7}")
    lines.append("")
    loss = result["loss_vs_compute"]
    lines.append(f"val loss vs compute: {loss.get('skipped') or _law_text(loss.get('law'))}")
    for key, label in ACCURACIES.items():
        fit = result["error_vs_compute"][key]
        lines.append(f"error (1 - {label}) vs compute: {fit.get('skipped') or _law_text(fit.get('law'))}")
        if "flops_for_target" in fit:
            lines.append(f"  extrapolated compute for {label} = {TARGET_ACCURACY}: "
                         f"{fit['flops_for_target']['flops']:.3g} FLOPs")
    iso = result["isoflop"]
    lines.append(f"IsoFLOP minima: {iso['interior_minima']} interior of {len(iso['minima'])}")
    for m in iso["minima"]:
        where = "interior" if m["interior"] else {
            "upper": "smallest size is best: N_opt <= this, D/N >= this",
            "lower": "largest size is best: N_opt >= this, D/N <= this"}.get(m["n_opt_bound"], "best run, no parabola")
        target = "" if m["target_tokens_per_param"] is None else \
            f", target tokens/N={m['target_tokens_per_param']:.1f}"
        lines.append(f"  C={m['flops']:.3g}: N_opt={m['params']:.3g}, D_opt=C/6N={m['tokens']:.3g}, "
                     f"D/N={m['tokens'] / m['params']:.1f}{target}, loss {m['loss']:.4f} [{where}]")
    lines.append(f"N_opt vs compute: {_law_text(iso['params_law'])}")
    lines.append(f"D_opt vs compute: {_law_text(iso['tokens_law'])}")
    ci = iso["tokens_per_param_ci"]
    ci_text = f", 95% CI {ci[0]:.1f} .. {ci[1]:.1f}" if ci else ""
    lines.append(f"tokens per parameter, C/(6N) tokens: {iso['tokens_per_param']:.1f} (range "
                 f"{iso['tokens_per_param_range'][0]:.1f} .. {iso['tokens_per_param_range'][1]:.1f}{ci_text}; "
                 f"from {iso['tokens_per_param_from']})")
    if iso["target_tokens_per_param"] is not None:
        low, high = iso["target_tokens_per_param_range"]
        ci = iso["target_tokens_per_param_ci"]
        ci_text = f", 95% CI {ci[0]:.1f} .. {ci[1]:.1f}" if ci else ""
        lines.append(f"tokens per parameter, target tokens (the paper's ≈ 15): {iso['target_tokens_per_param']:.1f} "
                     f"(range {low:.1f} .. {high:.1f}{ci_text})")
    for p in iso["paper_rule"]:
        lines.append(f"  the paper's 15 target tokens/parameter at C={p['flops']:.3g} would pick N={p['params']:.3g}")
    return "\n".join(lines)
