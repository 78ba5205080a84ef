"""Several data chains per skeleton (``GeneratorConfig.datasets_per_skeleton``): samples come in runs that share a
skeleton, and the law of each sample stays that of one chain per fresh skeleton."""

from __future__ import annotations

import collections

import pytest

from lawfinder.generate import PRESETS, Generator
from lawfinder.simplipy.operators import OPERATORS
from lawfinder.simplipy.tokens import is_variable

N = 4000
K = 4


def _config(**overrides):
    return PRESETS["flash-ansr"].with_overrides(decontaminate=False, min_points=32, max_points=32, **overrides)


def _run(k: int, seed: int):
    generator = Generator(_config(datasets_per_skeleton=k), seed=seed)
    samples = [generator.sample() for _ in range(N)]
    return samples, generator.stats


def _total_variation(a: collections.Counter, b: collections.Counter) -> float:
    ta, tb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[x] / ta - b[x] / tb) for x in set(a) | set(b))


@pytest.fixture(scope="module")
def runs():
    return {1: _run(1, seed=31), K: _run(K, seed=32)}


def test_runs_of_at_most_k_samples_share_a_skeleton(runs):
    samples, stats = runs[K]
    lengths, run = [], 1
    for a, b in zip(samples, samples[1:]):
        if a.skeleton is b.skeleton:
            run += 1
        else:
            lengths.append(run)
            run = 1
    assert max(lengths) <= K and collections.Counter(lengths)[K] > 0.3 * len(lengths)
    assert stats.attempts < 0.5 * runs[1][1].attempts  # far fewer skeletons drawn and simplified for as many samples


@pytest.mark.parametrize("name", ["operators", "length", "variables"])
def test_each_sample_keeps_its_law(runs, name):
    def histogram(samples):
        h = collections.Counter()
        for s in samples:
            if name == "operators":
                h.update(t for t in s.skeleton if t in OPERATORS)
            elif name == "length":
                h[len(s.skeleton) // 4] += 1
            else:  # coarse bins: K samples share a skeleton, so the K run has only ~N/K independent ones
                h[min(len({t for t in s.skeleton if is_variable(t)}), 8) // 2] += 1
        return h

    tv = _total_variation(histogram(runs[1][0]), histogram(runs[K][0]))
    assert tv < 0.05, tv


def test_a_chain_succeeds_as_often_as_a_fresh_skeleton(runs):
    (_, one), (_, many) = runs[1], runs[K]
    chains = many.samples + sum(many.rejected[r] for r in ("non_finite_screen", "non_finite_data"))
    fresh = one.samples + sum(one.rejected[r] for r in ("non_finite_screen", "non_finite_data"))
    assert abs(many.samples / chains - one.samples / fresh) < 0.04


def test_the_setting_is_checked():
    with pytest.raises(ValueError, match="datasets_per_skeleton"):
        _config(datasets_per_skeleton=0)
