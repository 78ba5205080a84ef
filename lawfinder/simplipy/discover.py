"""Offline rule discovery: enumerate small expressions, group numerically equal ones, keep verified rewrites.

Level by level (expression length n = 1..max_tokens): every operator over already canonical children (engine fixed
points of shorter length) is built and simplified by the engine with the rules found so far; the fixed points are
the canonical expressions of length n. Each is evaluated on probe points in four blocks (x in (0.1, 0.9), in (1.1,
3), negative, mixed signs). An expression is filed under "block set D + rounded values on D" for every set D of
blocks where it is defined, so a canonical expression S of length n meets every shorter T that agrees with it
wherever S is defined (T may be defined on more). The best such T (shortest, fewest constants, first in tree order)
gives a candidate rule S -> T with variables renamed to pattern variables; it is kept only if it holds on 2,000
fresh points including domain edges (float check, misses re-judged at 50 digits with mpmath) and, for rules with
``<constant>``, for several constant values. Kept rules join the engine before the next level (a Kruskal-like
sweep: longer expressions are only built from what is still canonical).

``enumerate_level`` is the unit of parallel work: with Ray initialised ``discover`` runs it as Ray tasks.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import numpy as np

from ..overrides import lookup
from .operators import BINARY, CONSTANT, OPERATORS, UNARY
from .rules import Rule, RuleSet
from .rewrite.engine import Engine
from .rewrite.terms import leaf_number
from .tokens import from_tree, is_variable


@dataclass(frozen=True)
class DiscoverConfig:
    """What to enumerate: expressions up to ``max_tokens`` over these operators and leaves (``n_variables``
    variables, ``literals``, optionally ``<constant>``); ``seed`` fixes the probe and verification points."""

    max_tokens: int = 5
    unary: tuple[str, ...] = tuple(u for u in UNARY if u not in ("mult3", "mult4", "mult5", "div3", "div4", "div5"))
    binary: tuple[str, ...] = tuple(b for b in BINARY if b != "pow")
    n_variables: int = 2
    literals: tuple[str, ...] = ("1", "2")
    with_constant: bool = True
    seed: int = 0
    chunk: int = 4000  # expressions per task

    def leaves(self) -> list[tuple]:
        out = [(f"x{i + 1}",) for i in range(self.n_variables)] + [(t,) for t in self.literals]
        return out + ([(CONSTANT,)] if self.with_constant else [])


PRESETS = {
    # The shipped rule set: every operator but the larger integer scalings (pure coefficients, which the engine's
    # algebra handles), two variables, <constant>, literals 1 and 2, patterns up to 4 tokens. Measured: the 5-token
    # set ("full", ~1,500 rules, about a minute on 2 cores) shortens outputs by only 0.1-0.2% more but makes
    # simplification 13-25% slower, the trade Flash-ANSR also makes (it runs SimpliPy with patterns up to 4).
    "shipped": DiscoverConfig(max_tokens=4),
    "full": DiscoverConfig(max_tokens=5),
    # A few seconds: the corpus operators, up to 4 tokens (tests and smoke runs).
    "small": DiscoverConfig(max_tokens=4, unary=("neg", "inv", "abs", "sin", "cos", "exp", "log", "pow2", "pow1_2",
                                                 "asin", "acos")),
}


# ------------------------------------------------------------------------------------------------ probe points
N_BLOCK = 4
_BLOCKS = ((0.1, 0.9, 0.1, 0.9), (1.1, 3.0, 1.1, 3.0), (-3.0, -0.1, -3.0, -0.1), (0.2, 2.5, -2.5, -0.2))
_CONST = 0.7373


def probe_points(n_variables: int, seed: int) -> np.ndarray:
    """(4 blocks * N_BLOCK, n_variables): the points every enumerated expression is evaluated on."""
    rng = np.random.default_rng(seed)
    rows = []
    for lo1, hi1, lo2, hi2 in _BLOCKS:
        block = np.empty((N_BLOCK, n_variables))
        block[:, 0] = rng.uniform(lo1, hi1, N_BLOCK)
        for j in range(1, n_variables):
            block[:, j] = rng.uniform(lo2, hi2, N_BLOCK)
        rows.append(block)
    return np.concatenate(rows)


def leaf_values(leaf: tuple, X: np.ndarray) -> np.ndarray:
    tok = leaf[0]
    if tok == CONSTANT:
        return np.full(X.shape[0], _CONST)
    if is_variable(tok):
        return X[:, int(tok[1:]) - 1].copy()
    return np.full(X.shape[0], leaf_number(leaf))


def _rounded(values: np.ndarray) -> np.ndarray:
    """8 significant digits (+0.0 for -0.0), so values equal up to float noise file under one key."""
    with np.errstate(all="ignore"):
        mag = np.where(values == 0, 1.0, 10.0 ** (7 - np.floor(np.log10(np.abs(values)))))
        out = np.round(values * mag) / mag
    return np.where(np.isfinite(out), out, 0.0) + 0.0


def _blocks(values: np.ndarray) -> np.ndarray:
    """(n, 4) bool: the expression is finite (and not huge) on every point of the block."""
    with np.errstate(all="ignore"):
        ok = np.isfinite(values) & (np.abs(values) < 1e8)
    return ok.reshape(len(values), len(_BLOCKS), N_BLOCK).all(axis=2)


def _key(r: np.ndarray, chosen: tuple) -> tuple:
    return (chosen, tuple(r.reshape(len(_BLOCKS), N_BLOCK)[list(chosen)].ravel().tolist()))


def keys_of(r: np.ndarray, ok: np.ndarray) -> list[tuple]:
    """(block set, rounded values) for every non-empty set of blocks on which the expression is defined."""
    blocks = [b for b in range(len(_BLOCKS)) if ok[b]]
    return [_key(r, tuple(b for i, b in enumerate(blocks) if mask >> i & 1)) for mask in range(1, 1 << len(blocks))]


def own_key(r: np.ndarray, ok: np.ndarray) -> tuple | None:
    """The key over every block where the expression is defined (None if it is defined on no whole block)."""
    blocks = tuple(b for b in range(len(_BLOCKS)) if ok[b])
    return _key(r, blocks) if blocks else None


# ------------------------------------------------------------------------------------------------- enumeration
def count_constants(t: tuple) -> int:
    return (t[0] == CONSTANT) if len(t) == 1 else sum(count_constants(k) for k in t[1:])


def _has_variable(t: tuple) -> bool:
    if len(t) == 1:
        return is_variable(t[0]) or t[0] == CONSTANT
    return any(_has_variable(k) for k in t[1:])


def enumerate_level(jobs: list, trees: dict, values: dict, rules: list[Rule], X: np.ndarray) -> dict:
    """Build every job's candidates and keep the engine's fixed points.

    A job is ``(op, la, lb, start, stop)``: operator ``op`` over children of lengths ``la`` (and ``lb`` for binary
    operators) taking first children ``start:stop``. ``trees[l]`` / ``values[l]`` are the canonical expressions of
    length l and their values on ``X``. Returns the fixed points, their values, and counts."""
    eng = Engine(rules)
    out_trees: list[tuple] = []
    out_vals: list[np.ndarray] = []
    built = 0
    for op, la, lb, start, stop in jobs:
        f = OPERATORS[op].numpy
        first = trees[la][start:stop]
        if lb is None:
            for i, a in enumerate(first):
                built += 1
                t = (op, a)
                if eng.node(op, (a,)) == t and _has_variable(a):
                    out_trees.append(t)
                    with np.errstate(all="ignore"):
                        out_vals.append(f(values[la][start + i]))
            continue
        for i, a in enumerate(first):
            va = values[la][start + i]
            for j, b in enumerate(trees[lb]):
                built += 1
                t = (op, a, b)
                if eng.node(op, (a, b)) == t and (_has_variable(a) or _has_variable(b)):
                    out_trees.append(t)
                    with np.errstate(all="ignore"):
                        out_vals.append(f(va, values[lb][j]))
    vals = np.array(out_vals, dtype=float).reshape(len(out_trees), X.shape[0])
    return {"trees": out_trees, "values": vals, "built": built}


def level_jobs(n: int, config: DiscoverConfig, trees: dict) -> list[tuple]:
    jobs = []
    for op in config.unary:
        m = len(trees.get(n - 1, []))
        jobs += [(op, n - 1, None, s, min(m, s + config.chunk)) for s in range(0, m, config.chunk)]
    for op in config.binary:
        for la in range(1, n - 1):
            lb = n - 1 - la
            ma, mb = len(trees.get(la, [])), len(trees.get(lb, []))
            if not ma or not mb:
                continue
            step = max(1, config.chunk // mb)
            jobs += [(op, la, lb, s, min(ma, s + step)) for s in range(0, ma, step)]
    return jobs


def _batches(jobs: list, trees: dict, config: DiscoverConfig, n_batches: int) -> list[list]:
    """Group jobs into about ``n_batches`` batches of similar work (number of candidates)."""
    def work(job):
        op, la, lb, s, e = job
        return (e - s) * (1 if lb is None else len(trees[lb]))

    batches: list[list] = [[] for _ in range(max(1, n_batches))]
    loads = [0] * len(batches)
    for job in sorted(jobs, key=work, reverse=True):
        i = loads.index(min(loads))
        batches[i].append(job)
        loads[i] += work(job)
    return [b for b in batches if b]


# ------------------------------------------------------------------------------------------------ verification
def _verification_points(n_variables: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    n = 2000
    edges = np.array([0.0, 1.0, -1.0, math.pi / 2, -math.pi / 2, math.pi, 2.0, 0.5])
    cols = []
    for _ in range(n_variables):
        parts = [
            rng.uniform(-5, 5, 600),
            rng.choice([-1, 1], 600) * 10 ** rng.uniform(-4, 2, 600),
            rng.choice(edges, 500) + rng.choice([-1, 1], 500) * 10 ** rng.uniform(-9, -2, 500),
            rng.uniform(-1.2, 1.2, 300),
        ]
        cols.append(rng.permutation(np.concatenate(parts))[:n])
    X = np.stack(cols, axis=1)
    X[:200, 1:] = X[:200, :1] * rng.choice([1.0, -1.0, 1 + 1e-7], (200, 1))  # near x1 = +-x2
    return X


def verify_batch(pairs: list[tuple], n_variables: int, seed: int) -> list[bool]:
    """``verify_rule`` for each ``(source, target)``: the unit of parallel work for verification."""
    X = _verification_points(n_variables, seed)
    quick = X[:: max(1, len(X) // 200)]
    return [verify_rule(s, t, n_variables, seed, X, quick) for s, t in pairs]


def verify_rule(source: tuple, target: tuple, n_variables: int, seed: int, X: np.ndarray | None = None,
                quick: np.ndarray | None = None) -> bool:
    """True if ``target`` equals ``source`` wherever ``source`` is defined, on fresh points and constants (a
    200-point screen first, most candidates fail there)."""
    from .compile import compile_expression
    from .simplify_check import mp_value

    src, dst = from_tree(source), from_tree(target)
    if X is None:
        X = _verification_points(n_variables, seed)
    f_s, f_t = compile_expression(src), compile_expression(dst)
    if quick is not None:
        cs = [_CONST] if f_s.n_constants else []
        ys, yt = f_s(quick, cs), f_t(quick, cs[: f_t.n_constants])
        with np.errstate(all="ignore"):
            defined = np.isfinite(ys) & (np.abs(ys) < 1e12)
            bad = defined & ~(np.isfinite(yt) & (np.abs(yt - ys) <= 1e-6 * (1 + np.abs(ys))))
        if bad.sum() > 4:
            return False
    consts = [_CONST, -2.3, 0.01, 17.0, -0.4] if f_s.n_constants else [None]
    for c in consts:
        cs = [] if c is None else [c]
        ys = f_s(X, cs)
        yt = f_t(X, cs[: f_t.n_constants])
        with np.errstate(all="ignore"):
            defined = np.isfinite(ys) & (np.abs(ys) < 1e12)
            bad = defined & ~(np.isfinite(yt) & (np.abs(yt - ys) <= 1e-9 * (1 + np.abs(ys))))
        idx = np.flatnonzero(bad)
        if len(idx) > 40 or defined.sum() < 100:
            return False
        for j in idx:
            a = mp_value(src, X[j], cs)
            if a is None:
                continue
            b = mp_value(dst, X[j], cs[: f_t.n_constants])
            if b is None or abs(a - b) > 1e-9 * (1 + abs(a)):
                return False
    return True


def to_rule(source: tuple, target: tuple) -> Rule | None:
    """Variables -> pattern variables in order of first appearance; None if the target has a variable the source
    lacks."""
    names: dict[str, str] = {}
    src = []
    for tok in from_tree(source):
        if is_variable(tok):
            tok = names.setdefault(tok, f"_{len(names)}")
        src.append(tok)
    dst = []
    for tok in from_tree(target):
        if is_variable(tok):
            if tok not in names:
                return None
            tok = names[tok]
        dst.append(tok)
    return Rule(tuple(src), tuple(dst))


# ---------------------------------------------------------------------------------------------------- the sweep
@dataclass
class DiscoverResult:
    rules: list[Rule]
    stats: list[dict] = field(default_factory=list)
    config: DiscoverConfig | None = None

    def ruleset(self) -> RuleSet:
        meta = {"config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.config).items()},
                "levels": self.stats, "n_rules": len(self.rules)}
        return RuleSet(self.rules, meta)


def _rank(t: tuple, n: int) -> tuple:
    return (n, count_constants(t), t)


def _split(items: list, n: int) -> list[list]:
    size = max(1, -(-len(items) // max(1, n)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def discover(config: DiscoverConfig, map_batches: Callable | None = None,
             progress: Callable[[str], None] = print, workers: int = 1) -> DiscoverResult:
    """Run the sweep. ``map_batches(fn, batches, *shared)`` runs ``fn(batch, *shared)`` on every batch and
    returns the results in order (Ray tasks, say); the default runs them here, one after another."""
    X = probe_points(config.n_variables, config.seed)
    trees: dict[int, list[tuple]] = {1: config.leaves()}
    values: dict[int, np.ndarray] = {1: np.stack([leaf_values(t, X) for t in trees[1]])}
    table: dict[tuple, tuple] = {}  # key -> best (rank, tree)
    rules: list[Rule] = []
    seen_rules: set = set()
    stats = []

    def file(t: tuple, n: int, r: np.ndarray, ok: np.ndarray) -> None:
        if count_constants(t) > 1:
            return
        rank = _rank(t, n)
        for key in keys_of(r, ok):
            old = table.get(key)
            if old is None or rank < old[0]:
                table[key] = (rank, t)

    for t, r, ok in zip(trees[1], _rounded(values[1]), _blocks(values[1])):
        file(t, 1, r, ok)
    if map_batches is None:
        def map_batches(fn, batches, *args):
            return [fn(b, *args) for b in batches]

    for n in range(2, config.max_tokens + 1):
        t0 = time.perf_counter()
        jobs = level_jobs(n, config, trees)
        batches = _batches(jobs, trees, config, max(1, workers) * 4)
        results = map_batches(enumerate_level, batches, trees, values, list(rules), X)
        canon_t, canon_v, built = [], [], 0
        for res in results:
            canon_t += res["trees"]
            if len(res["trees"]):
                canon_v.append(res["values"])
            built += res["built"]
        vals = np.concatenate(canon_v) if canon_v else np.empty((0, X.shape[0]))
        rounded, defined = _rounded(vals), _blocks(vals)
        # Candidate rules: a canonical expression meets a shorter one equal wherever it is defined.
        candidates = []
        for t, r, ok in zip(canon_t, rounded, defined):
            if count_constants(t) > 1:
                continue
            key = own_key(r, ok)
            if key is None:
                continue
            hit = table.get(key)
            if hit is not None and hit[0][0] < n and count_constants(hit[1]) <= count_constants(t):
                candidates.append((t, hit[1]))
        kept, reducible, todo, todo_rules, queued = [], set(), [], [], set()
        for s, t in candidates:
            rule = to_rule(s, t)
            if rule is None or rule in queued:
                continue
            queued.add(rule)
            todo.append((s, t))
            todo_rules.append(rule)
        verdicts = [v for chunk in map_batches(verify_batch, _split(todo, max(1, workers) * 4), config.n_variables,
                                               config.seed + n) for v in chunk]
        ok_rules = {r for r, v in zip(todo_rules, verdicts) if v}
        for s, t in candidates:
            rule = to_rule(s, t)
            if rule in ok_rules:
                reducible.add(s)
                if rule not in seen_rules:
                    seen_rules.add(rule)
                    kept.append(rule)
        rules += kept
        keep = [i for i, t in enumerate(canon_t) if t not in reducible]
        trees[n] = [canon_t[i] for i in keep]
        if n < config.max_tokens:  # the last level's expressions are never children or targets
            values[n] = vals[keep]
            for i in keep:
                file(canon_t[i], n, rounded[i], defined[i])
        stat = {"length": n, "built": built, "canonical": len(canon_t), "candidates": len(candidates),
                "rules": len(kept), "seconds": round(time.perf_counter() - t0, 2)}
        stats.append(stat)
        progress(f"length {n}: built {built}, canonical {len(canon_t)}, candidate rules {len(candidates)}, "
                 f"kept {len(kept)} ({stat['seconds']} s)")
    return DiscoverResult(rules, stats, config)


def with_overrides(config: DiscoverConfig, **kw) -> DiscoverConfig:
    return replace(config, **{k: v for k, v in kw.items() if v is not None})


def preset(name: str, **overrides) -> DiscoverConfig:
    """A rule-discovery preset with the given (not None) fields overridden; an unknown name is a one-line error."""
    return with_overrides(lookup(PRESETS, name, "rule-discovery preset"), **overrides)
