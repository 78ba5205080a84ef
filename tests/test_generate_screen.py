"""Early rejection of skeletons that cannot give finite data (issue 21): fewer draws, and the accepted samples'
distribution unchanged beyond what dropping those skeletons implies."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from lawfinder.generate import PRESETS, Generator
from lawfinder.generate.generator import FIRST_BLOCK
from lawfinder.simplipy.operators import OPERATORS
from lawfinder.simplipy.tokens import is_variable

N = 1200
DOMAIN_LIMITED = ("asin", "acos", "atanh", "acosh", "log", "pow1_2", "pow1_4")


def _config(**overrides):
    return PRESETS["flash-ansr"].with_overrides(decontaminate=False, min_points=64, max_points=64, **overrides)


def _histograms(generator: Generator) -> dict[str, collections.Counter]:
    h = {"operators": collections.Counter(), "length": collections.Counter(), "variables": collections.Counter()}
    for _ in range(N):
        s = generator.sample()
        h["operators"].update(t for t in s.skeleton if t in OPERATORS)
        h["length"][len(s.skeleton) // 4] += 1
        h["variables"][len({t for t in s.skeleton if is_variable(t)})] += 1
    return h


def _total_variation(a: collections.Counter, b: collections.Counter) -> float:
    ta, tb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[k] / ta - b[k] / tb) for k in set(a) | set(b))


ONE_POINT = {"screen_points": 64, "screen_points_per_draw": 1, "screen_min_finite": 4}  # the earlier screen


def _share(operators: collections.Counter) -> float:
    return sum(operators[op] for op in DOMAIN_LIMITED) / sum(operators.values())


@pytest.fixture(scope="module")
def runs():
    # Same seed: the same skeleton stream, so the comparison is paired and only the screen's drops differ.
    out = {}
    for name, overrides in (("off", {"screen_min_finite": 0}), ("on", {}), ("one_point", ONE_POINT)):
        generator = Generator(_config(**overrides), seed=21)
        out[name] = (_histograms(generator), generator.stats)
    return out


def test_screen_drops_skeletons_and_saves_draws(runs):
    (_, off), (_, on) = runs["off"], runs["on"]
    assert off.rejected["non_finite_screen"] == 0 and off.screens == 0
    assert on.rejected["non_finite_screen"] > 0.05 * on.attempts
    assert on.data_draws / on.samples < 0.85 * off.data_draws / off.samples
    assert on.draws_needed <= on.data_draws
    # Issue 21's target: at most 4 draws per sample one at a time (3.45 here; 14.6 with the screen off).
    assert on.draws_needed / on.samples <= 4 < off.draws_needed / off.samples
    # Work counters: every sample has n = 64 points, and more points than the samples keep were evaluated.
    assert on.sample_points == 64 * on.samples and on.points_evaluated > on.sample_points
    # Some dropped skeletons would have given a sample (slow successes, ~6 % here): the acceptance rate moves a little.
    assert on.samples / on.attempts > 0.9 * off.samples / off.attempts


@pytest.mark.parametrize("screen", ["on", "one_point"])
@pytest.mark.parametrize("name", ["operators", "length", "variables"])
def test_accepted_distribution_is_unchanged(runs, name, screen):
    off, on = runs["off"][0][name], runs[screen][0][name]
    assert _total_variation(off, on) < 0.03, (off, on)


def test_domain_limited_operators_keep_most_of_their_share(runs):
    # What the screen drops besides hopeless skeletons are slow successes, mostly asin/acos/atanh of a sum or
    # product: the default screen keeps ~0.85 of the domain-limited operators' share (0.6 of asin/acos/atanh's, in
    # docs/training.md), the earlier one-point screen all of it.
    off = _share(runs["off"][0]["operators"])
    assert 0.75 < _share(runs["on"][0]["operators"]) / off < 1.05
    assert abs(_share(runs["one_point"][0]["operators"]) / off - 1) < 0.1


class _TickingClock:
    """A stand-in for ``time`` whose perf_counter advances one unit per call: stage times become call counts."""

    def __init__(self):
        self.now = 0

    def perf_counter(self):
        self.now += 1
        return float(self.now)


def test_data_time_of_rejected_chains_is_counted_apart(monkeypatch):
    monkeypatch.setattr("lawfinder.generate.generator.time", _TickingClock())
    generator = Generator(_config(), seed=3)
    for _ in range(200):
        generator.sample()
    st = generator.stats
    assert st.rejected["non_finite_screen"] + st.rejected["non_finite_data"] > 0
    # Some, not all, of the data and evaluate clock ticks went to chains that gave no sample.
    rejected_ticks = st.rejected_chain_seconds
    data_ticks = st.seconds["data"] + st.seconds["evaluate"]
    assert 0 < rejected_ticks < data_ticks


def test_screen_settings_are_checked():
    with pytest.raises(ValueError, match="screen_min_finite"):
        _config(screen_points=8, screen_min_finite=9)
    with pytest.raises(ValueError, match="screen_points"):
        _config(screen_points=-1)
    with pytest.raises(ValueError, match="screen_points_per_draw"):
        _config(screen_points_per_draw=0)


def test_screen_draws_of_several_points_trade_samples_for_draws(runs):
    # Against the one-point screen: the default's draws of 6 points also catch the skeletons whose points are often
    # finite but whose whole draws almost never are, which the one-point screen sent through all 20 draws.
    st, one_point = runs["on"][1], runs["one_point"][1]
    assert st.draws_needed / st.samples < 0.6 * one_point.draws_needed / one_point.samples
    assert st.rejected["non_finite_data"] < 0.5 * one_point.rejected["non_finite_data"]
    assert st.screen_points == 24 * 6 * st.screens and one_point.screen_points == 64 * one_point.screens
    # It drops some skeletons that would have given a sample: fewer samples per data chain.
    assert st.samples / st.chains < one_point.samples / one_point.chains


def test_screen_draws_are_never_wider_than_the_sample():
    generator = Generator(_config(screen_points=32, screen_points_per_draw=8, screen_min_finite=3), seed=0)
    assert generator._draw_data(["/", "x1", "0"], None, 0, 4, 1) == "non_finite_screen"
    assert generator.stats.points_evaluated == FIRST_BLOCK * 4 + 32 * 4  # screen draws of min(8, n) = 4 points


def test_skeleton_without_any_finite_point_is_dropped_by_the_screen():
    generator = Generator(_config(), seed=0)
    program = ["/", "x1", "0"]  # x1 / 0: never finite
    assert generator._draw_data(program, None, 0, 64, 1) == "non_finite_screen"
    # One pass probed draws 1-4 and the screen; a one-at-a-time loop would have stopped after draw 1.
    assert generator.stats.screens == 1 and generator.stats.data_draws == FIRST_BLOCK
    assert generator.stats.draws_needed == 1
    # The work: one numpy pass over the four 32-point probes and the screen's draws.
    assert generator.stats.evaluations == 1
    assert generator.stats.points_evaluated == FIRST_BLOCK * 32 + 24 * 6  # default: 24 screen draws of 6 points
    generator = Generator(_config(screen_min_finite=0), seed=0)
    assert generator._draw_data(program, None, 0, 64, 1) == "non_finite_data"
    assert generator.stats.data_draws == generator.config.max_data_tries
    assert np.isclose(generator.stats.draws_needed, generator.config.max_data_tries)


def test_draws_are_used_in_order_as_one_at_a_time():
    # log(C) is finite exactly when the draw's constant is positive (probability 1/2), whatever the points are: a
    # one-at-a-time loop needs k draws with probability 2**-k, so 2 on average, and never returns a draw with C <= 0.
    generator = Generator(_config(), seed=4)
    program = ["log", "<constant>"]
    needed = []
    for _ in range(2000):
        before = generator.stats.draws_needed
        drawn = generator._draw_data(program, None, 1, 64, 1)
        assert isinstance(drawn, tuple) and drawn[0][0] > 0
        needed.append(generator.stats.draws_needed - before)
    counts = collections.Counter(needed)
    assert abs(np.mean(needed) - 2.0) < 0.15
    assert abs(counts[1] / len(needed) - 0.5) < 0.05 and abs(counts[2] / len(needed) - 0.25) < 0.05
    assert counts[5] > 0  # draws past the first block are reached too
