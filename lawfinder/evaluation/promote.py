"""``lawfinder bench promote NEW --against default``: the promotion gate for the shipped model.

Both models are measured in one run on this machine's CPU, on all 115 scored FastSRB equations (the first dataset of
each, Flash-ANSR's float32 protocol) at the same fixed wall-clock time per problem (3 s) and with the same seed per
problem, the two models taking turns problem by problem so that a machine whose load drifts treats both alike. A
problem a model cannot read (more columns than it was trained on) is a scored failure and the run goes on.

The rule (``decide``): NEW replaces the shipped weights only if it
  1. recovers strictly more problems (vNRR, validation FVU < 1e-7), and
  2. reaches R² > 0.99 on at least as many, and
  3. is better with probability >= 0.9 under a paired bootstrap over equations (1,000 resamples of the per-equation
     differences; ties count as not better), and
  4. loses nothing beyond noise on the narrow equations (at most ``NARROW_VARIABLES`` = 3 variables, the ones the
     3-variable models read): the same paired bootstrap restricted to them must not find it worse with probability
     >= 0.9.
So an equal model (e.g. the shipped model against itself) is never promoted, one lucky problem is not enough, and a
wide model cannot buy its promotion with the narrow problems the shipped one already solves.

The shipped side is a pair (``inference.proposal.pick_model``): default.pt reads the tables it can, and wide.pt, when
shipped, the wider ones. A candidate that reads more columns than default.pt and fails the rule above is judged
again as the wide model (``decide_wide``): the shipped pair's results on the narrow tables, the candidate's on the
wide ones, against the shipped pair, by the same rule. So a model that is not yet good enough on the narrow tables
can still serve the wide ones it wins on, measured in the same run at no extra cost; and a model that wins on all
tables replaces default.pt and retires wide.pt.

Cost on this 2-core box: (115 + the problems the shipped pair can read) × 3 s, about 10-12 minutes. ``--budget N``
instead gives each problem N sampled candidates and no clock (the gate's earlier form, 23 equations × 512 samples).

Replacing is atomic: the new weights are written beside the shipped file (default.pt, or wide.pt; bf16, shards
under new names) and renamed over it. Every run appends its table to docs/model-card.md ("Promotion gate"), and the
candidate's lease to its "Training history", promoted or not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

GATE_EQUATIONS = None        # all 115 scored equations
GATE_SECONDS = 3.0           # wall-clock seconds per problem and model
NARROW_VARIABLES = 3
GATE_DATASETS = 1
MIN_P_BETTER = 0.9
N_RESAMPLES = 1000
CARD = Path("docs/model-card.md")
GATE_MARK = "<!-- lawfinder bench promote: gate rows go above this line -->"
LEASE_MARK = "<!-- lawfinder bench promote: lease rows go above this line -->"


@dataclass
class Side:
    """One model's results on the gate's problems; the shipped side may be a pair: ``path`` reads the tables it can,
    ``wide`` (the wide slot: a file, or where one would go) the wider ones."""

    label: str
    path: Path
    records: list[dict] = field(default_factory=list)
    wide: Path | None = None

    def model_for(self, n_variables: int) -> Path:
        from ..inference.proposal import pick_model

        return pick_model(n_variables, self.path, self.wide)

    def recovered(self, name: str = "recovered_val", narrow: bool | None = None) -> int:
        return sum(bool(r[name]) for r in self.records if narrow is None or is_narrow(r) == narrow)


def is_narrow(record: dict) -> bool:
    """Whether a gate record's equation has at most ``NARROW_VARIABLES`` variables."""
    return record.get("variables", 0) <= NARROW_VARIABLES


@dataclass
class Verdict:
    promote: bool
    reason: str
    delta: float        # vNRR difference (candidate - shipped), points, over equations
    low: float
    high: float
    p_better: float
    narrow_delta: float = math.nan    # the same over the narrow equations only
    p_narrow_worse: float = 0.0


def paired_bootstrap(new: list[float], old: list[float], n_resamples: int = N_RESAMPLES,
                     seed: int = 0) -> tuple[float, float, float, float]:
    """Mean difference (new - old) over paired units, its 95% percentile interval, and P(difference > 0) under
    resampling the pairs."""
    import numpy as np

    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    if diff.size == 0:
        return math.nan, math.nan, math.nan, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_resamples, diff.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(diff.mean()), float(low), float(high), float(np.mean(means > 0))


def decide(new: Side, old: Side, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Verdict:
    """The rule in the module docstring."""
    from .harness import per_equation

    a, b = per_equation(new.records, "recovered_val"), per_equation(old.records, "recovered_val")
    keys = sorted(a)
    delta, low, high, p = paired_bootstrap([a[k] for k in keys], [b[k] for k in keys], n_resamples, seed)
    narrow = sorted({r["equation"] for r in new.records if is_narrow(r)} & set(keys))
    narrow_delta, _, _, p_not_worse = paired_bootstrap([b[k] for k in narrow], [a[k] for k in narrow],
                                                        n_resamples, seed)
    gained, r2_new, r2_old = new.recovered() - old.recovered(), new.recovered("accurate_val"), \
        old.recovered("accurate_val")
    lost_narrow = old.recovered(narrow=True) - new.recovered(narrow=True)
    if gained <= 0:
        reason = f"it recovers {new.recovered()} problems, the shipped model {old.recovered()}: not more"
    elif r2_new < r2_old:
        reason = f"it reaches R² > 0.99 on fewer problems ({r2_new} vs {r2_old})"
    elif p < MIN_P_BETTER:
        reason = f"P(better) = {p:.2f} under the paired bootstrap is below {MIN_P_BETTER}"
    elif p_not_worse >= MIN_P_BETTER:
        reason = (f"on the {len(narrow)} equations of <= {NARROW_VARIABLES} variables it recovers {lost_narrow} "
                  f"fewer, worse with P = {p_not_worse:.2f} >= {MIN_P_BETTER}")
    else:
        reason = (f"+{gained} problems recovered, R² > 0.99 on {r2_new} vs {r2_old}, P(better) = {p:.2f} "
                  f">= {MIN_P_BETTER}, narrow equations {-lost_narrow:+d} (P(worse) = {p_not_worse:.2f})")
        return Verdict(True, reason, 100 * delta, 100 * low, 100 * high, p, -100 * narrow_delta, p_not_worse)
    return Verdict(False, reason, 100 * delta, 100 * low, 100 * high, p, -100 * narrow_delta, p_not_worse)


def decide_wide(new: Side, old: Side, narrow_limit: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Verdict:
    """The rule for the candidate as the shipped pair's wide model: the pair's own results on the tables its default
    model reads (at most ``narrow_limit`` columns), the candidate's on the others, against the pair (``decide``)."""
    records = [o if o.get("variables", 0) <= narrow_limit else n for n, o in zip(new.records, old.records)]
    return decide(Side(f"{new.label} as the wide model", new.path, records), old, n_resamples, seed)


def _is_name(spec: str) -> bool:
    return "/" not in spec and not spec.endswith(".pt")


def resolve(spec: str) -> Path:
    """``default`` (or another shipped name) -> its file in the package; anything else is a path."""
    from ..inference.proposal import SHIPPED_DIR

    path = SHIPPED_DIR / f"{spec}.pt" if _is_name(spec) else Path(spec)
    if not path.is_file():
        raise ValueError(f"model {spec!r}: no such file ({path})")
    return path


def measure(new: Side, old: Side, equations: int | None, datasets: int, budget: int | None,
            seconds: float | None, seed: int, progress=None) -> None:
    """Fit every gate problem with both models in turn (same data, same seed per problem)."""

    from .datasets import preset
    from .harness import score
    from .methods import DEFAULT_BUDGETS, Budget, RegressorMethod, Task
    from .metrics import load_simplifier
    from .axis_sweeps import Selection

    config = preset("short", precision="float32")
    _, problems = Selection(subset=equations, datasets=datasets, include_excluded=False).resolve(config)
    simplify = load_simplifier()
    for i, dataset in enumerate(problems):
        task = Task(X=dataset.X_fit, y=dataset.y_fit, feature_names=[v.name for v in dataset.equation.variables],
                    truth=dataset.equation.tokens, seed=seed + i)
        for side in (new, old):
            method = RegressorMethod(model=str(side.model_for(dataset.X_fit.shape[1])), name=side.label)
            start = time.perf_counter()
            error = None
            try:
                prediction = method.fit_predict(task, Budget(budget or DEFAULT_BUDGETS["lawfinder"], seconds))
            except Exception as exc:  # noqa: BLE001 - e.g. more columns than the model reads: a scored failure
                prediction, error = None, str(exc).splitlines()[0]
            record = {**score(dataset, prediction, simplify), "seconds": time.perf_counter() - start,
                      "variables": len(dataset.equation.variables)}
            if error:
                record["error"] = error
            side.records.append(record)
            if progress is not None:
                progress(side.label, i + 1, len(problems), record)


def _rate(side: Side, metric: str, seed: int) -> str:
    from .harness import summarize

    s = summarize(side.records, n_resamples=N_RESAMPLES, seed=seed)["main"][metric]
    return f"{100 * s['value']:.1f} [{100 * s['low']:.1f}, {100 * s['high']:.1f}]"


def table(new: Side, old: Side, verdict: Verdict, seed: int, wide: Verdict | None = None) -> str:
    import numpy as np

    n = len(new.records)
    rows = [("vNRR %", _rate(new, "vNRR", seed), _rate(old, "vNRR", seed)),
            ("R² > 0.99 %", _rate(new, "accuracy_r2", seed), _rate(old, "accuracy_r2", seed)),
            ("recovered", f"{new.recovered()}/{n}", f"{old.recovered()}/{n}"),
            (f"  <= {NARROW_VARIABLES} variables", f"{new.recovered(narrow=True)}/{_count(new, True)}",
             f"{old.recovered(narrow=True)}/{_count(old, True)}"),
            (f"  > {NARROW_VARIABLES} variables", f"{new.recovered(narrow=False)}/{_count(new, False)}",
             f"{old.recovered(narrow=False)}/{_count(old, False)}"),
            ("R² > 0.99", f"{new.recovered('accurate_val')}/{n}", f"{old.recovered('accurate_val')}/{n}"),
            ("s/problem (median)", f"{np.median([r['seconds'] for r in new.records]):.2f}",
             f"{np.median([r['seconds'] for r in old.records]):.2f}")]
    width = max(len(r[1]) for r in rows) + 2
    lines = [f"{'':20s}{'candidate':<{width}}shipped",
             *[f"{a:20s}{b:<{width}}{c}" for a, b, c in rows],
             f"paired over equations: Δ vNRR = {verdict.delta:+.1f} points [{verdict.low:+.1f}, {verdict.high:+.1f}], "
             f"P(candidate better) = {verdict.p_better:.2f} ({N_RESAMPLES} resamples); narrow equations only: "
             f"{verdict.narrow_delta:+.1f} points, P(candidate worse) = {verdict.p_narrow_worse:.2f}"]
    if wide is not None:
        lines.append(f"as the wide model (the shipped pair's results on the tables default.pt reads): Δ vNRR = "
                     f"{wide.delta:+.1f} points [{wide.low:+.1f}, {wide.high:+.1f}], P(better) = {wide.p_better:.2f}")
    return "\n".join(lines)


def _count(side: Side, narrow: bool) -> int:
    return sum(is_narrow(r) == narrow for r in side.records)


def describe(equations: int | None, budget: int | None, seconds: float | None) -> str:
    """The gate's problems and budget in a few words (the card's 'problems' column)."""
    what = f"{equations} eq" if equations else "all eq"
    return f"{what} × {budget} samples" if budget else f"{what} × {seconds:g} s"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _history(path: Path) -> list[dict]:
    from ..model.checkpoint import read_metadata

    return list(read_metadata(path).get("extra", {}).get("history", []))


def _insert_row(text: str, mark: str, row: str) -> str:
    if mark not in text:
        raise ValueError(f"the model card has no line {mark!r} to append the row above")
    return text.replace(mark, f"{row}\n{mark}", 1)


def outcome(verdict: Verdict, wide: Verdict | None) -> str:
    """What the gate did, in the card's words: 'promoted', 'promoted as wide.pt' or 'kept shipped'."""
    if verdict.promote:
        return "promoted"
    return "promoted as wide.pt" if wide is not None and wide.promote else "kept shipped"


def card_rows(new: Side, old: Side, verdict: Verdict, minutes: float, seed: int, problems: str,
              date: str, wide: Verdict | None = None) -> tuple[str, str | None]:
    """(gate row, lease row or None when the candidate carries no lease history)."""
    done = outcome(verdict, wide)
    history = _history(new.path)
    samples = f"{sum(h.get('samples', 0) for h in history):,}" if history else "not recorded in the file"
    gate = (f"| {date} | `{new.path.name}` {_sha(new.path)} | {samples} | {problems} | "
            f"{_rate(new, 'vNRR', seed)} | {_rate(old, 'vNRR', seed)} | {new.recovered('accurate_val')} / "
            f"{old.recovered('accurate_val')} | {verdict.delta:+.1f} [{verdict.low:+.1f}, {verdict.high:+.1f}], "
            f"P = {verdict.p_better:.2f}; narrow {new.recovered(narrow=True)} / {old.recovered(narrow=True)} | "
            f"{done if done == 'kept shipped' else f'**{done}**'} | "
            f"{minutes:.1f} |")
    if not history:
        return gate, None
    last = history[-1]
    totals = {k: sum(h.get(k) or 0 for h in history) for k in ("samples", "flops", "gpu_minutes", "cpu_minutes")}
    cpu = (f" (CPU {last.get('cpu_minutes', 0):.1f} / {totals['cpu_minutes']:.1f})"
           if totals["cpu_minutes"] else "")
    lease = (f"| {last.get('date', '?')} | {last.get('device', '?')} | {last.get('preset', '?')} | "
             f"{'continued' if last.get('continued') else 'fresh'} | {last.get('samples', 0):,} / "
             f"{totals['samples']:,} | {last.get('flops', 0):.2g} / {totals['flops']:.2g} | "
             f"{last.get('gpu_minutes', 0):.1f} / {totals['gpu_minutes']:.1f}{cpu} | "
             f"{(last.get('final_loss') or math.nan):.2f} | "
             f"{'no' if done == 'kept shipped' else 'yes' if done == 'promoted' else 'wide'} |")
    return gate, lease


def replace_shipped(new: Path, target: Path, verdict: Verdict, date: str) -> list[Path]:
    """Write ``new`` over ``target`` atomically, in bf16 (sharded when over 16 MiB), keeping its metadata."""
    import torch

    from ..model.checkpoint import load_model, read_metadata, save_model
    from ..actors.shipping import MAX_FILE_BYTES

    model, _ = load_model(new)
    extra = dict(read_metadata(new).get("extra", {}))
    extra["promoted"] = {"date": date, "from": new.name, "rule": verdict.reason}
    return save_model(target, model, dtype=torch.bfloat16, max_file_bytes=MAX_FILE_BYTES, **extra)


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("promote", help="replace the shipped model by NEW only if it beats it on a FastSRB subset",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("new", help="candidate weights (e.g. the candidate.pt deploy/train_shipped.sh brings back)")
    p.add_argument("--against", default="default", help="shipped name or path to beat (default: default)")
    p.add_argument("--wide", default=None,
                   help="the shipped pair's wide slot: the model for tables --against cannot read, and where a "
                        "candidate that wins only on those goes (default: wide.pt beside a shipped --against name; "
                        "none for a path)")
    p.add_argument("--equations", type=int, default=GATE_EQUATIONS,
                   help="an even FastSRB subset of this many equations (default: all 115)")
    p.add_argument("--datasets", type=int, default=GATE_DATASETS, help="datasets per equation (default 1)")
    p.add_argument("--seconds", type=float, default=GATE_SECONDS,
                   help=f"wall-clock seconds per problem and model (default {GATE_SECONDS:g})")
    p.add_argument("--budget", type=int, default=None,
                   help="sampled candidates per problem instead of a clock (the gate's earlier form)")
    p.add_argument("--seed", type=int, default=0, help="problem i uses seed+i for both models (default 0)")
    p.add_argument("--card", default=str(CARD), help="model card to append the tables to (default docs/model-card.md)")
    p.add_argument("--no-card", action="store_true", help="do not touch the model card")
    p.add_argument("--dry-run", action="store_true", help="measure and decide, but never replace the shipped model")
    p.add_argument("--quiet", action="store_true", help="no per-problem progress lines")
    p.set_defaults(func=run_promote)


def run_promote(args: argparse.Namespace) -> int:
    from ..atomic import write_text

    started = time.perf_counter()
    from ..inference.proposal import SHIPPED_DIR, WIDE_NAME, reads
    from ..model.checkpoint import remove_model

    new = Side("candidate", resolve(args.new))
    wide_slot = Path(args.wide) if args.wide else (SHIPPED_DIR / f"{WIDE_NAME}.pt" if _is_name(args.against) else None)
    old = Side("shipped", resolve(args.against), wide=wide_slot)
    card = Path(args.card)
    if not args.no_card and not card.is_file():
        raise ValueError(f"--card {str(card)!r} does not exist (or pass --no-card)")

    def show(label, i, n, record):
        status = "ok" if record["recovered_val"] else ("error" if "error" in record else "-")
        print(f"  [{label}] {i}/{n} {record['equation']} vNRR:{status} {record['seconds']:.1f}s", file=sys.stderr,
              flush=True)

    seconds = None if args.budget else args.seconds
    if seconds is not None and seconds <= 0:
        raise ValueError(f"--seconds must be positive, got {seconds:g}")
    problems = describe(args.equations, args.budget, seconds)
    measure(new, old, args.equations, args.datasets, args.budget, seconds, args.seed, None if args.quiet else show)
    verdict = decide(new, old, seed=args.seed)
    wide = None
    narrow_limit = reads(old.path)
    if not verdict.promote and old.wide is not None and reads(new.path) > narrow_limit:
        wide = decide_wide(new, old, narrow_limit, seed=args.seed)
    minutes = (time.perf_counter() - started) / 60
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    pair = f" (+ {old.wide} for wider tables)" if old.wide is not None and old.wide.exists() else ""
    print(f"promotion gate: {new.path} against {old.path}{pair}\n"
          f"{len(new.records)} FastSRB problems ({problems}, {args.datasets} dataset each), "
          f"seeds {args.seed}..{args.seed + len(new.records) - 1}, both models in turn, "
          f"{minutes:.1f} min")
    print(table(new, old, verdict, args.seed, wide))
    done = outcome(verdict, wide)
    chosen = wide if done == "promoted as wide.pt" else verdict
    replaced, retired = [], []
    if done != "kept shipped" and not args.dry_run:
        replaced = replace_shipped(new.path, old.path if done == "promoted" else old.wide, chosen, date)
        if done == "promoted" and old.wide is not None:
            retired = remove_model(old.wide)   # the new default reads every table: no pair any more
    if replaced:
        action = f"PROMOTED{' as the wide model' if chosen is wide else ''}: wrote " + \
            ", ".join(str(p) for p in replaced) + ("; retired " + ", ".join(str(p) for p in retired) if retired else "")
    else:
        action = f"would be {done} (--dry-run)" if done != "kept shipped" else "KEPT the shipped model"
    print(f"verdict: {action} — {chosen.reason}")
    if wide is not None and chosen is not wide:
        print(f"as the wide model: not promoted — {wide.reason}")
    if not args.no_card:
        gate, lease = card_rows(new, old, verdict, minutes, args.seed, problems, date, wide)
        text = _insert_row(card.read_text(encoding="utf-8"), GATE_MARK, gate)
        if lease:
            text = _insert_row(text, LEASE_MARK, lease)
        write_text(card, text)
        print(f"appended the gate's row{' and the lease' if lease else ''} to {card}")
    return 0
