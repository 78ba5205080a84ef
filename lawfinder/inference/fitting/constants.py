"""Constant fitting: variable projection (separable least squares) with Levenberg-Marquardt and scale-aware restarts.

Pure functions, no Ray: the FitterPool (``ray_pool.py``) and the process pool (``dispatch.py``) send chunks of
candidates to ``fit_candidates`` on other cores.

Constants that enter linearly (outer scale, offset, coefficients of a sum; ``separable.py`` finds them) are never
searched: for any values of the others, one linear least-squares solve gives them exactly, whatever their magnitude
(``6.674e-11 * m1 * m2 / r^2`` is a single solve). LM (SciPy's MINPACK ``lmder`` through ``scipy.optimize.leastsq``)
searches only the nonlinear constants, on the projected residual, in units of each restart's start magnitude.
Restarts start from a coarse scan over decades, the model's N(0, 5^2) prior and log-uniform magnitudes
(``starts.py``), so c^2 or 1/k_B inside a square root or an exponential are reachable too. Everything is float64 and
the target is divided by its spread, so values around 1e30 or 1e-30 fit like values around 1.

What keeps a candidate at a few milliseconds: restarts run on at most ``FitConfig.lm_rows`` rows and only the best is
polished on all rows; constant-free subtrees are evaluated once and read as columns; the forward-difference Jacobian
is one broadcast call of the compiled numpy function over all probes; restarts stop once one fit is exact.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.optimize import leastsq

from ...simplipy import CONSTANT, compile as compile_tokens
from ...simplipy.tokens import Tree, from_tree, is_variable, normalize, substitute_constants, to_tree
from ..defaults import N_RESTARTS
from ..ranking import FVU_FLOOR
from .separable import Separated, separate
from .starts import restart_starts, scan_grid

# Below ranking.FVU_FLOOR the ranking score is clamped, so a fit this good cannot be beaten by more restarts: the
# restarts stop there (one number, one name).
# Non-finite model values (log of a negative number, overflow) become this residual: large enough that LM moves away,
# small enough that the sum of squares over a million points stays finite (MINPACK's norms are overflow-safe anyway).
_PENALTY = 1e100
_STEP = math.sqrt(np.finfo(np.float64).eps)


@dataclass
class FitConfig:
    """Knobs of the constant fit. ``max_nfev`` caps function evaluations per restart (MINPACK counts them);
    ``init_std`` is the spread of the prior draws among the starts (``starts.py``)."""

    n_restarts: int = N_RESTARTS
    init_std: float = 5.0
    exact_fvu: float = FVU_FLOOR
    max_nfev: int = 100
    ftol: float = 1.49012e-08  # MINPACK's (and curve_fit's) defaults
    xtol: float = 1.49012e-08
    gtol: float = 0.0
    lm_rows: int = 256     # restarts run on at most this many rows; the best is then polished on all of them
    scan_rows: int = 64    # rows of the decade scan that picks start magnitudes
    scan_rounds: int = 2   # passes of the scan in each coordinate order


@dataclass
class FitResult:
    """One fitted candidate: its skeleton tokens, fitted constants (in order of appearance) and FVU on the data."""

    tokens: list[str]
    constants: list[float] = field(default_factory=list)
    fvu: float = math.inf
    n_restarts: int = 0  # restarts actually run (fewer than asked when one was exact)


def normalized_weights(w: np.ndarray | None, n: int) -> np.ndarray | None:
    """Row weights scaled to mean 1 (None stays None: every row counts once). Weighted least squares then minimises
    ``mean(w (f - y)^2)``, and with all weights equal everything is exactly as unweighted."""
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"row weights must be {n} positive finite numbers")
    return w / w.mean()


def weighted_var(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """``var(y)``, or its weighted form ``mean(w (y - mean_w(y))^2)`` for weights of mean 1."""
    if w is None:
        return float(np.var(y))
    centred = y - float(np.dot(w, y)) / y.shape[0]
    return float(np.dot(w, centred * centred)) / y.shape[0]


def fvu_of(y_hat: np.ndarray, y: np.ndarray, var_y: float, w: np.ndarray | None = None) -> float:
    """Fraction of variance unexplained, ``mean((y_hat - y)^2) / var(y)`` (with weights of mean 1:
    ``mean(w (y_hat - y)^2) / var_w(y)``); inf where the candidate is not finite."""
    with np.errstate(all="ignore"):
        residual = y_hat - y
        squares = residual * residual if w is None else w * residual * residual
        mse = float(np.sum(squares)) / y.shape[0]
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


class _Piece:
    """One compiled basis function (or the fixed part): which nonlinear constants it reads, or its values when it
    reads none."""

    def __init__(self, f, positions: np.ndarray, values: np.ndarray | None):
        self.f, self.positions, self.values = f, positions, values


class _Problem:
    """Projected residuals of one skeleton on one data set, for a batch of nonlinear-constant vectors at once."""

    def __init__(self, tokens: Sequence[str], X: np.ndarray, y: np.ndarray, separated: Separated | None = None,
                 w: np.ndarray | None = None):
        self.tokens = list(tokens)
        # Weighted least squares as ordinary least squares on rows scaled by sqrt(w): the target and every basis
        # column are multiplied by it, so the projection and LM minimise sum(w (f - y)^2).
        self.root_w = None if w is None else np.sqrt(w)
        self.sep = separate(tokens) if separated is None else separated
        self.k = len(self.sep.nonlinear)
        self.m = len(self.sep.basis)
        self.n_constants = sum(1 for t in tokens if t == CONSTANT)
        self.n = y.shape[0]
        # Dividing by the spread (and, below, by each column's norm) makes 1e30 and 1e-30 data fit like data near 1.
        self.y_scale = math.sqrt(weighted_var(y, w)) or float(np.max(np.abs(y))) or 1.0
        self.t = y / self.y_scale if w is None else self.root_w * y / self.y_scale
        position = {c: i for i, c in enumerate(self.sep.nonlinear)}
        columns = [X]
        width = X.shape[1]
        pieces_tokens = [*self.sep.basis, *([self.sep.fixed] if self.sep.fixed is not None else [])]
        pieces_constants = [*self.sep.basis_constants, *([self.sep.fixed_constants] if self.sep.fixed else [])]
        reduced_all = []
        for piece in pieces_tokens:
            reduced, hoisted = hoist_constant_free(piece, width)
            for h in hoisted:
                columns.append(compile_tokens(h)(X)[:, None])
            width += len(hoisted)
            reduced_all.append(reduced)
        # Column-major, so that every X[:, j] the compiled function reads is contiguous.
        self.X = np.asfortranarray(np.hstack(columns)) if len(columns) > 1 else np.asfortranarray(X)
        self.pieces = []
        for reduced, constants in zip(reduced_all, pieces_constants):
            f = compile_tokens(reduced)._f
            positions = np.array([position[c] for c in constants], dtype=int)
            values = None
            if not constants:
                values = np.broadcast_to(np.asarray(f(self.X, np.zeros(0)), dtype=np.float64), (self.n,))
            self.pieces.append(_Piece(f, positions, values))

    def _piece_values(self, piece: _Piece, B: np.ndarray) -> np.ndarray:
        """A piece's values on every row for each row of ``B`` (G, n), scaled by sqrt(w) when weighted."""
        if piece.values is not None:
            value = piece.values
        else:
            value = piece.f(self.X, B[:, piece.positions].T[:, :, None])
        if self.root_w is not None:
            value = self.root_w * value
        if isinstance(value, np.ndarray) and value.shape == (B.shape[0], self.n):
            return value
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (B.shape[0], self.n))

    # Callers hold np.errstate(all="ignore"): domain errors are expected here and only become large residuals.
    def project(self, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``B`` (G, k): residuals (G, n) in units of y's spread, and the coefficients a (G, m)."""
        G = B.shape[0]
        t = np.broadcast_to(self.t, (G, self.n))
        if self.sep.fixed is not None:
            t = t - self._piece_values(self.pieces[-1], B) / self.y_scale
        if self.m == 0:
            return -t, np.zeros((G, 0))
        Phi = np.stack([self._piece_values(p, B) for p in self.pieces[: self.m]], axis=2)  # (G, n, m)
        bad = ~(np.isfinite(Phi).all(axis=(1, 2)) & np.isfinite(t).all(axis=1))
        if bad.any():
            Phi = np.where(bad[:, None, None], 0.0, Phi)
            t = np.where(bad[:, None], 0.0, t)
        norms = np.sqrt(np.einsum("gnm,gnm->gm", Phi, Phi))
        norms = np.where((norms > 0) & np.isfinite(norms), norms, 1.0)
        Q = Phi / norms[:, None, :]
        gram = np.einsum("gnm,gnl->gml", Q, Q)
        rhs = np.einsum("gnm,gn->gm", Q, t)
        # Columns too large to square (a norm that overflowed) give a Gram matrix with inf: such rows are not finite.
        ok = np.isfinite(gram).all(axis=(1, 2)) & np.isfinite(rhs).all(axis=1)
        if not ok.all():
            bad = bad | ~ok
            gram = np.where(ok[:, None, None], gram, np.eye(self.m))
            rhs = np.where(ok[:, None], rhs, 0.0)
        if self.m == 1:  # the common case (an outer scale) without a batched pseudo-inverse
            g = gram[:, 0, 0]
            coef = np.where(g > 1e-13, rhs[:, 0] / np.where(g > 1e-13, g, 1.0), 0.0)[:, None]
        else:
            try:
                coef = np.einsum("gml,gl->gm", np.linalg.pinv(gram, rcond=1e-13, hermitian=True), rhs)
            except np.linalg.LinAlgError:  # LAPACK did not converge on this batch: none of its rows counts
                coef, bad = np.zeros_like(rhs), np.ones(G, dtype=bool)
        r = np.einsum("gnm,gm->gn", Q, coef) - t
        a = coef / norms * self.y_scale
        if bad.any():
            r[bad] = np.inf
        return r, a

    def exact_coefficients(self, b: np.ndarray) -> np.ndarray:
        """The linear coefficients at ``b`` by an SVD solve (the batched normal equations square the condition)."""
        if self.m == 0:
            return np.zeros(0)
        B = b[None, :]
        t = self.t - (self._piece_values(self.pieces[-1], B)[0] / self.y_scale if self.sep.fixed is not None else 0)
        Phi = np.stack([self._piece_values(p, B)[0] for p in self.pieces[: self.m]], axis=1)
        if not (np.isfinite(Phi).all() and np.isfinite(t).all()):
            return self.project(B)[1][0]
        norms = np.linalg.norm(Phi, axis=0)
        norms = np.where((norms > 0) & np.isfinite(norms), norms, 1.0)
        coef = np.linalg.lstsq(Phi / norms, t, rcond=None)[0]
        return coef / norms * self.y_scale

    def objective(self, B: np.ndarray) -> np.ndarray:
        """Sum of squared scaled residuals for every row of ``B``; inf where the candidate is not finite."""
        r, _ = self.project(B)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.einsum("gn,gn->g", r, r)
        return np.where(np.isfinite(out), out, np.inf)

    def lm(self, start: np.ndarray, config: "FitConfig") -> tuple[np.ndarray, float]:
        """One LM run from ``start`` in units of its magnitude -> (nonlinear constants, scaled sum of squares)."""
        scale = np.where(np.abs(start) > 0, np.abs(start), 1.0)
        theta0 = start / scale
        eye = np.eye(self.k)
        last = {"theta": None, "r": None}

        def residuals(theta):
            r = self.project((theta * scale)[None, :])[0][0]
            if not np.isfinite(r).all():
                r = np.where(np.isfinite(r), r, _PENALTY)
            last["theta"], last["r"] = theta.copy(), r
            return r

        def jacobian(theta):
            h = _STEP * np.maximum(np.abs(theta), 1.0)
            base = last["r"] if last["theta"] is not None and (last["theta"] == theta).all() else residuals(theta)
            probes = (theta[None, :] + eye * h[:, None]) * scale
            r = self.project(probes)[0]
            r = np.where(np.isfinite(r), r, _PENALTY)
            J = (r - base) / h[:, None]
            return np.where(np.isfinite(J), J, 0.0).T

        theta, _, info, _, _ = leastsq(residuals, theta0, Dfun=jacobian, full_output=True, ftol=config.ftol,
                                       xtol=config.xtol, gtol=config.gtol, maxfev=config.max_nfev)
        r = info["fvec"]
        sse = math.inf if (r == _PENALTY).any() else float(np.dot(r, r))
        return theta * scale, sse if math.isfinite(sse) else math.inf

    def scan(self, base: np.ndarray, order: Sequence[int], keep: int = 3) -> tuple[np.ndarray, float, list]:
        """Coordinate-wise scan of the nonlinear constants over ``starts.DECADES`` (both signs), in ``order``, each
        from the best vector so far. -> (best vector, its objective, the best ``keep`` values seen per constant)."""
        best = base.copy()
        best_value = float(self.objective(best[None, :])[0])
        top: list[np.ndarray] = [np.zeros(0)] * self.k
        for i in order:
            grid = scan_grid(best, i)
            values = self.objective(grid)
            ranked = np.argsort(values, kind="stable")
            finite = ranked[np.isfinite(values[ranked])]
            top[i] = grid[finite[:keep], i]
            if finite.size and values[finite[0]] < best_value:
                best, best_value = grid[finite[0]].copy(), float(values[finite[0]])
        return best, best_value, top

    def starts(self, n_restarts: int, init_std: float, rng: np.random.Generator,
               rounds: int = 2) -> list[np.ndarray]:
        """Restart starts: scans in both coordinate orders (one constant can only be placed once another is: in
        ``x / sqrt(C1 - C2 u^2)`` with u ~ 1e7, C2 ~ 1e-17 must come before C1 ~ 1), twice each, then mixed draws."""
        results = []
        for order in (list(range(self.k)), list(reversed(range(self.k)))):
            best = np.ones(self.k)
            tops = None
            for _ in range(rounds):
                best, value, top = self.scan(best, order)
                tops = top if tops is None else [np.concatenate([a, b]) for a, b in zip(tops, top)]
            results.append((value, best, tops))
            if self.k == 1:
                break
        results.sort(key=lambda r: r[0])
        top = [np.concatenate([r[2][i] for r in results]) for i in range(self.k)]
        out = restart_starts(results[0][1], top, n_restarts, init_std, rng)
        if len(results) > 1 and n_restarts > 2 and not np.array_equal(results[1][1], results[0][1]):
            out[2] = results[1][1]
        return out


def subsample(X: np.ndarray, y: np.ndarray, rows: int, rng: np.random.Generator,
              w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """At most ``rows`` rows, drawn without replacement (the table itself when it is small enough), with their
    weights scaled to mean 1 again."""
    if X.shape[0] <= rows:
        return X, y, w
    idx = np.sort(rng.choice(X.shape[0], rows, replace=False))
    return X[idx], y[idx], None if w is None else normalized_weights(w[idx], rows)


def fit_constants(tokens: Sequence[str], X: np.ndarray, y: np.ndarray, config: FitConfig | None = None,
                  rng: np.random.Generator | None = None, var_y: float | None = None,
                  w: np.ndarray | None = None) -> FitResult:
    """Fit the ``<constant>``s of one skeleton to ``y`` by least squares (weighted by ``w`` when given): linear ones
    solved exactly, nonlinear ones the best of ``config.n_restarts`` LM runs. ``X`` is (n, d) float64, ``y`` (n,)
    float64, both finite; ``w`` (n,) positive.

    The returned FVU is that of the skeleton with the returned constants, evaluated on all rows."""
    config = config or FitConfig()
    rng = rng if rng is not None else np.random.default_rng()
    tokens = normalize(tokens)
    w = normalized_weights(w, y.shape[0])
    var_y = weighted_var(y, w) if var_y is None else var_y
    if not var_y > 0:
        raise ValueError("the target is constant (zero variance): FVU is undefined")
    with np.errstate(all="ignore"):
        return _fit(tokens, X, y, config, rng, var_y, w)


def fvu_at(tokens: list[str], constants: list[float], X: np.ndarray, y: np.ndarray, var_y: float,
           w: np.ndarray | None = None) -> float:
    """FVU of ``tokens`` on ``(X, y)`` at the given constants (no fit); callers hold ``np.errstate``."""
    return fvu_of(compile_tokens(tokens)(X, constants), y, var_y, w)


def _fit(tokens: list[str], X: np.ndarray, y: np.ndarray, config: FitConfig, rng: np.random.Generator,
         var_y: float, w: np.ndarray | None = None) -> FitResult:
    n_constants = sum(1 for t in tokens if t == CONSTANT)
    if n_constants == 0:
        return FitResult(tokens, [], fvu_at(tokens, [], X, y, var_y, w), 0)
    if n_constants > y.shape[0]:
        # More constants than points: LM cannot run, and any "fit" would only interpolate.
        return FitResult(tokens, [0.0] * n_constants, math.inf, 0)
    separated = separate(tokens)
    full = _Problem(tokens, X, y, separated, w)
    if full.k == 0:  # every constant linear: one solve, no restarts
        constants = separated.constants(full.exact_coefficients(np.zeros(0)), [], n_constants)
        return FitResult(tokens, constants, fvu_at(tokens, constants, X, y, var_y, w), 1)
    # Restarts on a subsample; the best is polished on all rows. The subsample's own spread scales its objective.
    Xs, ys, ws = subsample(X, y, config.lm_rows, rng, w)
    small = full if Xs is X else _Problem(tokens, Xs, ys, separated, ws)
    exact_sse = config.exact_fvu * ys.shape[0] * weighted_var(ys, ws) / small.y_scale ** 2
    if small.n <= config.scan_rows:
        scan_problem = small
    else:
        Xc, yc, wc = subsample(Xs, ys, config.scan_rows, rng, ws)
        scan_problem = _Problem(tokens, Xc, yc, separated, wc)
    best_b, best_sse, runs = None, math.inf, 0
    for start in scan_problem.starts(config.n_restarts, config.init_std, rng, config.scan_rounds):
        b, sse = small.lm(start, config)
        runs += 1
        if best_b is None or sse < best_sse:
            best_b, best_sse = b, sse
        if best_sse <= exact_sse:
            break
    if small is not full:
        b, sse = full.lm(best_b, config)
        if math.isfinite(sse) or best_b is None:
            best_b = b
    constants = separated.constants(full.exact_coefficients(best_b), best_b, n_constants)
    return FitResult(tokens, constants, fvu_at(tokens, constants, X, y, var_y, w), runs)

def fit_candidates(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray,
                   config: FitConfig | None = None, seed: int | None = None, offset: int = 0,
                   deadline: float | None = None, w: np.ndarray | None = None) -> list[FitResult]:
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
    w = normalized_weights(w, y.shape[0])
    var_y = weighted_var(y, w)
    results = []
    for i, tokens in enumerate(candidates):
        if deadline is not None and time.time() > deadline:
            break
        results.append(fit_constants(tokens, X, y, config, np.random.default_rng((seed, offset + i)), var_y, w))
    return results


def draw_seed() -> int:
    """A fresh seed from the OS, for callers that asked for no particular one."""
    return int(np.random.SeedSequence().generate_state(1)[0])


substitute = substitute_constants  # the skeleton with its constants written in (simplipy.tokens, shared)
