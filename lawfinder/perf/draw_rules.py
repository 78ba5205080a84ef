"""``lawfinder bench draw-rules``: what each way of giving up on a skeleton's data costs, in draws per sample and in
samples lost (issue 21's target of at most 4 draws per sample, against the prior's 20 data draws per skeleton).

One generator run records every data chain: how it ended (a sample, dropped by the early-rejection screen, or
dropped after ``max_data_tries`` draws), the draws a one-at-a-time loop needed, its n, and its skeleton's operators.
Beside each chain that went past its first draw, an independent random stream draws S *mini-draws* of K points each
(fresh constants and input intervals, exactly as a real draw makes them) and notes how many leading points of each
were finite. Rules are then replayed on those records:

* ``as run``: the generator's own figures (``bench generate``'s "needed one at a time").
* ``foresight``: a screen that knew which chains will fail all their draws and dropped them after one; no sample is
  lost. The floor for any screen under the same retry limit.
* ``max_data_tries=T``: a chain that needed more than T draws is lost, and a chain dropped after its draws costs T
  (the one-point screen stays: what it drops still costs one draw).
* ``screen k/S/m``: after a failed first draw, a chain is also dropped (for one draw) when fewer than m of its S
  mini-draws have their first min(k, n) points finite. A draw succeeds only if its first k points are finite, so a
  skeleton whose draws succeed with probability p passes each mini-draw with probability at least p: the screen
  drops mostly skeletons whose draws almost never succeed, but also some of the slow successes.

For each rule: draws per sample, the share of samples lost (a lost sample is replaced by one from another skeleton,
so this is how far the accepted distribution moves), and the operators whose share of the samples falls most.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..atomic import write_text
from ..generate.cli import add_config_arguments, config_from_args

MIN_SUPPORT = 30  # samples an operator needs, as run, before its share ratio is reported


@dataclass(frozen=True)
class ChainRecord:
    """One data chain: ``outcome`` is "ok", "non_finite_screen" or "non_finite_data"; ``sample`` whether it became a
    sample (ok and not held out); ``prefix[j]`` the finite leading points of mini-draw j (None where not drawn)."""

    outcome: str
    needed: int
    n: int
    sample: bool
    operators: frozenset
    prefix: np.ndarray | None = None


def record_chains(config, samples: int, seed: int = 0, screen_draws: int = 64, screen_points: int = 16,
                  screen_seed: int = 99) -> list[ChainRecord]:
    """Run a generator until ``samples`` samples and return one record per data chain."""
    from ..generate.generator import Generator
    from ..generate.support_points import draw_block
    from ..simplipy.interpret import evaluate
    from ..simplipy.operators import OPERATORS

    if config.datasets_per_skeleton != 1:
        raise ValueError("draw-rules replays one data chain per skeleton: run it with datasets_per_skeleton=1")
    rng = np.random.default_rng(screen_seed)
    records: list[dict] = []

    def mini_draws(program, fixed_constants, n_const: int, d: int) -> np.ndarray:
        _, per_point, _, X = draw_block(config, rng, d, n_const, screen_draws, screen_points,
                                        fixed_constants=fixed_constants)
        good = (np.abs(evaluate(program, X, per_point)) <= config.max_abs_value).reshape(screen_draws, screen_points)
        return np.where(good.all(axis=1), screen_points, good.argmin(axis=1)).astype(np.int16)

    class Recording(Generator):
        def _draw_data(self, program, fixed_constants, n_const, n, d):
            before = self.stats.draws_needed
            out = super()._draw_data(program, fixed_constants, n_const, n, d)
            needed = self.stats.draws_needed - before
            outcome = out if isinstance(out, str) else "ok"
            prefix = None
            if outcome == "non_finite_data" or (outcome == "ok" and needed > 1):
                prefix = mini_draws(program, fixed_constants, n_const, d)
            records.append({"outcome": outcome, "needed": needed, "n": n, "sample": False, "prefix": prefix,
                            "operators": frozenset(t for t in program if t in OPERATORS)})
            return out

    generator = Recording(config, seed=seed)
    emitted = 0
    while emitted < samples:
        generator.sample()
        emitted += 1
        records[-1]["sample"] = True  # the chain that just gave the sample is the last one recorded
    return [ChainRecord(**r) for r in records]


def replay(records: list[ChainRecord], rule: tuple) -> dict:
    """Draws per sample and samples kept under ``rule``: ("as run",), ("foresight",), ("max_data_tries", T) or
    ("screen", k, S, m)."""
    kind = rule[0]
    cost = 0
    kept: list[ChainRecord] = []
    for r in records:
        drops, draws = False, r.needed
        if kind == "max_data_tries":
            limit = rule[1]
            if r.outcome == "non_finite_data" or (r.outcome == "ok" and r.needed > limit):
                drops, draws = True, limit
        elif kind == "foresight":
            if r.outcome == "non_finite_data":
                draws = 1
        elif kind == "screen" and r.prefix is not None:
            k, draws_used, at_least = rule[1:]
            passes = int(np.count_nonzero(r.prefix[:draws_used] >= min(k, r.n)))
            if passes < at_least:
                drops, draws = True, 1
        elif kind not in ("as run", "screen"):
            raise ValueError(f"unknown draw rule {rule!r}")
        cost += draws
        if r.sample and not drops:
            kept.append(r)
    return {"draws_per_sample": cost / max(1, len(kept)), "samples": len(kept), "kept": kept}


def _operator_shares(samples: list[ChainRecord]) -> Counter:
    counts: Counter = Counter()
    for r in samples:
        counts.update(r.operators)
    return counts


def rule_name(rule: tuple) -> str:
    if rule[0] == "max_data_tries":
        return f"max_data_tries={rule[1]}"
    if rule[0] == "screen":
        return f"screen k={rule[1]} S={rule[2]} m={rule[3]}"
    return rule[0]


def compare_rules(records: list[ChainRecord], rules: list[tuple], most_thinned: int = 4) -> list[dict]:
    """One row per rule: draws per sample, share of samples lost, and the operators whose share falls most."""
    base = replay(records, ("as run",))
    base_counts = _operator_shares(base["kept"])
    rows = []
    for rule in [("as run",), ("foresight",), *rules]:
        out = replay(records, rule) if rule != ("as run",) else base
        counts = _operator_shares(out["kept"])
        ratios = {op: (counts[op] / max(1, out["samples"])) / (c / base["samples"])
                  for op, c in base_counts.items() if c >= MIN_SUPPORT}
        thinned = sorted(ratios.items(), key=lambda kv: kv[1])[:most_thinned]
        rows.append({"rule": rule_name(rule), "draws_per_sample": out["draws_per_sample"],
                     "samples_lost": 1 - out["samples"] / max(1, base["samples"]),
                     "most_thinned": [[op, ratio] for op, ratio in thinned]})
    return rows


def parse_rules(tries: str, screens: str, max_tries: int, screen_draws: int, screen_points: int) -> list[tuple]:
    rules: list[tuple] = []
    for text in filter(None, (t.strip() for t in tries.split(","))):
        limit = int(text)
        if not 1 <= limit <= max_tries:
            raise ValueError(f"--tries {limit}: must be between 1 and the config's max_data_tries ({max_tries})")
        rules.append(("max_data_tries", limit))
    for text in filter(None, (t.strip() for t in screens.split(","))):
        parts = text.split("/")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"--screens {text!r}: write each screen as k/S/m, e.g. 8/32/3")
        k, draws_used, at_least = map(int, parts)
        if not (1 <= k <= screen_points and 1 <= draws_used <= screen_draws and 1 <= at_least <= draws_used):
            raise ValueError(f"--screens {text!r}: needs 1 <= k <= {screen_points}, 1 <= S <= {screen_draws} and "
                             f"1 <= m <= S")
        rules.append(("screen", k, draws_used, at_least))
    return rules


def format_rows(rows: list[dict], samples: int) -> str:
    lines = [f"draw rules replayed on {samples} samples' data chains",
             f"  {'rule':<28} {'draws/sample':>12} {'samples lost':>13}   most thinned operators (share vs as run)"]
    for row in rows:
        thinned = "  ".join(f"{op} {ratio:.2f}" for op, ratio in row["most_thinned"]) if row["samples_lost"] else "-"
        lines.append(f"  {row['rule']:<28} {row['draws_per_sample']:12.2f} {row['samples_lost'] * 100:12.2f} %   "
                     f"{thinned}")
    return "\n".join(lines)


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("draw-rules", help="draws per sample vs samples lost for ways of giving up on a skeleton's "
                                          "data (issue 21)")
    p.add_argument("--samples", type=int, default=20_000, help="samples to record (their chains are replayed)")
    p.add_argument("--tries", default="4,6,8,10", help="max_data_tries values to replay, comma-separated")
    p.add_argument("--screens", default="8/32/2,8/32/3,6/24/3,8/24/3,16/32/2",
                   help="mini-draw screens k/S/m to replay, comma-separated")
    p.add_argument("--screen-draws", type=int, default=64, help="mini-draws recorded per chain (S at most)")
    p.add_argument("--screen-points", type=int, default=16, help="points per mini-draw (k at most)")
    p.add_argument("--out", help="write the rows as JSON here")
    add_config_arguments(p)
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    for name in ("samples", "screen_draws", "screen_points"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    config = config_from_args(args)
    rules = parse_rules(args.tries, args.screens, config.max_data_tries, args.screen_draws, args.screen_points)
    records = record_chains(config, args.samples, seed=args.seed, screen_draws=args.screen_draws,
                            screen_points=args.screen_points)
    rows = compare_rules(records, rules)
    print(format_rows(rows, args.samples))
    if args.out:
        write_text(args.out, json.dumps({"samples": args.samples, "chains": len(records), "rows": rows}, indent=2))
    return 0
