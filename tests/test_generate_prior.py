"""The Flash-ANSR prior: operator frequencies, operator counts, leaves, tree shapes, configs and random streams."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from lawfinder.generate import PRESETS, GeneratorConfig, parse_override, preset
from lawfinder.generate.skeleton import SkeletonSampler, TreeShapes, operator_count_probabilities
from lawfinder.generate.streams import UniformPool, generators, seed_sequence
from lawfinder.simplipy import OPERATORS, validate
from lawfinder.simplipy.operators import CONSTANT
from lawfinder.simplipy.tokens import is_variable


def _draw(config: GeneratorConfig, n: int, seed: int = 0) -> list[list[str]]:
    sampler = SkeletonSampler(config)
    uniform = UniformPool(generators(seed)[0])
    return [sampler.sample(uniform) for _ in range(n)]


def _assert_frequencies(counts: Counter, weights: dict[str, float], z: float = 4.5) -> None:
    """Each operator's share of its arity matches its normalised weight within z binomial standard errors."""
    total = sum(counts[op] for op in weights)
    norm = sum(weights.values())
    for op, w in weights.items():
        p = w / norm
        sigma = math.sqrt(total * p * (1 - p)) if 0 < p < 1 else 0.0
        assert abs(counts[op] - total * p) <= z * sigma + 1e-9, (op, counts[op], total * p, sigma)


def test_operator_frequencies_match_flash_ansr_weights():
    config = PRESETS["flash-ansr"]
    skeletons = _draw(config, 4000)
    counts = Counter(t for s in skeletons for t in s if t in OPERATORS)
    _assert_frequencies(counts, config.operator_weights(1))
    _assert_frequencies(counts, config.operator_weights(2))
    assert counts["pow"] == 0  # in the vocabulary, never sampled


def test_operator_frequencies_follow_unequal_weights():
    config = PRESETS["flash-ansr"].with_overrides(
        binary_operators={"+": 10.0, "*": 1.0, "-": 0.0, "/": 3.0}, unary_operators={"sin": 1.0, "exp": 4.0})
    counts = Counter(t for s in _draw(config, 3000, seed=5) for t in s if t in OPERATORS)
    assert counts["-"] == 0 and counts["cos"] == 0
    _assert_frequencies(counts, {"+": 10.0, "*": 1.0, "/": 3.0})
    _assert_frequencies(counts, {"sin": 1.0, "exp": 4.0})


def test_operator_count_distribution():
    config = PRESETS["flash-ansr"]
    p = operator_count_probabilities(config)
    assert len(p) == 18 and abs(sum(p) - 1) < 1e-12
    assert p[17] == pytest.approx(0.27, abs=0.01) and p[0] < 3e-4  # facts §1: mass grows with k
    assert sum(k * pk for k, pk in enumerate(p)) == pytest.approx(14.5, abs=0.1)
    skeletons = _draw(config, 4000, seed=1)
    n_ops = Counter(sum(1 for t in s if t in OPERATORS) for s in skeletons)
    for k in (14, 15, 16, 17):
        sigma = math.sqrt(4000 * p[k] * (1 - p[k]))
        assert abs(n_ops[k] - 4000 * p[k]) <= 4.5 * sigma


def test_skeletons_are_valid_and_respect_limits():
    config = PRESETS["flash-ansr"].with_overrides(max_variables=5)
    for s in _draw(config, 1500, seed=2):
        validate(s)
        assert len(s) <= 2 * config.max_operators + 1
        names = {t for t in s if is_variable(t)}
        assert all(1 <= int(t[1:]) <= 5 for t in names)
        leaves = [t for t in s if t not in OPERATORS]
        distinct = set(leaves)
        assert 1 <= len(distinct) <= min(len(leaves), 5)  # n_u <= min(L, max_variables)


def test_leaf_symbols_include_the_constant_uniformly():
    # A single leaf is one symbol drawn uniformly from {x1..x3, <constant>}.
    sampler = SkeletonSampler(PRESETS["flash-ansr"].with_overrides(max_variables=3))
    uniform = UniformPool(generators(3)[0])
    counts = Counter(sampler.leaves(1, uniform)[0] for _ in range(4000))
    _assert_frequencies(counts, {"x1": 1, "x2": 1, "x3": 1, CONSTANT: 1})
    # Without leaf constants, only variables.
    sampler = SkeletonSampler(PRESETS["flash-ansr"].with_overrides(max_variables=3, leaf_constants=False))
    assert {sampler.leaves(1, uniform)[0] for _ in range(200)} == {"x1", "x2", "x3"}


def test_tree_shapes_are_uniform_for_a_given_operator_count():
    # With 3 operators (leaf/unary/binary weights 1) there are 22 unary-binary tree shapes (T(n) = T(n-1) +
    # sum T(i)T(n-1-i): 1, 2, 6, 22), equally likely.
    shapes = TreeShapes(3)
    uniform = UniformPool(generators(9)[0])
    counts = Counter(tuple(shapes.sample(3, uniform)) for _ in range(15000))
    assert len(counts) == 22
    _assert_frequencies(counts, dict.fromkeys(counts, 1.0))


def test_with_overrides_and_errors():
    config = preset("flash-ansr", max_points=256)
    assert config.max_points == 256 and PRESETS["flash-ansr"].max_points == 1024
    with pytest.raises(ValueError, match="unknown GeneratorConfig field"):
        config.with_overrides(max_pointz=3)
    with pytest.raises(ValueError, match="unknown operator 'sine'"):
        config.with_overrides(unary_operators={"sine": 1.0})
    with pytest.raises(ValueError, match="arity 2, not 1"):
        config.with_overrides(unary_operators={"+": 1.0})
    with pytest.raises(ValueError, match="min_points"):
        config.with_overrides(min_points=300)
    with pytest.raises(ValueError, match="constant_distribution='integer'"):
        config.with_overrides(tokenizer="latex")
    with pytest.raises(ValueError, match="unknown generator preset"):
        preset("nope")
    assert parse_override("max_points=12") == ("max_points", 12)
    assert parse_override("constant_scale=2.5") == ("constant_scale", 2.5)
    assert parse_override("simplify=false") == ("simplify", False)
    assert parse_override('binary_operators={"+": 2}') == ("binary_operators", (("+", 2),))
    with pytest.raises(ValueError, match="max_points"):
        parse_override("max_points=many")
    assert PRESETS["flash-ansr"].max_variables == 17 and PRESETS["flash-ansr"].max_skeleton_length == 35
    assert PRESETS["scaling-laws"].tokenizer == "latex" and PRESETS["scaling-laws"].max_points == 64


def test_streams_are_reproducible_and_disjoint():
    first = [g.random(8) for g in generators(7, 2, 1)]
    again = [g.random(8) for g in generators(7, 2, 1)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    others = [generators(7, 3, 1)[0].random(8), generators(7, 2, 2)[0].random(8), generators(8, 2, 1)[0].random(8)]
    assert all(not np.array_equal(first[0], o) for o in others)
    assert not np.array_equal(first[0], first[1])  # the two consumers of one stream differ too
    assert seed_sequence(7, 2, 1).spawn_key == (2, 1)
    with pytest.raises(ValueError, match="worker_index"):
        seed_sequence(0, -1)


def test_uniform_pool_take_gives_the_values_of_single_calls():
    one, many = UniformPool(np.random.default_rng(8), block=7), UniformPool(np.random.default_rng(8), block=7)
    singles = [one() for _ in range(40)]
    taken = many.take(3) + many.take(0) + many.take(9) + many.take(16) + many.take(12)  # across block ends
    assert taken == singles
    assert many() == one()
