"""The scaling-laws paper's generator: every expression tree up to a depth, canonicalised and deduplicated, then per
base expression many (expression, dataset) pairs with random integer constants.

Enumeration is bottom-up: the depth-d candidates are built from the *canonical* expressions of depth < d (a
simplifier that is a normal form gives simplify(op(a, b)) == simplify(op(simplify(a), simplify(b)))), and ``+``/``*``
take each unordered pair of operands once. That turns ~32 million raw depth-3 trees over {x1, x2} into a few
million simplifier calls. The base set is cached on disk (``LAWFINDER_CACHE``, default ``~/.cache/lawfinder``)
under a key of the enumeration settings and the simplifier's source, so it is built once per machine.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import msgpack
import numpy as np

from ..atomic import write_bytes
from ..simplipy.latex_tokens import latex_tokens
from ..simplipy.operators import CONSTANT, OPERATORS
from ..simplipy.tokens import is_variable
from .config import GeneratorConfig
from .support_points import sample_integer_constants

COMMUTATIVE = frozenset({"+", "*"})
_NON_FINITE = frozenset({"inf", "-inf", "nan", "zoo", 'float("inf")', 'float("-inf")', 'float("nan")'})


def enumerate_trees(unary: Sequence[str], binary: Sequence[str], leaves: Sequence[str], max_depth: int,
                    canonical: Callable[[list[str]], list[str]] | None = None,
                    progress: Callable[[int, int, int], None] | None = None) -> tuple[list[tuple[str, ...]], dict]:
    """All distinct canonical forms of trees of depth <= ``max_depth`` (a leaf has depth 0), in a fixed order.

    Returns ``(expressions, counts)``; ``counts`` has the raw tree count per depth and the canonical calls made.
    """
    canonical = canonical or (lambda tokens: tokens)
    seen: dict[tuple[str, ...], None] = {}  # insertion-ordered set: the order is deterministic
    for leaf in leaves:
        seen.setdefault(tuple(canonical([leaf])), None)
    raw = len(leaves)
    counts = {"raw_trees": {0: raw}, "canonical_calls": len(leaves)}
    for depth in range(1, max_depth + 1):
        previous = list(seen)
        raw = raw + len(unary) * raw + len(binary) * raw * raw
        counts["raw_trees"][depth] = raw
        candidates = len(unary) * len(previous)
        for op in unary:
            for a in previous:
                seen.setdefault(tuple(canonical([op, *a])), None)
        for op in binary:
            for i, a in enumerate(previous):
                start = i if op in COMMUTATIVE else 0
                for b in previous[start:]:
                    seen.setdefault(tuple(canonical([op, *a, *b])), None)
                candidates += len(previous) - start
                if progress is not None and i % 200 == 0:
                    progress(depth, i, len(previous))
        counts["canonical_calls"] += candidates
    return list(seen), counts


_LATEX_REWRITES = {
    **{f"mult{k}": lambda a, k=k: ["*", str(k), *a] for k in range(2, 6)},
    **{f"div{k}": lambda a, k=k: ["/", *a, str(k)] for k in range(2, 6)},
    "pow1_4": lambda a: ["pow1_2", "pow1_2", *a],
    "abs": lambda a: ["pow1_2", "pow2", *a],  # |x| = sqrt(x**2) on the reals
}


def spell_for_latex(tokens: Sequence[str]) -> list[str]:
    """Rewrite the simplifier's shorthand operators that the LaTeX vocabulary lacks into equal expressions it has
    (``mult2 x`` -> ``2·x``, ``div3 x`` -> ``x/3``, ``pow1_4`` -> two square roots, ``abs x`` -> ``sqrt(x**2)``)."""
    stack: list[list[str]] = []
    for token in reversed(tokens):
        op = OPERATORS.get(token)
        if op is None:
            stack.append([token])
            continue
        args = [stack.pop() for _ in range(op.arity)]
        rewrite = _LATEX_REWRITES.get(token)
        stack.append(rewrite(args[0]) if rewrite is not None else [token, *(t for a in args for t in a)])
    return stack[0]


def keep_base(tokens: Sequence[str]) -> str | None:
    """Why a canonical expression (spelled for LaTeX) is not a base expression (None: keep it)."""
    if not any(is_variable(t) for t in tokens):
        return "no_variable"
    if any(t in _NON_FINITE for t in tokens):
        return "non_finite_token"
    try:
        latex_tokens(tokens)
    except ValueError:
        return "no_latex"  # e.g. a literal 0.5 the LaTeX vocabulary cannot spell
    return None


def _simplifier_fingerprint() -> str:
    """Hash of the simplifier's code and data, so a changed simplifier never reuses an old cache."""
    root = Path(__file__).resolve().parent.parent / "simplipy"
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".msgpack", ".json") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("LAWFINDER_CACHE", Path.home() / ".cache" / "lawfinder"))


def base_set_key(config: GeneratorConfig, simplified: bool) -> str:
    unary = [op for op, w in config.unary_operators if w > 0]
    binary = [op for op, w in config.binary_operators if w > 0]
    text = repr((unary, binary, config.max_variables, config.max_depth, simplified,
                 _simplifier_fingerprint() if simplified else None))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class BaseSet:
    """Base expressions packed as token ids (two million Python token lists would cost ~0.3 GB per producer)."""

    def __init__(self, vocab: list[str], ids: np.ndarray, offsets: np.ndarray, counts: dict, key: str = ""):
        self.vocab, self.ids, self.offsets, self.counts = vocab, ids, offsets, counts
        self.key = key  # the cache key it was stored under

    @classmethod
    def pack(cls, expressions: Sequence[Sequence[str]], counts: dict) -> "BaseSet":
        vocab = sorted({t for e in expressions for t in e})
        index = {t: i for i, t in enumerate(vocab)}
        lengths = np.fromiter((len(e) for e in expressions), dtype=np.int64, count=len(expressions))
        offsets = np.zeros(len(expressions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.fromiter((index[t] for e in expressions for t in e), dtype=np.uint16, count=int(offsets[-1]))
        return cls(vocab, ids, offsets, counts)

    def __len__(self) -> int:
        return self.offsets.size - 1

    def __getitem__(self, i: int) -> list[str]:
        return [self.vocab[j] for j in self.ids[self.offsets[i]:self.offsets[i + 1]].tolist()]

    def subset(self, keep: np.ndarray) -> "BaseSet":
        out = BaseSet.pack([self[i] for i in np.flatnonzero(keep).tolist()], self.counts)
        out.key = self.key
        return out

    def to_bytes(self) -> bytes:
        return msgpack.packb({"vocab": self.vocab, "ids": self.ids.tobytes(), "offsets": self.offsets.tobytes(),
                              "counts": self.counts}, use_bin_type=True)

    @classmethod
    def from_bytes(cls, data: bytes, key: str = "") -> "BaseSet":
        d = msgpack.unpackb(data, raw=False)
        return cls(d["vocab"], np.frombuffer(d["ids"], dtype=np.uint16), np.frombuffer(d["offsets"], dtype=np.int64),
                   d["counts"], key)


def _image_codes(tokens: Sequence[str], X: np.ndarray) -> np.ndarray:
    from ..simplipy.interpret import evaluate
    from .fingerprint import quantize

    return quantize(evaluate(tokens, X))


def build_base_set(config: GeneratorConfig, simplify: Callable | None, verbose: bool = False) -> BaseSet:
    """Enumerate, canonicalise, deduplicate and filter.

    ``counts`` records the raw trees per depth, the simplifier calls, the distinct canonical forms, what was
    dropped and why, and ``numerically_distinct``: how many different value vectors the kept expressions have on 24
    fixed points (a lower bound on the distinct functions, i.e. what a perfect canonicaliser would leave)."""
    unary = [op for op, w in config.unary_operators if w > 0]
    binary = [op for op, w in config.binary_operators if w > 0]
    leaves = [f"x{i + 1}" for i in range(config.max_variables)]
    started = time.perf_counter()

    def progress(depth: int, i: int, n: int) -> None:
        if verbose:
            print(f"\rdepth {depth}: operand {i}/{n}  ({time.perf_counter() - started:.0f} s)", end="",
                  file=sys.stderr, flush=True)

    canonical_forms, counts = enumerate_trees(unary, binary, leaves, config.max_depth, simplify, progress)
    if verbose:
        print(file=sys.stderr)
    X = np.random.default_rng(0).uniform(-3.0, 3.0, (config.max_variables, 24))
    undefined = _image_codes(["/", "0", "0"], X)  # the codes of NaN at every point
    dropped: dict[str, int] = {}
    expressions: dict[tuple[str, ...], None] = {}
    images: set[bytes] = set()
    for tokens in canonical_forms:
        tokens = spell_for_latex(tokens)
        reason = keep_base(tokens)
        if reason is None:
            codes = _image_codes(tokens, X)
            if np.array_equal(codes, undefined):
                reason = "undefined"  # NaN everywhere, e.g. a leftover 0/0: no dataset could ever be drawn
        if reason is None:
            expressions.setdefault(tuple(tokens), None)
            images.add(codes.tobytes())
        else:
            dropped[reason] = dropped.get(reason, 0) + 1
    counts.update({"canonical_forms": len(canonical_forms), "dropped": dropped, "base_expressions": len(expressions),
                   "numerically_distinct": len(images), "seconds": time.perf_counter() - started,
                   "simplified": simplify is not None})
    counts["raw_trees"] = {str(k): v for k, v in counts["raw_trees"].items()}
    return BaseSet.pack(list(expressions), counts)


_LOADED: dict[tuple, BaseSet] = {}  # per process, so a second Generator neither re-reads nor re-keys the set


def load_or_build_base_set(config: GeneratorConfig, simplify: Callable | None, verbose: bool = False) -> BaseSet:
    settings = (tuple(op for op, w in config.unary_operators if w > 0),
                tuple(op for op, w in config.binary_operators if w > 0), config.max_variables, config.max_depth,
                simplify is not None, str(cache_dir()))
    if settings in _LOADED:
        return _LOADED[settings]
    key = base_set_key(config, simplify is not None)
    path = cache_dir() / f"scaling-laws-base-{key}.msgpack"
    if path.exists():
        base = BaseSet.from_bytes(path.read_bytes(), key)
    else:
        base = build_base_set(config, simplify, verbose)
        base.key = key
        write_bytes(path, base.to_bytes())
    _LOADED[settings] = base
    return base


def decontaminated(base: BaseSet, decontaminator) -> tuple[BaseSet, int]:
    """The base set without held-out expressions (the check drops constants, so inserted constants cannot undo
    it), cached next to the base set under a key of the held-out index too."""
    h = hashlib.blake2b(digest_size=8)
    for entry in decontaminator.entries:
        h.update(f"{entry['id']}|{entry['reduced']}|".encode())
    h.update(repr(decontaminator.design.to_dict()).encode())
    path = cache_dir() / f"scaling-laws-base-{base.key}-held-out-{h.hexdigest()}.msgpack"
    if path.exists():
        held_out = np.frombuffer(path.read_bytes(), dtype=np.int64)
    else:
        held_out = np.array([i for i in range(len(base)) if decontaminator.is_contaminated(base[i])], dtype=np.int64)
        write_bytes(path, held_out.tobytes())
    keep = np.ones(len(base), dtype=bool)
    keep[held_out] = False
    return (base.subset(keep) if held_out.size else base), int(held_out.size)


def insert_constants(tokens: Sequence[str], config: GeneratorConfig, rng: np.random.Generator
                     ) -> tuple[list[str], np.ndarray]:
    """Each node independently gets, with ``constant_probability``, an integer factor ``c·node`` or an offset
    ``node ± c`` (even odds); c is uniform on constant_low..constant_high without 0 (and without 1 for a factor).
    Returns the skeleton with ``<constant>`` slots and the values, in prefix order."""
    n = len(tokens)
    wrap = rng.random(n) < config.constant_probability
    kind = rng.random(n) < 0.5  # True: factor, False: offset
    factors = sample_integer_constants(config, rng, n, exclude=(0, 1))
    offsets = sample_integer_constants(config, rng, n, exclude=(0,))
    # Rebuild bottom-up so each node's wrapper sits around its whole subtree.
    stack: list[tuple[list[str], list[float]]] = []
    for i in range(n - 1, -1, -1):
        token = tokens[i]
        op = OPERATORS.get(token)
        if op is None:
            node = ([token], [])
        else:
            args = [stack.pop() for _ in range(op.arity)]
            node = ([token, *(t for a in args for t in a[0])], [v for a in args for v in a[1]])
        if wrap[i]:
            if kind[i]:
                node = (["*", CONSTANT, *node[0]], [float(factors[i]), *node[1]])
            else:
                c = int(offsets[i])
                node = (["+" if c > 0 else "-", *node[0], CONSTANT], [*node[1], float(abs(c))])
        stack.append(node)
    skeleton, values = stack[0]
    return skeleton, np.asarray(values, dtype=np.float64)


class ExhaustiveSource:
    """Serves (skeleton with constants, constant values): every base expression once per epoch, in a fresh random
    order each epoch, so ``pairs_per_expression`` epochs give the paper's k pairs per base expression."""

    def __init__(self, config: GeneratorConfig, rng: np.random.Generator, *, simplify, decontaminator, stats,
                 verbose: bool = False):
        self.config = config
        self.rng = rng
        self.stats = stats
        base = load_or_build_base_set(config, simplify, verbose)
        self.counts = base.counts
        if decontaminator is not None:
            base, held_out = decontaminated(base, decontaminator)
            stats.rejected["contaminated"] += held_out
        if not len(base):
            raise ValueError("the exhaustive generator's base set is empty")
        self.base = base
        self.epoch = 0
        self._order = np.zeros(0, dtype=np.int64)
        self._i = 0

    def __len__(self) -> int:
        return len(self.base)

    def next_skeleton(self) -> tuple[list[str], np.ndarray]:
        if self._i >= self._order.size:
            self._order = self.rng.permutation(len(self.base))
            self._i = 0
            self.epoch += 1
        expression = self.base[self._order[self._i]]
        self._i += 1
        self.stats.attempts += 1
        t0 = time.perf_counter()
        skeleton, values = insert_constants(expression, self.config, self.rng)
        self.stats.seconds["skeleton"] += time.perf_counter() - t0
        return skeleton, values


__all__ = ["BaseSet", "ExhaustiveSource", "build_base_set", "decontaminated", "enumerate_trees", "insert_constants",
           "keep_base", "load_or_build_base_set", "spell_for_latex"]
