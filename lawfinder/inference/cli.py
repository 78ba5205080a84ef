"""``lawfinder fit DATA.csv --target COL``: find formulas for one column of a CSV table, print the best as a table
or (``--json``) as a list, best first, of ``{"expression", "sympy", "latex", "fvu", "complexity",
"underdetermined"}`` over the table's column names (an object of such lists keyed by target for ``--target a,b``).
Results are printed before anything is written (``--save``, ``--plot``), notes and the progress bar go to stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from .defaults import MODEL_SELECTION, MODEL_SELECTIONS, N_RESTARTS, N_SAMPLES, PARSIMONY


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="find formulas for a column of a CSV table (header row names the variables)")
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True,
                   help="column to explain (a,b: several, one law each); every other column is an input variable")
    p.add_argument("--model", help="checkpoint path or preset name (default: the model shipped with lawfinder)")
    p.add_argument("--time-budget", type=float, help="seconds for the whole search (default: no limit)")
    p.add_argument("--json", action="store_true", help="print a JSON list, best first, instead of a table")
    p.add_argument("--top", type=int, default=10, help="how many formulas to show; 0 shows all (default 10)")
    p.add_argument("--n-samples", type=int, default=N_SAMPLES,
                   help=f"sequences sampled from the model (default {N_SAMPLES})")
    p.add_argument("--beam-width", type=int, help="beam search with this width instead of sampling")
    p.add_argument("--parsimony", type=float, default=PARSIMONY,
                   help=f"weight of length in the objective log10(FVU) + parsimony*length (default {PARSIMONY})")
    p.add_argument("--restarts", type=int, default=N_RESTARTS,
                   help=f"constant-fit restarts per candidate (default {N_RESTARTS})")
    p.add_argument("--n-jobs", type=int,
                   help="processes fitting constants (default: all cores; the Ray cluster RAY_ADDRESS names, if set)")
    p.add_argument("--device", default="auto", help="torch device for the model (default auto: CUDA when there)")
    p.add_argument("--binary-operators", type=_names, help="allowed binary operators, e.g. '+,-,*,/' (default: all)")
    p.add_argument("--unary-operators", type=_names,
                   help="allowed unary operators, e.g. 'sin,exp,sqrt' (default: all; 'none' for none)")
    p.add_argument("--maxsize", type=int, help="the most tokens (complexity) a formula may have")
    p.add_argument("--nested-constraints", type=_json_object, metavar="JSON",
                   help="""PySR's nested constraints, e.g. '{"sin": {"sin": 0, "cos": 0}}'""")
    p.add_argument("--required", type=_names, help="columns every formula must use, e.g. 'm,theta'")
    p.add_argument("--select-k-features", type=int, metavar="K",
                   help="search over the K columns a random forest ranks most informative (default: all the model "
                        "reads; a wider table is narrowed to that with a note)")
    p.add_argument("--weights", metavar="COLUMN",
                   help="column of row weights (>= 0, e.g. 1/sigma^2): weighted least squares and a weighted FVU")
    p.add_argument("--units", help='SI units per column, e.g. "V=V,I=A,R=Ohm": consistent formulas rank first')
    p.add_argument("--drop-nan", action="store_true", help="drop rows with NaN/inf instead of stopping")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed so the fit can be repeated)")
    p.add_argument("--model-selection", choices=MODEL_SELECTIONS, default=MODEL_SELECTION,
                   help="which formula is the answer: best (lowest log10(FVU) + parsimony*length, default), "
                        "accuracy (lowest FVU) or score (PySR's: steepest FVU drop per token on the Pareto front)")
    p.add_argument("--features", type=_names, help="comma-separated input columns (default: all but the target)")
    p.add_argument("--exclude", type=_names, default=[], help="comma-separated columns to leave out, e.g. an ID")
    p.add_argument("--delimiter", default=",", help="field separator of the CSV (default ','; e.g. ';' or '\\t')")
    p.add_argument("--comment", help="skip lines starting with this character, e.g. '#'")
    p.add_argument("--save", help="also write the fitted Regressor to this msgpack file")
    p.add_argument("--plot", help="also draw predicted vs observed and the Pareto front to this image (PNG, SVG, PDF)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes on stderr")
    p.set_defaults(func=run_fit)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error.msg} at character {error.pos}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _note(args: argparse.Namespace, text: str) -> None:
    if text and not args.quiet:
        print(f"lawfinder fit: {text}", file=sys.stderr)


def run_fit(args: argparse.Namespace) -> int:
    from ..progress import wanted
    from ..tables import read_table
    from .regressor import Regressor

    from ..atomic import check_distinct

    if args.top < 0:
        raise ValueError(f"--top must be >= 0, got {args.top}")
    check_distinct({"DATA": args.data}, {"--save": args.save, "--plot": args.plot})
    if args.plot:
        from .plots import check_path

        check_path(args.plot)
    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter
    targets = _names(args.target)
    if args.weights in targets:
        raise ValueError(f"--weights {args.weights!r} is also a --target")
    columns = [*targets, *([args.weights] if args.weights else [])]
    table = read_table(args.data, target=columns[0] if len(columns) == 1 else columns, drop_nan=args.drop_nan,
                       features=args.features, exclude=args.exclude, delimiter=delimiter, comment=args.comment)
    weights = None
    if args.weights:  # read beside the targets, then split off: never an input variable
        weights = table.y[:, -1]
        table.y = table.y[:, 0] if len(targets) == 1 else table.y[:, :-1]
    if not table.feature_names:
        raise ValueError(f"{args.data} has only the target column(s) {args.target!r}: no input variables")
    from .validate import check_target_varies

    for j, name in enumerate(targets):
        check_target_varies(table.y if len(targets) == 1 else table.y[:, j], name)
    _note(args, table.dropped_text())
    regressor = Regressor(model=args.model, n_samples=args.n_samples, time_budget=args.time_budget,
                          parsimony=args.parsimony, n_restarts=args.restarts, beam_width=args.beam_width,
                          n_jobs=args.n_jobs, random_state=args.seed, model_selection=args.model_selection,
                          verbose=wanted(args.quiet), device=args.device, binary_operators=args.binary_operators,
                          unary_operators=[] if args.unary_operators == ["none"] else args.unary_operators,
                          maxsize=args.maxsize, nested_constraints=args.nested_constraints,
                          select_k_features=args.select_k_features,
                          required_variables=args.required)
    if os.environ.get("RAY_ADDRESS") and args.n_jobs != 1:  # a cluster named: fit constants on it
        from ..ray_connect import connect

        connect(log_to_driver=False)
    units = None
    if args.units:
        from .units import parse_units_option

        units = parse_units_option(args.units, [*table.feature_names, *targets])
    y_units = None if units is None else units.get(targets[0], "") if len(targets) == 1 else \
        [units.get(n, "") for n in targets]
    try:
        with warnings.catch_warnings(record=True) as caught:  # each becomes one line, not Python's two
            warnings.simplefilter("always")
            regressor.fit(table.X, table.y, feature_names=table.feature_names, sample_weight=weights,
                          **({} if units is None else {"X_units": [units.get(n, "") for n in table.feature_names],
                                                       "y_units": y_units}))
    except RuntimeError as error:  # the search found nothing (no valid candidate, budget spent): not bad input
        print(f"lawfinder fit: {error}", file=sys.stderr)
        return 1
    for warning in caught:
        if not str(warning.message).startswith("underdetermined"):  # said below, with the results
            _note(args, str(warning.message))
    places = sorted({place for fit in (regressor.estimators_ if len(targets) > 1 else [regressor])
                     for place in fit.fitted_on_})
    if "ray" in places:  # the one place worth a line: a cluster (fitted_on_ tells the others)
        import ray  # imported already: it fitted the constants

        _note(args, f"constants fitted on Ray ({ray.get_runtime_context().gcs_address})")
    if len(targets) > 1:
        regressor.target_names_ = list(targets)  # the header's names, not y1..yk
    fits = list(zip(targets, regressor.estimators_ if len(targets) > 1 else [regressor]))
    failures, shown = [], []
    for name, fit in fits:
        from .law_checks import not_found_message, underdetermined_message

        best, label = fit.best_, f"{name}: " if len(targets) > 1 else ""
        if best.underdetermined:  # fits exactly whatever the law: shown, but never as a law found
            shown.append((name, fit))
            failures.append(label + underdetermined_message(best.expression, best.rows, len(best.constants)))
        elif not fit.found_:  # worse than the mean: never printed as an answer
            failures.append(label + not_found_message(best.expression, best.fvu))
        else:
            shown.append((name, fit))
    if args.seed is None and args.json and not failures:  # the table's header names the seed
        _note(args, f"seed {regressor.random_state_} (pass --seed {regressor.random_state_} to repeat this fit)")
    # Results first: a file that cannot be written must not cost the user the answer.
    _print_results(args, table, shown, several=len(targets) > 1)
    for message in failures:
        print(f"lawfinder fit: {message}", file=sys.stderr)
    if failures:
        return 1
    if args.save:
        regressor.save(args.save)
    if args.plot:
        if len(targets) > 1:
            raise ValueError("--plot draws one law: fit one --target to plot it")
        regressor.plot(table.X, table.y, args.plot)
        _note(args, f"plot written to {args.plot}")
    return 0


def _print_results(args: argparse.Namespace, table, fits: list, several: bool) -> None:
    """Each (target name, fitted Regressor)'s best equations: a table, or JSON (a list; an object of lists keyed by
    target when there are several targets)."""
    out = {}
    for position, (name, regressor) in enumerate(fits):
        ranked = list(enumerate(regressor.candidates_))
        shown = ranked[: args.top] if args.top else ranked
        if regressor.best_index_ not in [i for i, _ in shown]:
            shown.append((regressor.best_index_, regressor.best_))
        if args.json:
            keys = ("expression", "sympy", "latex", "fvu", "complexity", "underdetermined")
            out[name] = [{k: e.to_dict()[k] for k in keys} for _, e in shown]
            continue
        if position:
            print()
        print(f"{name} = f({', '.join(table.feature_names)}): {len(shown)} best of "
              f"{regressor.n_candidates_['fitted']} fitted candidates (seed {regressor.random_state_})")
        if regressor.units_:
            print(f"units: {regressor.units_.replace('y [', name + ' [', 1)}")
        print(f"{'pick':>4}  {'#':>3}  {'FVU':>9}  {'len':>3}  expression")
        for i, e in shown:
            mark = ">>>>" if i == regressor.best_index_ else ""
            print(f"{mark:>4}  {i + 1:>3}  {e.fvu:>9.2e}  {e.complexity:>3}  {e.expression}")
    if args.json:
        print(json.dumps(out if several else next(iter(out.values()), [])))
