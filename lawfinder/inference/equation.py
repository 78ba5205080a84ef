"""``Equation``: one fitted candidate, the unit ``Regressor.candidates_`` is made of: skeleton, constants, FVU,
complexity, ranking objective, and the ways to read it (Python text, SymPy, LaTeX, a numpy callable, torch and jax
exports, a JSON-ready dict).

Plain data (tuples, floats, strings) so it pickles, and is cheap to keep hundreds of; SymPy and LaTeX forms are
built only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..simplipy import compile as compile_tokens, to_sympy
from .export import array_function, python_names, python_text, torch_module
from .fitting import substitute

LATEX_PRECISION = 3  # significant digits of constants in LaTeX (PySR's default)


def _evaluated(expr):
    """Rebuild an unevaluated SymPy tree bottom-up with evaluation on (flattens products and sums, folds numbers)."""
    if not expr.args:
        return expr
    return expr.func(*(_evaluated(a) for a in expr.args))


@dataclass(frozen=True)
class Equation:
    skeleton: tuple[str, ...]  # prefix tokens with <constant> placeholders
    constants: tuple[float, ...]  # fitted values, in order of appearance
    fvu: float
    complexity: int
    objective: float  # log10(FVU) + parsimony * complexity: Flash-ANSR's ranking, lower is better
    feature_names: tuple[str, ...]
    rows: int = 0  # rows the constants were fitted on (0: not known, e.g. a file from before this field)
    raw: tuple[str, ...] = ()  # the form the search found (constants written in) when a shorter one replaced it

    @property
    def raw_expression(self) -> str:
        """``expression`` of the form the search found, before the canonical pass shortened it (the same when
        it did not)."""
        return python_text(self.raw, self.feature_names) if self.raw else self.expression

    @property
    def python_names(self) -> dict[str, str]:
        """Feature name -> the identifier that stands for it in ``expression`` (the same for plain identifiers)."""
        return dict(zip(self.feature_names, python_names(self.feature_names)))

    @property
    def underdetermined(self) -> bool:
        """Whether the fit had no more rows than fitted constants: then nearly any formula with that many constants
        fits the rows exactly, and a small FVU says nothing about the law."""
        return 0 < self.rows <= len(self.constants)

    @property
    def tokens(self) -> list[str]:
        """Prefix tokens with the fitted constants written in as number literals."""
        return substitute(self.skeleton, self.constants)

    @property
    def expression(self) -> str:
        """Python text over the feature names, e.g. ``9.81 * m * sin(theta)``: evaluates with numpy's names in scope
        (``1 / m``, ``sqrt``, ``arcsin``). A name that is no plain identifier is spelled as ``python_names`` says
        (``mass (kg)`` -> ``mass_kg``), so the text is always safe, valid Python."""
        return python_text(self.tokens, self.feature_names)

    def text(self, precision: int = 4) -> str:
        """``expression`` with its numbers rounded to ``precision`` significant digits, for display."""
        return python_text(self.tokens, self.feature_names, precision)

    def sympy(self):
        """A SymPy expression over the feature names, with SymPy's automatic flattening and number folding applied
        (``9.81*m*sin(theta)``); ``lawfinder.simplipy.to_sympy`` gives the unevaluated tree."""
        return _evaluated(to_sympy(self.tokens, self.feature_names))

    def latex(self, precision: int = LATEX_PRECISION) -> str:
        """LaTeX of the SymPy form: Greek names as letters (``theta`` -> ``\\theta``), constants rounded to
        ``precision`` significant digits."""
        import sympy as sp

        expr = self.sympy()
        rounded = {f: sp.Float(f"{float(f):.{int(precision)}g}") for f in expr.atoms(sp.Float)}
        return sp.latex(expr.xreplace(rounded))

    def pytorch(self):
        """A ``torch.nn.Module``: (n, d) tensor -> (n,) values, the constants as trainable parameters."""
        return torch_module(self.skeleton, self.constants, self.feature_names, self.expression)

    def jax(self):
        """``{"callable": f, "parameters": constants}`` like PySR's: ``f(X)`` over ``jax.numpy``, jit-able."""
        import jax.numpy as jnp

        return {"callable": array_function(self.skeleton, self.constants, jnp),
                "parameters": jnp.asarray(self.constants)}

    def __call__(self, X) -> np.ndarray:
        """Evaluate on ``X`` (n, d) with columns in the order of ``feature_names``."""
        X = np.asarray(X, dtype=np.float64)
        return compile_tokens(self.skeleton)(X.reshape(-1, 1) if X.ndim == 1 else X, self.constants)

    def to_dict(self) -> dict[str, Any]:
        """The fields ``lawfinder fit --json`` prints, plus the score and the skeleton with its constants."""
        return {
            "expression": self.expression,
            "sympy": str(self.sympy()),
            "latex": self.latex(),
            "fvu": self.fvu,
            "complexity": self.complexity,
            "objective": self.objective,
            "skeleton": list(self.skeleton),
            "constants": list(self.constants),
            "underdetermined": self.underdetermined,
        }

    def __str__(self) -> str:
        return self.expression
