"""``lawfinder bench fastsrb`` (one sweep: budget, noise or sparsity; writes results.json, results.md and PNG plots
into ``--out DIR``) and ``lawfinder bench fastsrb-page`` (re-measures the standard set and rewrites docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .datasets import PRECISIONS, PRESETS, preset
from .methods import DEFAULT_BUDGETS, METHOD_NAMES, ORACLE_NAMES
from .protocol import Budget
from .axis_sweeps import NOISE_LEVELS, SPARSITY_POINTS, SWEEPS


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {text!r}") from None


def _floats(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {text!r}") from None


def parse_budgets(values: list[str] | None, methods: list[str], seconds: float | None) -> dict[str, list[Budget]]:
    """``--budget 16,64`` applies to every method; ``--budget pyoperon:10,50`` to one. Unset methods get their
    default. Each budget also carries ``--seconds`` as a wall-clock cap."""
    shared: list[int] | None = None
    per_method: dict[str, list[int]] = {}
    for value in values or []:
        if ":" in value:
            name, _, numbers = value.partition(":")
            if name not in methods:
                raise ValueError(f"--budget names method {name!r}, which is not among --method {','.join(methods)}")
            per_method[name] = _ints(numbers)
        else:
            shared = _ints(value)
    out = {}
    for name in methods:
        numbers = per_method.get(name, shared)
        if name in ORACLE_NAMES:
            numbers = None  # oracles have no search to budget
        if numbers is None:
            numbers = [DEFAULT_BUDGETS[name]]
        out[name] = [Budget(n, seconds) for n in numbers]
    return out


def _add_selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--subset", type=int, help="score N equations spread evenly over the 115 (default: all)")
    p.add_argument("--equations", help="comma-separated FastSRB ids to score instead")
    p.add_argument("--datasets", type=int, help="use only the first K datasets of each equation")
    p.add_argument("--include-excluded", action=argparse.BooleanOptionalAction, default=None,
                   help="also score the 5 equations Flash-ANSR excludes, reported apart (default: on for full runs)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples over equations (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="method seeds (dataset i gets seed+i) and bootstrap seed")


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fastsrb", help="FastSRB with Flash-ANSR's protocol and metrics (CIs over equations)",
                       description="Run methods on FastSRB datasets regenerated exactly as Flash-ANSR draws them, "
                                   "score fNRR/vNRR/SRR/R²-accuracy/length ratio/wall time with 95% bootstrap CIs, "
                                   "and write results.json, results.md and plots into --out.")
    p.add_argument("--method", default="lawfinder",
                   help=f"comma-separated methods from {', '.join(METHOD_NAMES)} (default lawfinder)")
    p.add_argument("--model", help="model for the lawfinder method (passed to lawfinder.Regressor)")
    p.add_argument("--device", default="auto", help="torch device for the lawfinder model (default auto: CUDA when "
                   "there)")
    p.add_argument("--n-jobs", type=int, help="processes fitting constants per problem (default: all cores)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a lawfinder.Regressor argument for the lawfinder method, e.g. refine_share=0 (repeatable)")
    p.add_argument("--budget", action="append",
                   help="budgets: '16,64' for all methods or 'METHOD:10,50' for one (repeatable); lawfinder: "
                        "samples, pyoperon/gplearn: generations")
    p.add_argument("--seconds", type=float, help="wall-clock cap per problem for methods that take one")
    p.add_argument("--sweep", choices=SWEEPS, default="budget",
                   help="budget: every --budget; noise/sparsity: each method's largest budget")
    p.add_argument("--noise", default=",".join(f"{x:g}" for x in NOISE_LEVELS),
                   help="relative noise levels for --sweep noise (default 0,0.001,0.01,0.1)")
    p.add_argument("--noise-std-float64", action="store_true",
                   help="measure std(y) in float64 so every dataset gets noise (Flash-ANSR measures it in float32, "
                        "which leaves 21 equations noise-free); not Flash-ANSR's stream, report apart")
    p.add_argument("--points", default=",".join(map(str, SPARSITY_POINTS)),
                   help="fit points for --sweep sparsity (default 8,16,...,512)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="short",
                   help="short: 10 datasets per equation; medium: 5 (Flash-ANSR's two largest budgets)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="float32 casts X and y as Flash-ANSR does (default); float64 keeps the same draws uncast")
    _add_selection_args(p)
    p.add_argument("--out", default="out/fastsrb", help="output folder (default out/fastsrb)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no per-problem progress lines")
    p.set_defaults(func=run_fastsrb)

    q = sub.add_parser("fastsrb-page", help="re-measure the standard FastSRB set and rewrite docs/results.md")
    q.add_argument("--docs", default="docs", help="docs folder (default docs)")
    q.add_argument("--model", help="also measure lawfinder with this model")
    q.add_argument("--render-only", action="store_true", help="rebuild the page from docs/results/*.json only")
    q.add_argument("--subset", type=int, default=12, help="equations for the baseline sweeps (default 12)")
    q.add_argument("--datasets", type=int, default=2, help="datasets per equation for the sweeps (default 2)")
    q.add_argument("--only", help="comma-separated measurements to redo (others keep their JSON)")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=run_page)


def _progress(quiet: bool):
    """A tqdm bar per run on a terminal; one line per problem into a log (stderr not a terminal); nothing if quiet."""
    from ..progress import bar, wanted

    if quiet:
        return None

    def status(record):
        return "ok" if record["recovered_val"] else ("error" if "error" in record else "-")

    if wanted():
        bars: dict = {}

        def draw(spec, i, n, record):
            label = f"{spec.method} {spec.budget.label()} noise={spec.noise:g} n={spec.n_fit}"
            if label not in bars:
                bars[label] = bar(total=n, desc=label, unit="problem")
            bars[label].set_postfix_str(f"{record['equation']} vNRR:{status(record)}", refresh=False)
            bars[label].update(i - bars[label].n)
            if i == n:
                bars[label].close()

        return draw

    def show(spec, i, n, record):
        print(f"  [{spec.method} {spec.budget.label()} noise={spec.noise:g} n={spec.n_fit}] {i}/{n} "
              f"{record['equation']}#{record['dataset']} vNRR:{status(record)} {record['seconds']:.2f}s",
              file=sys.stderr, flush=True)

    return show


def run_fastsrb(args: argparse.Namespace) -> int:
    from .harness import failures  # noqa: PLC0415 - keep `lawfinder --help` fast
    from .methods import make_method  # noqa: PLC0415
    from .metrics import load_simplifier  # noqa: PLC0415
    from .plots import write_plots  # noqa: PLC0415
    from .report import result_document, sweep_markdown, write_atomic, write_json  # noqa: PLC0415
    from .axis_sweeps import Selection, run_sweep, specs_for  # noqa: PLC0415

    names = [m.strip() for m in args.method.split(",") if m.strip()]
    options = regressor_options(args.set)
    methods = {name: make_method(name, args.model, device=args.device, n_jobs=args.n_jobs, options=options)
               for name in names}
    budgets = parse_budgets(args.budget, names, args.seconds)
    config = preset(args.preset, precision=args.precision)
    specs = specs_for(args.sweep, names, budgets, args.precision, _floats(args.noise), _ints(args.points),
                      n_fit=config.n_fit)
    selection = Selection(ids=args.equations.split(",") if args.equations else None, subset=args.subset,
                          datasets=args.datasets, include_excluded=args.include_excluded)
    simplify = load_simplifier()
    result = run_sweep(args.sweep, specs, methods, config, selection, simplify=simplify,
                       n_resamples=args.resamples, seed=args.seed, std_float64=args.noise_std_float64,
                       progress=_progress(args.quiet))
    document = result_document(result, "lawfinder.simplipy.simplify" if simplify else "constant folding only")
    out = Path(args.out)
    write_json(document, out / "results.json")
    markdown = sweep_markdown(document)
    if not args.no_plots:
        for path in write_plots(args.sweep, document["runs"], out):
            markdown += f"\n![{path.stem}]({path.name})\n"
    write_atomic(out / "results.md", markdown)
    print(markdown)
    for run in document["runs"]:
        missed = failures(run["records"])
        if run["method"] == "planted" and missed:
            print(f"planted method misses vNRR on {', '.join(missed)} ({run['precision']}): the data, not the "
                  "formula, limits these", file=sys.stderr)
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


def run_page(args: argparse.Namespace) -> int:
    from .page import build_page  # noqa: PLC0415

    path = build_page(Path(args.docs), model=args.model, render_only=args.render_only, subset=args.subset,
                      datasets=args.datasets, seed=args.seed, only=args.only.split(",") if args.only else None)
    print(f"wrote {path}")
    return 0


def regressor_options(texts: list[str]) -> dict:
    """``--set NAME=VALUE`` texts -> Regressor keyword arguments, each VALUE read as JSON when it is (numbers,
    true/false, null, lists), else as a Python literal (True/False/None, tuples, dicts), else kept as text; a NAME the
    Regressor does not take is a one-line error."""
    import ast
    import inspect

    from ..inference.regressor import Regressor

    known = set(inspect.signature(Regressor.__init__).parameters) - {"self", "model", "device", "n_jobs"}
    out = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or name not in known:
            raise ValueError(f"--set {text!r}: expected NAME=VALUE with NAME a Regressor argument "
                             f"({', '.join(sorted(known))})")
        try:
            out[name] = json.loads(raw)
        except json.JSONDecodeError:
            try:
                out[name] = ast.literal_eval(raw.strip())
            except (ValueError, SyntaxError):
                out[name] = raw.strip()
    return out
