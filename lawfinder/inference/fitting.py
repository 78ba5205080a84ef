"""Constant fitting: Levenberg-Marquardt with random restarts, for one candidate or a list of them.

Pure functions, no Ray: the FitterPool (``lawfinder.inference.ray_pool``) sends chunks of candidates to
``fit_candidates`` on other cores. As Flash-ANSR, each restart starts from constants drawn from N(0, 5^2), the prior
the model was trained on, and LM is SciPy's MINPACK ``lmder``, called through ``scipy.optimize.leastsq`` (the routine
``curve_fit(method="lm")`` wraps) to skip the wrappers' per-call checks. What keeps a candidate at a few
milliseconds on 1024 points: constant-free subtrees are evaluated once and read as columns; the forward-difference
Jacobian is one broadcast call of the compiled numpy function over all probes (not one callback per constant); the
value at the current point is reused from the residual call; restarts stop once one fit is exact to float precision.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.optimize import leastsq

from ..simplipy import CONSTANT, compile as compile_tokens
from ..simplipy.tokens import Tree, format_number, from_tree, is_variable, normalize, to_tree
from .defaults import N_RESTARTS

# Below float64 epsilon the ranking score is clamped (ranking.py), so a fit this good cannot be beaten by more restarts.
EXACT_FVU = float(np.finfo(np.float64).eps)
# Non-finite model values (log of a negative number, overflow) become this residual: large enough that LM moves away,
# small enough that the sum of squares over a million points stays finite (MINPACK's norms are overflow-safe anyway).
_PENALTY = 1e100
_STEP = math.sqrt(np.finfo(np.float64).eps)


@dataclass
class FitConfig:
    """Knobs of the constant fit. ``max_nfev`` caps function evaluations per restart (MINPACK counts them)."""

    n_restarts: int = N_RESTARTS
    init_std: float = 5.0
    exact_fvu: float = EXACT_FVU
    max_nfev: int = 100
    ftol: float = 1.49012e-08  # MINPACK's (and curve_fit's) defaults
    xtol: float = 1.49012e-08
    gtol: float = 0.0


@dataclass
class FitResult:
    """One fitted candidate: its skeleton tokens, fitted constants (in order of appearance) and FVU on the data."""

    tokens: list[str]
    constants: list[float] = field(default_factory=list)
    fvu: float = math.inf
    n_restarts: int = 0  # restarts actually run (fewer than asked when one was exact)


def fvu_of(y_hat: np.ndarray, y: np.ndarray, var_y: float) -> float:
    """Fraction of variance unexplained, ``mean((y_hat - y)^2) / var(y)``; inf where the candidate is not finite."""
    with np.errstate(all="ignore"):
        residual = y_hat - y
        mse = float(np.dot(residual, residual)) / y.shape[0]
    return mse / var_y if math.isfinite(mse) else math.inf


def hoist_constant_free(tokens: Sequence[str], n_columns: int) -> tuple[list[str], list[list[str]]]:
    """Split a skeleton into a reduced skeleton and the constant-free subtrees it reads as extra columns.

    Every maximal subtree that has a variable but no ``<constant>`` (``sin(x2)`` in ``C * x1 * sin(x2)``) does not
    change while LM moves the constants, so it is evaluated once and read as column ``x{n_columns + i + 1}`` by the
    reduced skeleton. The reduced skeleton computes the same numbers with the same operations, only fewer of them.
    """
    hoisted: list[list[str]] = []

    def walk(node: Tree) -> Tree:
        if len(node) == 1:
            return node
        inside = from_tree(node)
        if CONSTANT not in inside and any(is_variable(t) for t in inside):
            hoisted.append(inside)
            return (f"x{n_columns + len(hoisted)}",)
        return (node[0], *(walk(child) for child in node[1:]))

    return from_tree(walk(to_tree(tokens))), hoisted


class _Problem:
    """Residuals and Jacobian of one skeleton on one data set, as MINPACK calls them."""

    def __init__(self, tokens: Sequence[str], X: np.ndarray, y: np.ndarray):
        reduced, hoisted = hoist_constant_free(tokens, X.shape[1])
        if hoisted:
            X = np.column_stack([X, *(compile_tokens(t)(X) for t in hoisted)])
        # Column-major, so that every X[:, j] the compiled function reads is contiguous.
        self.X = np.asfortranarray(X)
        compiled = compile_tokens(reduced)
        # The raw compiled function broadcasts: constants of shape (k, m, 1) give m evaluations (m, n) in one call.
        self._f = compiled._f
        self.k = compiled.n_constants
        self.y = y
        self._last_c = np.full(self.k, np.nan)
        self._last_value = y
        self._eye = np.eye(self.k)
        self._probe_shape = (self.k, y.shape[0])

    # Callers hold np.errstate(all="ignore"): domain errors are expected here and only become large residuals.
    def values(self, c: np.ndarray) -> np.ndarray:
        value = self._f(self.X, c)
        if not isinstance(value, np.ndarray) or value.shape != self.y.shape:
            value = np.broadcast_to(np.asarray(value, dtype=np.float64), self.y.shape)
        return value

    def residuals(self, c: np.ndarray) -> np.ndarray:
        value = self.values(c)
        self._last_c[:], self._last_value = c, value
        r = value - self.y
        if not np.isfinite(r).all():
            r = np.where(np.isfinite(r), r, _PENALTY)
        return r

    def fvu(self, residuals: np.ndarray, var_y: float) -> float:
        """FVU from the residuals MINPACK returns at its solution (inf where the candidate was not finite)."""
        if (residuals == _PENALTY).any():
            return math.inf
        return float(np.dot(residuals, residuals)) / residuals.shape[0] / var_y

    def jacobian(self, c: np.ndarray) -> np.ndarray:
        """Forward differences, all k probes evaluated in one broadcast call: shape (n, k)."""
        h = _STEP * np.maximum(np.abs(c), 1.0)
        probes = c[:, None] + self._eye * h  # (k, k): column j is c + h_j e_j
        # MINPACK asks for the Jacobian at the last accepted point, usually the one it just evaluated.
        base = self._last_value if (self._last_c == c).all() else self.values(c)
        values = self._f(self.X, probes[:, :, None])
        if not isinstance(values, np.ndarray) or values.shape != self._probe_shape:
            values = np.broadcast_to(np.asarray(values, dtype=np.float64), self._probe_shape)
        J = (values - base) / h[:, None]
        if not np.isfinite(J).all():
            J = np.where(np.isfinite(J), J, 0.0)
        return J.T


def fit_constants(tokens: Sequence[str], X: np.ndarray, y: np.ndarray, config: FitConfig | None = None,
                  rng: np.random.Generator | None = None, var_y: float | None = None) -> FitResult:
    """Fit the ``<constant>``s of one skeleton to ``y`` by least squares, best of ``config.n_restarts`` LM runs.

    A skeleton without constants is evaluated once. ``X`` is (n, d) float64, ``y`` (n,) float64, both finite.
    """
    config = config or FitConfig()
    rng = rng if rng is not None else np.random.default_rng()
    tokens = normalize(tokens)
    var_y = float(np.var(y)) if var_y is None else var_y
    if not var_y > 0:
        raise ValueError("the target is constant (zero variance): FVU is undefined")
    with np.errstate(all="ignore"):
        return _fit(tokens, X, y, config, rng, var_y)


def _fit(tokens: list[str], X: np.ndarray, y: np.ndarray, config: FitConfig, rng: np.random.Generator,
         var_y: float) -> FitResult:
    problem = _Problem(tokens, X, y)
    if problem.k == 0:
        return FitResult(tokens, [], fvu_of(problem.values(np.zeros(0)), y, var_y), 0)
    if problem.k > y.shape[0]:
        # More constants than points: LM cannot run, and any "fit" would only interpolate.
        return FitResult(tokens, [0.0] * problem.k, math.inf, 0)
    best = FitResult(tokens, [], math.inf, 0)
    for restart in range(config.n_restarts):
        c0 = rng.normal(0.0, config.init_std, problem.k)
        # full_output: MINPACK's "maxfev reached" comes back as a status instead of a warning; either way the
        # constants it reached are scored by their FVU below.
        c, _, info, _, _ = leastsq(problem.residuals, c0, Dfun=problem.jacobian, full_output=True,
                                   ftol=config.ftol, xtol=config.xtol, gtol=config.gtol, maxfev=config.max_nfev)
        fvu = problem.fvu(info["fvec"], var_y)
        best.n_restarts = restart + 1
        if fvu < best.fvu or restart == 0:  # a candidate that never fits still gets values for its constants
            best.fvu, best.constants = fvu, [float(v) for v in c]
        if best.fvu <= config.exact_fvu:
            break
    return best


def fit_candidates(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray,
                   config: FitConfig | None = None, seed: int | None = None, offset: int = 0,
                   deadline: float | None = None) -> list[FitResult]:
    """Fit every candidate in turn, in this process; results keep the input order.

    Candidate ``i`` draws its restarts from ``default_rng((seed, offset + i))``, so a chunk fitted elsewhere (the
    FitterPool passes each chunk's ``offset``) starts from the same constants as one loop over all candidates. (The
    results then agree up to rounding: numpy's SIMD loops can round the last bit differently with array alignment,
    and LM on a flat objective can amplify that.) Stops before a
    candidate once ``time.time()`` passes ``deadline``, so the result can be shorter than ``candidates``.
    """
    config = config or FitConfig()
    seed = draw_seed() if seed is None else seed
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    var_y = float(np.var(y))
    results = []
    for i, tokens in enumerate(candidates):
        if deadline is not None and time.time() > deadline:
            break
        results.append(fit_constants(tokens, X, y, config, np.random.default_rng((seed, offset + i)), var_y))
    return results


def draw_seed() -> int:
    """A fresh seed from the OS, for callers that asked for no particular one."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def substitute(tokens: Sequence[str], constants: Sequence[float]) -> list[str]:
    """The skeleton with its ``<constant>``s replaced by literal number tokens, in order of appearance."""
    values = iter(constants)
    return [format_number(next(values)) if t == CONSTANT else t for t in tokens]
