"""Constant-free, rename-invariant fingerprints of expressions: the matching logic behind decontamination.

Two steps make "equal up to constants and up to renaming or permuting variables" checkable by hash look-ups:

1. ``reduce_skeleton``: numbers become ``<constant>``, then constants are pruned bottom-up (Flash-ANSR's rule: an
   operator with a constant operand is replaced by its other operand, an operator of constants only by a
   constant), constant scalings (``neg``, ``multK``, ``divK``) are dropped, ``a - b`` becomes ``a + b`` (the sign
   is a constant factor), ``C / x`` becomes ``inv(x)`` and ``C ** x`` becomes ``exp(x)``; variables are renamed
   ``x1..xd`` by first appearance. Any member of a skeleton's constant family reduces to the same expression, so
   whole families are held out (as in Flash-ANSR, e.g. every ``C*x + C`` matches a test law ``x``).
2. ``Fingerprinter``: a permutation-invariant numeric fingerprint of the reduced expression ``f(x1..xd)``.
   * The *signature* of variable ``v`` is ``f`` on K fixed points where ``x_v = u_k`` and every other variable
     equals ``t_k``. It does not depend on how the other variables are named, so renaming ``f`` permutes the
     signatures and their sorted multiset (the *signature key*) is invariant: a cheap first filter.
   * The *canonical image*: variables sorted by signature are given the columns of a fixed design of M points, and
     the rounded values are hashed. Variables with equal signatures (ties, e.g. the symmetric x1, x2 in x1*x2) are
     tried in every order and the smallest hash is kept, which is again invariant. Renamed or permuted variants
     of one function therefore share both keys, while functions that differ anywhere on the design do not.

Values are compared at about 6 significant digits (``quantize``), so float-rounding differences between equivalent
spellings do not matter. The domain is positive (0.5..3), where physics formulas are defined, so NaN-producing
domain differences between equivalent forms (log(x*y) vs log(x) + log(y)) are rare.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np

from ..simplipy.operators import ARITY, CONSTANT
from ..simplipy.tokens import is_variable
from ..simplipy.interpret import evaluate

_SCALINGS = frozenset({"neg", "mult2", "mult3", "mult4", "mult5", "div2", "div3", "div4", "div5"})
# The code of a float32 NaN bit pattern with the sign bit clear (no value's code takes it after the shift: every
# NaN is set to it explicitly).
_NAN = np.int32(0x7FC00000 >> 4)


_ARITY = ARITY
_IS_CONSTANT: dict[str, bool] = {}  # leaf token -> is it a constant (anything but a variable)?


def _constant_leaf(token: str) -> bool:
    known = _IS_CONSTANT.get(token)
    if known is None:
        known = _IS_CONSTANT[token] = not is_variable(token)  # <constant>, numbers, pi, e
    return known


def reduce_skeleton(tokens) -> tuple[list[str], int]:
    """Prefix tokens -> (constant-free reduced tokens over x1..xd, d). See the module docstring."""
    stack: list = []  # None stands for a constant subtree, a list for the tokens of any other subtree
    for token in reversed(tokens):
        arity = _ARITY.get(token)
        if arity is None:
            stack.append(None if _constant_leaf(token) else [token])
        elif arity == 1:
            a = stack.pop()
            if a is not None and token not in _SCALINGS:
                a.insert(0, token)
            stack.append(a)
        else:
            a = stack.pop()
            b = stack.pop()
            if a is None:
                # C/x is C*inv(x) and C**x is exp(x*log C): keep the part that is not a constant factor.
                if b is not None and token in ("/", "pow"):
                    b.insert(0, "inv" if token == "/" else "exp")
                stack.append(b)
            elif b is None:
                stack.append(a)
            else:
                a.insert(0, "+" if token == "-" else token)  # a - b = a + (-1)·b, and -1 is a constant factor
                a += b
                stack.append(a)
    reduced = stack[0] if stack[0] is not None else [CONSTANT]
    names: dict[str, str] = {}
    for i, t in enumerate(reduced):
        if t not in _ARITY and t != CONSTANT:
            name = names.get(t)
            if name is None:
                name = names[t] = f"x{len(names) + 1}"
            reduced[i] = name
    return reduced, len(names)


def quantize(y: np.ndarray) -> np.ndarray:
    """float64 values -> int32 codes, equal for values that agree to about 6 significant digits.

    Values round to float32 (beyond float32's range: ±inf), lose their 4 lowest mantissa bits (relative
    resolution 2**-19 ≈ 2e-6) and are read as integers; |y| < 1e-12 counts as 0 and every NaN gets one code."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        y = np.where(np.abs(y) < 1e-12, 0.0, y).astype(np.float32)  # also maps -0.0 to 0.0
    codes = y.view(np.int32) >> 4
    codes[np.isnan(y)] = _NAN
    return codes


def _digest(*arrays: np.ndarray) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


@dataclass
class Design:
    """The fixed evaluation points. Stored inside index files so that a shipped index never depends on how a numpy
    version draws random numbers."""

    slice_u: np.ndarray  # (K,) values of the probed variable
    slice_t: np.ndarray  # (K,) values of all other variables
    points: np.ndarray  # (M, max_d) canonical-image design; dimension d uses the first d columns
    max_orderings: int = 5040  # tie orderings tried (7!) before a signature match alone counts as a match

    @classmethod
    def default(cls, seed: int = 20240607, k: int = 8, m: int = 64, max_d: int = 32) -> "Design":
        rng = np.random.default_rng(seed)
        return cls(rng.uniform(0.5, 3.0, k), rng.uniform(0.5, 3.0, k), rng.uniform(0.5, 3.0, (m, max_d)))

    def to_dict(self) -> dict:
        return {"slice_u": self.slice_u.tolist(), "slice_t": self.slice_t.tolist(), "points": self.points.tolist(),
                "max_orderings": self.max_orderings}

    @classmethod
    def from_dict(cls, data: dict) -> "Design":
        return cls(np.asarray(data["slice_u"], dtype=np.float64), np.asarray(data["slice_t"], dtype=np.float64),
                   np.asarray(data["points"], dtype=np.float64), int(data["max_orderings"]))


class Fingerprinter:
    """Signature keys and canonical image hashes of reduced expressions (``reduce_skeleton`` output)."""

    def __init__(self, design: Design):
        self.design = design
        self._slices: dict[int, np.ndarray] = {}

    @property
    def max_d(self) -> int:
        return self.design.points.shape[1]

    def _slice_points(self, d: int) -> np.ndarray:
        """(d variables, d*K points): point block v probes variable v."""
        X = self._slices.get(d)
        if X is None:
            K = self.design.slice_u.size
            X = np.broadcast_to(self.design.slice_t[None, None, :], (d, d, K)).copy()  # (variable, block, k)
            for v in range(d):
                X[v, v, :] = self.design.slice_u
            X = X.reshape(d, d * K)
            self._slices[d] = X
        return X

    def signatures(self, reduced: list[str], d: int) -> np.ndarray:
        """(d, K) int32 codes: row v is variable x{v+1}'s signature."""
        return quantize(evaluate(reduced, self._slice_points(d))).reshape(d, -1)

    def signature_key(self, signatures: np.ndarray) -> bytes:
        rows = sorted(map(tuple, signatures.tolist()))
        return _digest(np.array([signatures.shape[0]], dtype=np.int64), np.array(rows, dtype=np.int64))

    def image_hash(self, reduced: list[str], signatures: np.ndarray) -> bytes | None:
        """Minimum image hash over the tie orderings; None when there are more than ``max_orderings``."""
        d = signatures.shape[0]
        if d > self.max_d:
            return None
        rows = [tuple(r) for r in signatures.tolist()]
        order = sorted(range(d), key=lambda v: rows[v])
        groups = [list(g) for _, g in itertools.groupby(order, key=lambda v: rows[v])]
        n_orderings = 1
        for g in groups:
            n_orderings *= _factorial(len(g))
        if n_orderings > self.design.max_orderings:
            return None
        design = self.design.points[:, :d].T
        blocks = []
        for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
            sequence = [v for group in choice for v in group]  # canonical position i -> variable sequence[i]
            columns = np.empty(d, dtype=np.int64)
            columns[sequence] = np.arange(d)  # variable v reads design column columns[v]
            blocks.append(design[columns])  # (d, M): row v holds variable v's design values
        codes = quantize(evaluate(reduced, np.concatenate(blocks, axis=1))).reshape(len(blocks), -1)
        return min(_digest(np.array([d], dtype=np.int64), c) for c in codes)


def _factorial(n: int) -> int:
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out
