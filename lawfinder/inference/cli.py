"""``lawfinder fit DATA.csv --target COL``: find formulas for one column of a CSV table, print the best as a table
or (``--json``) as a list, best first, of ``{"expression", "sympy", "latex", "fvu", "complexity"}`` over the
table's column names."""

from __future__ import annotations

import argparse
import json
import math
import sys

from .defaults import N_RESTARTS, N_SAMPLES, PARSIMONY


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="find formulas for a column of a CSV table (header row names the variables)")
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="column to explain; every other column is an input variable")
    p.add_argument("--model", help="checkpoint path or preset name (default: the model shipped with lawfinder)")
    p.add_argument("--time-budget", type=float, help="seconds for the whole search (default: no limit)")
    p.add_argument("--json", action="store_true", help="print a JSON list, best first, instead of a table")
    p.add_argument("--top", type=int, default=10, help="how many formulas to show; 0 shows all (default 10)")
    p.add_argument("--n-samples", type=int, default=N_SAMPLES, help=f"sequences sampled from the model (default {N_SAMPLES})")
    p.add_argument("--beam-width", type=int, help="beam search with this width instead of sampling")
    p.add_argument("--parsimony", type=float, default=PARSIMONY, help=f"score per token of length (default {PARSIMONY})")
    p.add_argument("--restarts", type=int, default=N_RESTARTS,
                   help=f"constant-fit restarts per candidate (default {N_RESTARTS})")
    p.add_argument("--n-jobs", type=int, help="fit constants on this many Ray workers (-1: all cores)")
    p.add_argument("--drop-nan", action="store_true", help="drop rows with NaN/inf instead of stopping")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one)")
    p.add_argument("--save", help="also write the fitted Regressor to this msgpack file")
    p.set_defaults(func=run_fit)


def run_fit(args: argparse.Namespace) -> int:
    from ..tables import read_table
    from .regressor import Regressor

    if args.top < 0:
        raise ValueError(f"--top must be >= 0, got {args.top}")
    table = read_table(args.data, target=args.target, drop_nan=args.drop_nan)
    if not table.feature_names:
        raise ValueError(f"{args.data} has only the target column {args.target!r}: no input variables")
    regressor = Regressor(model=args.model, n_samples=args.n_samples, time_budget=args.time_budget,
                          parsimony=args.parsimony, n_restarts=args.restarts, beam_width=args.beam_width,
                          n_jobs=args.n_jobs, random_state=args.seed)
    try:
        regressor.fit(table.X, table.y, feature_names=table.feature_names)
    except RuntimeError as error:  # the search found nothing (no valid candidate, budget spent): not bad input
        print(f"lawfinder fit: {error}", file=sys.stderr)
        return 1
    if args.save:
        regressor.save(args.save)
    equations = [e for e in regressor.equations_ if math.isfinite(e.fvu)]
    if args.top:
        equations = equations[: args.top]
    if args.json:
        keys = ("expression", "sympy", "latex", "fvu", "complexity")
        print(json.dumps([{k: e.to_dict()[k] for k in keys} for e in equations]))
        return 0
    print(f"{args.target} = f({', '.join(table.feature_names)}): {len(equations)} best of "
          f"{regressor.n_candidates_['fitted']} fitted candidates")
    print(f"{'#':>3}  {'score':>8}  {'FVU':>9}  {'len':>3}  expression")
    for rank, e in enumerate(equations, 1):
        print(f"{rank:>3}  {e.score:>8.3f}  {e.fvu:>9.2e}  {e.complexity:>3}  {e.expression}")
    return 0
