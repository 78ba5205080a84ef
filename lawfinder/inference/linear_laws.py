"""Laws that are a short sum of features once the target is transformed: sparse regression over a feature library.

Many laws the model and the mutations rarely write are linear in a few features after a simple change of the
target: a Gaussian is linear in ``(x1 - x2)^2 / x3^2`` and ``log(x3)`` after ``log(y)``; ``x1 sqrt(x2^2 + x3^2)``
is a sum of squares after ``(y / x1)^2``; ``(cos(x1) - a x2) / (1 - a x2 cos(x1))`` is linear in ``cos(x1)``,
``x2`` and ``y x2 cos(x1)`` (a rational law times its denominator: ``y = N - y (D - 1)``). Each such *screen* is a
target transform ``t = g(y)`` (the identity, ``1/y``, ``log|y|``, ``y^2``, ``y / f`` and ``(y / f)^2`` for a divisor
``f``: one variable or one of the best formulas so far at its fitted constants; or the rational form), and a forward
selection of up to ``MAX_TERMS`` columns of a library, every product of a *multiplier* (a power of one variable, a
product or quotient of two) and a *feature* (each variable's powers, roots, sines, cosines, exponentials and
logarithm; products, quotients and differences of two variables, the square of the difference, and the sine or
cosine of the difference and of the product), with a constant always in. The selection is a beam search, not a
greedy one: over small ranges the library is nearly degenerate (``cos(x1 - x2)`` is almost ``1 - (x1 - x2)^2 / 2``)
and the column that explains most at first is often not one of the law's; simpler columns go first where nearly
tied. The best selections of every step become candidates ``g^-1(C + C t1 + ...)``; the search then simplifies,
fits (on ``y``, every constant again) and ranks them like any other.

The screens are queued: the data's own first, then a divisor for each new best formula, then one per variable, and
``LinearLaws`` runs a few of them each round, so more time reaches more of them (the search keeps finding).

Pure functions over token lists and numpy arrays; ``search.search`` calls a ``LinearLaws`` once per round after the
first, on its best formulas (``Regressor(linear_laws=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from ..simplipy import CONSTANT
from ..simplipy import compile as compile_tokens
from .residual_terms import VARIABLE_FEATURES

ROWS = 256            # rows a screen reads (a random subsample of the fit rows)
MAX_TERMS = 5         # the most features a law of one screen sums (each step's selection is a candidate)
MAX_LENGTH = 48       # tokens; longer candidates are left out
EXACT = 1e-12         # a selection leaving less than this share of t's variance needs no further term
MAX_COLUMNS = 40_000  # library columns at most (a wide table's products are cut: memory ~ ROWS x this x 16 bytes)
MAX_UNDEFINED = 0.25  # a transform undefined on more than this share of the rows (1/y of zeros) is not screened
BEAM = 8              # selections the beam search carries from step to step
KEEP = 2              # selections of each step that become candidates
COST_FACTOR = 1.5     # a column's rank key grows by this factor per token (simpler columns first where nearly tied)
# Powers of one variable that multiply a feature (operators applied to the variable, innermost last).
MULTIPLIER_POWERS = ((), ("pow2",), ("pow3",), ("inv",), ("inv", "pow2"), ("pow1_2",))
# Features of two variables x, y besides x * y and x / y.
PAIR_FEATURES = (("-",), ("pow2", "-"), ("cos", "-"), ("sin", "-"), ("cos", "*"), ("sin", "*"))
TRANSFORMS = ("y", "inv", "log", "square", "rational")   # the data's own screens, in the order they run
DIVIDED = ("over", "over_square")                          # the screens of a divisor f: y / f and (y / f)^2


def _var(i: int) -> str:
    return f"x{i + 1}"


def multipliers(n_variables: int) -> list[list[str]]:
    """Powers of each variable (every variable's first power, then every variable's square, ...), and the product
    and quotient of each pair of variables: the order in which ``MAX_COLUMNS`` cuts them on a wide table."""
    out = [[*ops, _var(i)] for ops in MULTIPLIER_POWERS for i in range(n_variables)]
    for i in range(n_variables):
        for j in range(n_variables):
            if i < j:
                out.append(["*", _var(i), _var(j)])
            if i != j:
                out.append(["/", _var(i), _var(j)])
    return out


def single_features(n_variables: int) -> list[list[str]]:
    """Each variable's features (``residual_terms.VARIABLE_FEATURES``), and features of each pair of variables:
    product, quotient, difference, and the sine and cosine of the difference and of the product."""
    out = [[*ops, _var(i)] for i in range(n_variables) for ops in VARIABLE_FEATURES]
    for i in range(n_variables):
        for j in range(n_variables):
            if i < j:
                out.append(["*", _var(i), _var(j)])
                out += [[*ops, _var(i), _var(j)] for ops in PAIR_FEATURES]
            if i != j:
                out.append(["/", _var(i), _var(j)])
    return out


def _evaluate(tokens: Sequence[str], X: np.ndarray, constants: Sequence[float] = ()) -> np.ndarray | None:
    """Values of a formula on X, or None when it is not finite on every row."""
    try:
        with np.errstate(all="ignore"):
            v = np.broadcast_to(np.asarray(compile_tokens(list(tokens))(X, list(constants)), dtype=np.float64),
                                (X.shape[0],))
    except (ValueError, ZeroDivisionError, OverflowError, FloatingPointError):
        return None
    return v if np.all(np.isfinite(v)) else None


def _unit(columns: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Columns scaled to unit RMS (those finite and not zero on every row), and which they are."""
    kept, out = [], []
    for k, v in enumerate(columns):
        if v is None:
            continue
        with np.errstate(all="ignore"):
            peak = float(np.max(np.abs(v)))
            rms = peak * float(np.sqrt(np.mean(np.square(v / peak)))) if 0 < peak < np.inf else 0.0
        if rms > 0 and np.isfinite(rms):
            out.append(v / rms)
            kept.append(k)
    return (np.stack(out, axis=1) if out else np.zeros((0, 0))), kept


@dataclass
class Library:
    """The columns a screen selects from, as ``multiplier * feature`` products (a multiplier of None is 1)."""
    values: np.ndarray                        # (rows, columns), each column at unit RMS
    terms: list[tuple[list[str] | None, list[str]]]

    @classmethod
    def of(cls, X: np.ndarray, allows: Callable[[str], bool] | None = None) -> "Library":
        ok = (lambda f: True) if allows is None else (lambda f: all(allows(t) for t in f))
        singles = [f for f in single_features(X.shape[1]) if ok(f)]
        mults = [m for m in multipliers(X.shape[1]) if ok(m)]
        S, s_kept = _unit([_evaluate(f, X) for f in singles])
        M, m_kept = _unit([_evaluate(m, X) for m in mults])
        if S.size == 0:
            return cls(np.zeros((X.shape[0], 0)), [])
        terms: list[tuple[list[str] | None, list[str]]] = [(None, singles[k]) for k in s_kept]
        blocks = [S]
        room = max(0, (MAX_COLUMNS - S.shape[1]) // S.shape[1])     # multipliers that fit in the column budget
        if M.size and room and (allows is None or allows("*")):
            M, m_kept = M[:, :room], m_kept[:room]
            blocks.append((M[:, :, None] * S[:, None, :]).reshape(X.shape[0], -1))
            terms += [(mults[a], singles[b]) for a in m_kept for b in s_kept]
        values = np.concatenate(blocks, axis=1)
        with np.errstate(all="ignore"):
            values /= np.sqrt(np.mean(np.square(values), axis=0))    # the products at unit RMS too
        keep = _distinct_varying(values)
        return cls(values[:, keep], [terms[k] for k in keep])


def _distinct_varying(F: np.ndarray) -> list[int]:
    """The columns of ``F`` (unit RMS) that are not constant and not a repeat of an earlier one (``x1 * x2`` and
    ``x2 * x1``, ``x1 * inv(x1)``), to ~9 significant digits."""
    centered = np.sum(np.square(F - F.mean(axis=0)), axis=0)
    seen: set[bytes] = set()
    keep = []
    for k in np.flatnonzero(np.isfinite(centered) & (centered > 1e-10 * F.shape[0])):
        key = np.round(F[:, k], 9).tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(int(k))
    return keep


def select(t: np.ndarray, F: np.ndarray, cost: np.ndarray, max_terms: int = MAX_TERMS, width: int = BEAM,
           keep: int = KEEP) -> Iterator[tuple[list[int], float]]:
    """A beam search for the columns of ``F`` whose least-squares fit (with a constant always in) leaves the least of
    ``t``'s variance: ``width`` selections go on from step to step, ranked by the share they leave times
    ``COST_FACTOR ** cost`` summed over their columns (``cost``: tokens), so that where the library is nearly
    degenerate (``cos(x1 - x2)`` and ``x1^2`` over small x) the simpler columns are tried first. Yields the ``keep``
    best selections of each step (columns, share left) and any that leaves less than ``EXACT``, after which it stops.
    Columns whose part outside the span of a selection is (near) zero never extend it."""
    n = t.shape[0]
    with np.errstate(all="ignore"):
        q0 = np.full(n, 1.0 / np.sqrt(n))
        r = t - q0 * (q0 @ t)
        total = float(r @ r)
        if not (np.isfinite(total) and total > 0) or F.shape[1] == 0:
            return
        base = np.einsum("ij,ij->j", F, F)
        penalty = np.log(COST_FACTOR) * np.asarray(cost, dtype=np.float64)
        # A selection: (columns, orthonormal basis of its span without the constant, residual, squared norm of each
        # column outside the span, log of its rank key).
        beam = [((), np.zeros((n, 0)), r, base - np.square(q0 @ F), 0.0)]
        for _ in range(max_terms):
            extensions: dict[frozenset, tuple[float, tuple, int, float]] = {}
            for state in beam:
                columns, Q, res, left, key = state
                rr = float(res @ res)
                gain = np.square(res @ F) / left
                bad = ~(left > 1e-8 * base) | ~np.isfinite(gain)
                after = np.log(np.maximum(rr - np.where(bad, 0.0, gain), 1e-300 * total) / total)
                ranked = np.where(bad, np.inf, after + penalty)
                ranked[list(columns)] = np.inf
                for j in np.argsort(ranked)[:width]:
                    if not np.isfinite(ranked[j]):
                        break
                    chosen = frozenset((*columns, int(j)))
                    k = key + penalty[j] + after[j] - (np.log(rr / total) if rr > 0 else 0.0)
                    if chosen not in extensions or k < extensions[chosen][0]:
                        extensions[chosen] = (float(k), state, int(j), float(after[j]))
            if not extensions:
                return
            best = sorted(extensions.values(), key=lambda e: e[0])[:width]
            beam = []
            for k, (columns, Q, res, left, _), j, _ in best:
                v = F[:, j] - q0 * (q0 @ F[:, j]) - Q @ (Q.T @ F[:, j])
                q = v / np.linalg.norm(v)
                beam.append(((*columns, j), np.concatenate([Q, q[:, None]], axis=1), res - q * (q @ res),
                             left - np.square(q @ F), k))
            shares = [float(s[2] @ s[2]) / total for s in beam]
            for rank, (state, share) in enumerate(zip(beam, shares)):
                if rank < keep or share < EXACT:      # an exact selection is a candidate wherever it ranks
                    yield list(state[0]), share
            if min(shares) < EXACT:
                return


def _sum(terms: Sequence[list[str]]) -> list[str]:
    """``C + C t1 + C t2 + ...`` as prefix tokens."""
    out = [CONSTANT]
    for term in terms:
        out = ["+", *out, "*", CONSTANT, *term]
    return out


def _term_tokens(term: tuple[list[str] | None, list[str]]) -> list[str]:
    mult, feature = term
    return list(feature) if mult is None else ["*", *mult, *feature]


@dataclass(frozen=True)
class Screen:
    """One screen: a transform of the target, and for ``over``/``over_square`` the divisor (tokens, constants)."""
    transform: str
    divisor: tuple[tuple[str, ...], tuple[float, ...]] | None = None


def target(screen: Screen, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray] | None:
    """(the transformed target, the sign that undoes it, the rows it is defined on) of a screen, or None where it
    does not apply: a y that changes sign under ``log`` or a square root, or a transform undefined on more than
    ``MAX_UNDEFINED`` of the rows (``1/y`` or ``log|y|`` of a y that underflows to zero, a divisor zero there)."""
    rows = np.ones(y.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        if screen.divisor is not None:
            f = _evaluate(screen.divisor[0], X, screen.divisor[1])
            if f is None:
                return None
            rows &= f != 0
            y = y / np.where(rows, f, 1.0)
        kind = screen.transform
        if kind in ("inv", "log"):
            rows &= y != 0
        sign = 1.0 if np.all(y[rows] >= 0) else -1.0 if np.all(y[rows] <= 0) else 0.0
        if kind in ("y", "over", "rational"):
            t = y
        elif kind == "inv":
            t = 1.0 / np.where(rows, y, 1.0)
        elif kind in ("log", "square", "over_square"):
            if not sign:
                return None
            t = np.log(np.abs(np.where(rows, y, 1.0))) if kind == "log" else np.square(y)
        else:
            raise ValueError(f"unknown transform {kind!r}")
        rows &= np.isfinite(t)
    if rows.sum() < (1.0 - MAX_UNDEFINED) * y.shape[0]:
        return None
    return t[rows], sign, rows


def laws(screen: Screen, sign: float, numerator: list[str], denominator: list[str] | None = None
         ) -> list[list[str]]:
    """The candidates that undo a screen's transform of ``numerator`` (``C + C t1 + ...``). A rational screen's
    ``denominator`` (``C d1 + C d2 + ...``) gives two: ``N / (1 + D)`` and ``N / D`` (its columns are centred in the
    selection, so the constant the law's denominator needs may be anything, zero included)."""
    kind = screen.transform
    negate = ["neg"] if sign < 0 else []
    if kind == "rational":
        if not denominator:
            return [numerator]
        return [["/", *numerator, "+", "1", *denominator], ["/", *numerator, *denominator]]
    if kind == "y":
        return [numerator]
    if kind == "inv":
        return [["inv", *numerator]]
    if kind == "log":
        return [[*negate, "exp", *numerator]]
    if kind == "square":
        return [[*negate, "pow1_2", *numerator]]
    if kind == "over":
        return [["*", *screen.divisor[0], *numerator]]
    return [["*", *screen.divisor[0], *negate, "pow1_2", *numerator]]   # over_square


def screen_laws(screen: Screen, X: np.ndarray, y: np.ndarray, library: Library, w: np.ndarray | None = None,
                max_terms: int = MAX_TERMS, got: tuple | None = None) -> list[list[str]]:
    """The candidates of one screen: one per step of the selection (``select``), simplest first. ``got``: the
    screen's ``target`` on these rows when the caller has it already."""
    got = target(screen, X, y) if got is None else got
    if got is None or library.values.shape[1] == 0:
        return []
    t, sign, rows = got
    F = library.values[rows]
    terms = library.terms
    if screen.transform == "rational":
        # y = N - y (D - 1): the columns of N, then y times those of D. D's are centred: a combination of them that
        # is constant (sin^2 + cos^2) would otherwise write y = c y, an exact fit of nothing.
        scaled = y[rows] / np.sqrt(np.mean(np.square(y[rows])))
        F = np.concatenate([F, (F - F.mean(axis=0)) * scaled[:, None]], axis=1)
    sw = None if w is None else np.sqrt(np.asarray(w, dtype=np.float64)[rows])
    if sw is not None:
        t, F = t * sw, F * sw[:, None]
    n_library = len(terms)
    cost = np.array([len(_term_tokens(term)) for term in terms], dtype=np.float64)
    if screen.transform == "rational":
        cost = np.concatenate([cost, cost + 2])
    out = []
    for chosen, _share in select(t, F, cost, max_terms):
        numerator = [_term_tokens(terms[j]) for j in chosen if j < n_library]
        denominator = [_term_tokens(terms[j - n_library]) for j in chosen if j >= n_library]
        out += laws(screen, sign, _sum(numerator), _sum_free(denominator) if denominator else None)
    return out


def _sum_free(terms: Sequence[list[str]]) -> list[str]:
    """``C d1 + C d2 + ...`` (no constant term) as prefix tokens."""
    out = ["*", CONSTANT, *terms[0]]
    for term in terms[1:]:
        out = ["+", *out, "*", CONSTANT, *term]
    return out


class LinearLaws:
    """The queue of screens of one search, run a few per round (``per_round``): the data's own transforms first,
    then ``y / f`` and ``(y / f)^2`` for each best formula ``f`` not divided by before, then for each variable.
    Called as ``search``'s ``laws(parents, X, y, w)``; the library is built once, on the first call's rows."""

    def __init__(self, per_round: int, allows: Callable[[str], bool] | None = None, seed: int = 0,
                 max_terms: int = MAX_TERMS, max_length: int = MAX_LENGTH):
        self.per_round, self.allows, self.max_terms, self.max_length = per_round, allows, max_terms, max_length
        self.rng = np.random.default_rng(seed)
        self.queue: list[Screen] = [Screen(kind) for kind in TRANSFORMS]
        self.divided: set[tuple[str, ...]] = set()
        self.rows: np.ndarray | None = None
        self.library: Library | None = None
        self.variables_queued = False
        self.done = 0

    def _divisors(self, parents: Sequence) -> list[Screen]:
        out = []
        for p in parents:
            key = tuple(p.tokens)
            if key in self.divided or CONSTANT == key[0] and len(key) == 1:
                continue
            self.divided.add(key)
            out += [Screen(kind, (key, tuple(float(c) for c in p.constants))) for kind in DIVIDED]
        return out

    @property
    def pending(self) -> bool:
        """Whether screens are left (the variables' are queued once the rest are done): the search goes on."""
        return self.per_round > 0 and (bool(self.queue) or not self.variables_queued)

    def __call__(self, parents: Sequence, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> list[list[str]]:
        if self.per_round < 1:
            return []
        if self.rows is None:
            self.rows = (np.arange(X.shape[0]) if X.shape[0] <= ROWS
                         else np.sort(self.rng.choice(X.shape[0], ROWS, replace=False)))
            self.library = Library.of(X[self.rows], self.allows)
        Xs, ys = X[self.rows], np.asarray(y, dtype=np.float64)[self.rows]
        ws = None if w is None else np.asarray(w)[self.rows]
        self.queue += self._divisors(parents)
        if not self.queue and not self.variables_queued:
            self.variables_queued = True
            self.queue = [Screen(kind, ((_var(i),), ())) for i in range(X.shape[1]) for kind in DIVIDED]
        out: list[list[str]] = []
        ran = 0
        while ran < self.per_round and self.queue:
            screen = self.queue.pop(0)
            got = target(screen, Xs, ys)
            if got is None:                       # does not apply to these data: costs no turn
                continue
            ran += 1
            self.done += 1
            for child in screen_laws(screen, Xs, ys, self.library, ws, self.max_terms, got):
                if len(child) <= self.max_length and (self.allows is None or all(self.allows(t) for t in child)):
                    out.append(child)
        return out
