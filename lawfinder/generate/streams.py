"""Seeded random streams: one ``(seed, worker_index, stream)`` triple -> independent, reproducible generators.

numpy's ``SeedSequence`` with ``spawn_key=(worker_index, stream)`` derives statistically independent streams, so
producer ``i`` and a restarted producer (same ``i``, next ``stream``) never replay each other's data. Pure-Python
sampling code draws its uniforms from a ``UniformPool`` (blocks of numpy uniforms) because calling
``Generator.random()`` once per draw costs about a microsecond each.
"""

from __future__ import annotations

import numpy as np


def seed_sequence(seed: int, worker_index: int = 0, stream: int = 0) -> np.random.SeedSequence:
    for name, value in (("seed", seed), ("worker_index", worker_index), ("stream", stream)):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(int(worker_index), int(stream)))


def generators(seed: int, worker_index: int = 0, stream: int = 0, n: int = 2) -> list[np.random.Generator]:
    """``n`` independent generators for one worker stream (one per consumer, so their draws never interleave)."""
    return [np.random.Generator(np.random.PCG64(child)) for child in seed_sequence(seed, worker_index, stream).spawn(n)]


class UniformPool:
    """U[0, 1) floats served one at a time from blocks drawn from ``rng``; the sequence depends only on ``rng``."""

    __slots__ = ("_rng", "_block", "_values", "_i")

    def __init__(self, rng: np.random.Generator, block: int = 8192):
        self._rng = rng
        self._block = block
        self._values: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._values):
            self._values = self._rng.random(self._block).tolist()
            i = 0
        self._i = i + 1
        return self._values[i]

    def take(self, k: int) -> list[float]:
        """The next ``k`` values as a list: the same values ``k`` calls would give, for one call's cost."""
        i = self._i
        values = self._values
        if i + k <= len(values):
            self._i = i + k
            return values[i:i + k]
        out = values[i:]
        while len(out) < k:
            self._values = values = self._rng.random(self._block).tolist()
            j = min(k - len(out), len(values))
            out += values[:j]
            self._i = j
        return out

    def below(self, n: int) -> int:
        """A uniform integer in ``0..n-1``."""
        return scaled_index(self(), n)


def scaled_index(u: float, n: int) -> int:
    """The integer in ``0..n-1`` that ``u`` in [0, 1) falls on: uniform when ``u`` is."""
    return min(int(u * n), n - 1)
