"""Expressions as prefix token lists: the operator table, parsing and printing (infix, SymPy, LaTeX), numpy
compilation, and the rule-based simplifier (``simplify``)."""

from pathlib import Path

from ..native import SIMPLIFIER_MODULES, Build

BUILD = Build(__name__, Path(__file__).parent, SIMPLIFIER_MODULES, "simplifier")
BUILD.choose()  # first: decides whether the compiled build or the sources of the hot modules run

from .compile import CompiledExpression, compile_expression
from .infix import parse, to_infix
from .latex import to_latex
from .operators import BINARY, CONSTANT, OPERATORS, UNARY, Operator
from .simplify import simplify
from .sympy_bridge import from_sympy, to_sympy
from .tokens import is_variable, n_constants, normalize, validate, variables

compile = compile_expression  # noqa: A001 - the documented name, shadowing the builtin only inside this namespace

__all__ = [
    "BINARY", "CONSTANT", "CompiledExpression", "OPERATORS", "Operator", "UNARY", "compile", "compile_expression",
    "from_sympy", "is_variable", "n_constants", "normalize", "parse", "simplify", "to_infix", "to_latex", "to_sympy",
    "validate", "variables",
]
