"""Children that add to a good formula the term that best explains what it still misses.

A formula one term short of the law (``C (x1/x2)^3`` for ``C (x1/x2)^2 (x1/x2 + x2/x1 - sin(x3)^2)``) leaves a
residual that one more term would explain, but random mutations rarely write that term: it may be a product of a
part of the formula and a function of another variable (``(x1/x2)^2 sin(x3)^2``). Here every candidate term is
scored at once by linear algebra: a library of features (each variable, its powers, inverse, root, sine, cosine,
exponential and logarithm, products and quotients of two variables, and each subtree of the formula with its square
and inverse, at the formula's fitted constants), and every product of two features, each judged by the share it
explains of what a least-squares fit of ``y`` on the formula's additive terms leaves (each term free to take its own
coefficient, as the refit will let it). The best few become children ``f + C * term``, which the search then
simplifies, fits (every constant, the new one included) and ranks like any other candidate; a law several terms away
is reached over as many rounds (B20: two).

Pure functions over token lists and numpy arrays; ``search.search`` calls ``term_children`` on its best formulas
each round (``Regressor(residual_terms=...)``).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..simplipy import CONSTANT
from ..simplipy import compile as compile_tokens
from ..simplipy.tokens import arity, n_constants, subtree_end

TERM_ROWS = 256        # rows the terms are scored on (a random subsample of the fit rows)
# A term explaining less of the residual's variance than this share is not worth a child (a random term explains
# about 1/TERM_ROWS of pure noise).
MIN_EXPLAINED = 0.01
MAX_LENGTH = 40        # tokens; longer children are left out (as evolution's)
# Features of one variable x: (the operators applied to x, innermost last).
VARIABLE_FEATURES = ((), ("pow2",), ("pow3",), ("inv",), ("inv", "pow2"), ("pow1_2",), ("sin",), ("cos",),
                     ("pow2", "sin"), ("pow2", "cos"), ("exp",), ("exp", "neg"), ("log",))
# Features of a subtree s of the formula besides s itself (sine, cosine or exponential of a subtree were tried: they
# did not lead III.15.12's v1 (v2 v3)^2 to 2 v1 (1 - cos(v2 v3)), which needs two new terms at once).
SUBTREE_FEATURES = ("pow2", "inv")


def _variable_features(n_variables: int) -> list[list[str]]:
    out = []
    for i in range(1, n_variables + 1):
        out += [[*ops, f"x{i}"] for ops in VARIABLE_FEATURES]
    for i in range(1, n_variables + 1):
        for j in range(1, n_variables + 1):
            if i < j:
                out.append(["*", f"x{i}", f"x{j}"])
            if i != j:
                out.append(["/", f"x{i}", f"x{j}"])
    return out


def _subtrees(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every subtree with an operator at its root."""
    spans = []
    for start, token in enumerate(tokens):
        end = subtree_end(tokens, start) if arity(token) > 0 else None
        if end is not None:
            spans.append((start, end))
    return spans


def _with_constants(tokens: Sequence[str], constants: Sequence[float], span: tuple[int, int]
                    ) -> tuple[list[str], list[float]]:
    """The subtree at ``span`` and the fitted constants its placeholders stand for."""
    start, end = span
    before = n_constants(tokens[:start])
    return list(tokens[start:end]), list(constants[before:before + n_constants(tokens[start:end])])


def features(tokens: Sequence[str], constants: Sequence[float], n_variables: int,
             allows: Callable[[str], bool] | None = None) -> list[tuple[list[str], list[float]]]:
    """The feature library for a formula: ``(feature tokens, the constants its placeholders stand for)``, each
    feature once, only with tokens ``allows`` permits. A subtree of the formula keeps its fitted constants; its
    ``SUBTREE_FEATURES`` are features too (not those of the whole formula, which the fit of ``f`` already scales)."""
    seen: set[tuple[str, ...]] = set()
    out: list[tuple[list[str], list[float]]] = []

    def add(feature: list[str], values: list[float]) -> None:
        if tuple(feature) not in seen and (allows is None or all(allows(t) for t in feature)):
            seen.add(tuple(feature))
            out.append((feature, values))

    for feature in _variable_features(n_variables):
        add(feature, [])
    for start, end in _subtrees(tokens):
        subtree, own = _with_constants(tokens, constants, (start, end))
        add(subtree, own)
        if (start, end) != (0, len(tokens)):
            for op in SUBTREE_FEATURES:
                add([op, *subtree], own)
    return out


def _values(feature_list: list[tuple[list[str], list[float]]], X: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The features' values on X as columns scaled to unit RMS, and which features they are (those finite and not
    zero on every row)."""
    columns, kept = [], []
    with np.errstate(all="ignore"):
        for k, (feature, values) in enumerate(feature_list):
            try:
                v = np.asarray(compile_tokens(feature)(X, values), dtype=np.float64)
            except (ValueError, ZeroDivisionError, OverflowError, FloatingPointError):
                continue
            rms = float(np.sqrt(np.mean(np.square(v)))) if np.all(np.isfinite(v)) else 0.0
            if rms > 0 and np.isfinite(rms):
                columns.append(v / rms)
                kept.append(k)
    return (np.stack(columns, axis=1) if columns else np.zeros((X.shape[0], 0))), kept


def additive_terms(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of the terms a formula sums at its root (through nested ``+`` and ``-``): ``a + (b - c)`` has
    three; a formula that is no sum is its own one term."""
    if not tokens or tokens[0] not in ("+", "-"):
        return [(0, len(tokens))]
    left_end = subtree_end(tokens, 1)
    if left_end is None:
        return [(0, len(tokens))]
    left = [(1 + a, 1 + b) for a, b in additive_terms(tokens[1:left_end])]
    right = [(left_end + a, left_end + b) for a, b in additive_terms(tokens[left_end:])]
    return left + right


def best_terms(A: np.ndarray, y: np.ndarray, F: np.ndarray, w: np.ndarray | None, n: int) -> list[tuple[int, int]]:
    """The ``n`` products ``F[:, a] * F[:, b]`` (``a <= b``; column 0 of ``F`` is all ones, so ``(0, b)`` is the
    feature ``b`` alone) that explain the largest share of what a least-squares fit of ``y`` on the columns of ``A``
    (the formula's additive terms, each free to take its own coefficient) leaves: the share a fit on ``A`` and the
    term explains, at least ``MIN_EXPLAINED``; best first."""
    sw = np.ones_like(y) if w is None else np.sqrt(np.asarray(w, dtype=np.float64))
    with np.errstate(all="ignore"):
        A, y, F = A * sw[:, None], y * sw, F * sw[:, None]   # weighted least squares as plain least squares
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(F))):
            return []
        norms = np.linalg.norm(A, axis=0)
        A = A[:, norms > 0] / norms[norms > 0]
        if A.shape[1] == 0:
            return []
        Q, R = np.linalg.qr(A)
        Q = Q[:, np.abs(np.diag(R)) > 1e-10]                    # an orthonormal basis of the formula's terms
        r = y - Q @ (Q.T @ y)                                    # what the formula's terms leave
        rr = float(r @ r)
        if not (np.isfinite(rr) and rr > 1e-24 * float(y @ y)):
            return []
        F = F / np.sqrt(np.mean(np.square(F), axis=0))           # unit RMS again, now weighted
        rt = (F * r[:, None]).T @ F                              # <r, F_a F_b> for every pair (r is orthogonal to Q)
        tt = np.square(F).T @ np.square(F)                       # <F_a F_b, F_a F_b>
        inside = sum(np.square((F * q[:, None]).T @ F) for q in Q.T)   # the part of each term the formula spans
        orthogonal = tt - inside
        explained = np.square(rt) / (orthogonal * rr)
    explained = np.where(np.isfinite(explained) & (orthogonal > 1e-9 * tt), explained, 0.0)
    explained = np.triu(explained)
    order = np.argsort(explained, axis=None)[::-1][:n]
    pairs = [tuple(int(i) for i in np.unravel_index(k, explained.shape)) for k in order]
    return [(a, b) for a, b in pairs if explained[a, b] >= MIN_EXPLAINED]


def _term(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    """The product of two features as tokens (None stands for the feature 1)."""
    if a is None:
        return b
    if b is None:
        return a
    return ["pow2", *a] if a == b else ["*", *a, *b]


def term_children(parents: Sequence, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, per_parent: int,
                  allows: Callable[[str], bool] | None = None, rng: np.random.Generator | None = None,
                  max_length: int = MAX_LENGTH) -> list[list[str]]:
    """``f + C * term`` for each parent (a fit: ``tokens`` and fitted ``constants``) and each of its
    ``per_parent`` best terms (``best_terms``, scored on at most ``TERM_ROWS`` rows). Only tokens ``allows``
    permits are written; children longer than ``max_length`` are left out."""
    if per_parent < 1 or not parents:
        return []
    rng = rng or np.random.default_rng(0)
    if X.shape[0] > TERM_ROWS:
        rows = rng.choice(X.shape[0], TERM_ROWS, replace=False)
        X, y, w = X[rows], y[rows], (None if w is None else w[rows])
    y = np.asarray(y, dtype=np.float64)
    out: list[list[str]] = []
    for parent in parents:
        tokens, constants = list(parent.tokens), list(parent.constants)
        spans = additive_terms(tokens)
        A, kept_terms = _values([_with_constants(tokens, constants, span) for span in spans], X)
        if len(kept_terms) < len(spans):   # a term without finite values on these rows: nothing to build on
            continue
        library = features(tokens, constants, X.shape[1], allows)
        F, kept = _values(library, X)
        F = np.concatenate([np.ones((X.shape[0], 1)), F], axis=1)
        names: list[list[str] | None] = [None, *(library[k][0] for k in kept)]
        for a, b in best_terms(A, y, F, w, per_parent):
            term = _term(names[a], names[b])
            child = ["+", *tokens, CONSTANT] if term is None else ["+", *tokens, "*", CONSTANT, *term]
            if len(child) <= max_length and (allows is None or all(allows(t) for t in child)):
                out.append(child)
    return out
