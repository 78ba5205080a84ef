"""Expressions as prefix token lists: the operator table, parsing and printing (infix, SymPy, LaTeX), numpy
compilation, and the rule-based simplifier (``simplify``)."""

from . import native  # noqa: F401  - first: decides whether the simplifier's compiled build or its sources run
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
