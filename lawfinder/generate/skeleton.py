"""Random skeletons from the Flash-ANSR prior: operator count, Lample–Charton tree shape, operators, leaves.

Pure Python over precomputed cumulative tables, fed by a ``UniformPool``: a skeleton of ~15 operators costs a few
dozen table look-ups. The output is an unsimplified prefix token list with ``<constant>`` placeholders.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from ..simplipy.operators import CONSTANT
from .config import GeneratorConfig
from .streams import UniformPool

_LEAF_RUNS = [[0] * k for k in range(40)]  # runs of leaf slots, built once (read-only)


def _cumulative(weights: list[float]) -> list[float]:
    total = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0  # guard against rounding: a draw in [0, 1) always lands in a bucket
    return out


def operator_count_probabilities(config: GeneratorConfig) -> list[float]:
    """P(k) for k = 0..max_operators (zero below min_operators): ∝ exp(k**power / scale)."""
    logits = [k**config.operator_count_power / config.operator_count_scale for k in range(config.max_operators + 1)]
    top = max(logits[config.min_operators:])  # subtract the largest logit so exp cannot overflow
    raw = [math.exp(x - top) if k >= config.min_operators else 0.0 for k, x in enumerate(logits)]
    total = sum(raw)
    return [r / total for r in raw]


class TreeShapes:
    """Lample & Charton (2019)'s uniform sampler of unary-binary trees with a given number of operators.

    ``D[n][e]`` counts the ways to place ``n`` more operators when ``e`` slots are empty (leaf weight 1, unary weight
    ``p1``, binary ``p2``). The next operator goes into the empty slot after ``i`` skipped (leaf) slots with arity
    ``a`` with probability ``p_a * D[n-1][e-i-1+a] / D[n][e]``. Slots are visited in prefix order, so the prefix
    sequence is just: ``i`` leaves, the operator, ... and the slots still empty at the end are leaves.
    """

    def __init__(self, max_operators: int, p1: int = 1, p2: int = 1):
        self.p1, self.p2 = p1, p2
        width = 2 * max_operators + 2
        # Exact integers: the counts overflow floats' precision long before they overflow Python ints.
        D = [[0] + [1] * width]
        for n in range(1, max_operators + 1):
            row = [0]
            for e in range(1, width - n):
                row.append(row[e - 1] + p1 * D[n - 1][e] + p2 * D[n - 1][e + 1])
            D.append(row)
        self.D = D
        # _tables[ops][empty]: built on first use (a list of lists: no tuple key to build and hash per draw).
        self._tables: list[list] = [[None] * (width + 1) for _ in range(max_operators + 1)]

    def _table(self, empty: int, ops: int) -> tuple[list[float], list[tuple[int, int]]]:
        known = self._tables[ops][empty]
        if known is not None:
            return known
        D = self.D
        weights, choices = [], []
        for a, pa in ((1, self.p1), (2, self.p2)):
            for i in range(empty):
                weights.append(pa * D[ops - 1][empty - i - 1 + a])
                choices.append((i, a))
        total = D[ops][empty]
        cumulative, acc = [], 0
        for w in weights:
            acc += w
            cumulative.append(acc / total)
        cumulative[-1] = 1.0
        self._tables[ops][empty] = cumulative, choices
        return cumulative, choices

    def sample(self, n_ops: int, uniform: UniformPool) -> list[int]:
        """Arities in prefix order: 0 for a leaf slot, 1 or 2 for an operator."""
        out: list[int] = []
        empty = 1
        tables = self._tables
        for ops, u in zip(range(n_ops, 0, -1), uniform.take(n_ops)):
            table = tables[ops][empty]
            cumulative, choices = table if table is not None else self._table(empty, ops)
            skipped, arity = choices[bisect_right(cumulative, u)]
            if skipped:
                out += _LEAF_RUNS[skipped] if skipped < len(_LEAF_RUNS) else [0] * skipped
            out.append(arity)
            empty += arity - 1 - skipped
        out += [0] * empty
        return out


class SkeletonSampler:
    """Draws Flash-ANSR prior skeletons (before simplification) for one config."""

    def __init__(self, config: GeneratorConfig):
        self.config = config
        self.n_ops_cumulative = _cumulative(operator_count_probabilities(config))
        self.ops: dict[int, list[str]] = {}
        self.op_cumulative: dict[int, list[float]] = {}
        for arity in (1, 2):
            pairs = [(op, w) for op, w in (config.unary_operators if arity == 1 else config.binary_operators) if w > 0]
            self.ops[arity] = [op for op, _ in pairs]
            self.op_cumulative[arity] = _cumulative([w for _, w in pairs]) if pairs else []
        # An arity without positively weighted operators gets shape weight 0 (Lample–Charton's p1/p2).
        self.shapes = TreeShapes(config.max_operators, p1=int(bool(self.ops[1])), p2=int(bool(self.ops[2])))
        self.symbols = [f"x{i + 1}" for i in range(config.max_variables)]
        if config.leaf_constants:
            self.symbols.append(CONSTANT)

    def n_operators(self, uniform: UniformPool) -> int:
        return bisect_right(self.n_ops_cumulative, uniform())

    def sample(self, uniform: UniformPool) -> list[str]:
        n_ops = self.n_operators(uniform)
        arities = self.shapes.sample(n_ops, uniform)
        ops, cumulative = self.ops, self.op_cumulative
        draws = iter(uniform.take(n_ops))  # one uniform per operator, in prefix order; then the leaves' uniforms
        leaves = iter(self.leaves(len(arities) - n_ops, uniform))
        return [next(leaves) if a == 0 else ops[a][bisect_right(cumulative[a], next(draws))] for a in arities]

    def leaves(self, n_leaves: int, uniform: UniformPool) -> list[str]:
        """Flash-ANSR's leaf multiset: ``n_u`` ~ U{1..min(L, max_variables)} distinct symbols drawn without
        replacement from {x1..xD, <constant>}, the other ``L - n_u`` leaves drawn with replacement from those, then
        shuffled."""
        symbols = list(self.symbols)
        # Exactly 2 * n_leaves uniforms whatever n_unique is (1 + n_unique + (n_leaves - n_unique) + (n_leaves - 1)),
        # taken at once. min(int(u * n), n - 1) is scaled_index(u, n) (UniformPool.below on a value already drawn),
        # written out: these loops are most of the sampler's calls.
        draws = uniform.take(2 * n_leaves)
        n = min(n_leaves, self.config.max_variables, len(symbols))
        n_unique = 1 + min(int(draws[0] * n), n - 1)
        k = 1
        for i in range(n_unique):  # partial Fisher–Yates: the first n_unique entries are the draw
            n = len(symbols) - i
            j = i + min(int(draws[k] * n), n - 1)
            k += 1
            symbols[i], symbols[j] = symbols[j], symbols[i]
        chosen = symbols[:n_unique]
        last = n_unique - 1
        out = chosen + [chosen[min(int(u * n_unique), last)] for u in draws[k:k + n_leaves - n_unique]]
        k += n_leaves - n_unique
        for i in range(len(out) - 1, 0, -1):
            j = min(int(draws[k] * (i + 1)), i)
            k += 1
            out[i], out[j] = out[j], out[i]
        return out

