"""``lawfinder expr``: parse a formula, show it in every form, and evaluate it on a table."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expr", help="parse a formula, print its forms, optionally evaluate it on a CSV table")
    p.add_argument("formula", help='infix formula, e.g. "9.81*m*sin(theta)"; C is a free constant')
    p.add_argument("--data", help="CSV table to evaluate the formula on (header row names the variables)")
    p.add_argument("--target", help="column of --data to compare the formula's values against")
    p.add_argument("--constants", default="", help="comma-separated values for the C placeholders, in order")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run_expr)


def run_expr(args: argparse.Namespace) -> int:
    import numpy as np

    from . import compile_expression, parse, simplify, to_infix, to_latex, to_sympy
    from ..tables import read_table
    from .tokens import deep_recursion, depth, variable_name, variables

    table = read_table(args.data, target=args.target) if args.data else None
    names = table.feature_names if table is not None else None
    tokens = parse(args.formula, variables=names)
    if names is not None:
        for v in variables(tokens):
            variable_name(v, names)  # x9 on a 2-column table: a one-line error naming x9, not an IndexError
    constants = [float(c) for c in args.constants.split(",") if c.strip()]
    with deep_recursion(levels=depth(tokens)):  # SymPy builds and prints recursively, several frames per level
        report = {
            "prefix": tokens,
            "infix": to_infix(tokens, names),
            "sympy": str(to_sympy(tokens, names)),
            "latex": to_latex(tokens, names),
            "simplified": to_infix(simplify(tokens), names),
        }
    if table is not None:
        y_hat = compile_expression(tokens)(table.X, constants)
        report["n_rows"] = int(table.X.shape[0])
        report["first_values"] = [float(v) for v in y_hat[:5]]
        if table.y is not None:
            residual = y_hat - table.y
            report["max_abs_error"] = float(np.max(np.abs(residual)))
            report["r2"] = float(1 - np.mean(residual**2) / np.var(table.y)) if np.var(table.y) > 0 else None
    if args.json:
        print(json.dumps(report))
    else:
        width = max(len(k) for k in report)
        for key, value in report.items():
            if key == "prefix":
                value = " ".join(value)
            print(f"{key:>{width}}  {value}")
    return 0

