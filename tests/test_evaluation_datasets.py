"""FastSRB regeneration: the README's check value, determinism, the shared stream across equations, float32 vs
float64 draws, the exclusions, noise and sparsity variations, and input errors."""

import json

import numpy as np
import pytest

from lawfinder.evaluation.datasets import (
    FastSRBConfig, Variable, _draw_column, add_noise, generate, load_equations, select, sparsify,
)

CHECK_X = [3.53111691382141, 0.002089254939430303, -0.0019655607283697663, 0.6765140296479545]
CHECK_Y = -2.143449192603665e-05


@pytest.fixture(scope="module")
def full64():
    return generate(FastSRBConfig(precision="float64"))


def test_equation_list_parses_and_flags_the_five_exclusions():
    equations = load_equations()
    assert len(equations) == 120
    assert [e.order for e in equations] == list(range(120))
    assert {e.id for e in equations if e.excluded} == {"B4", "B7", "B17", "II.24.17", "III.14.14"}
    first = equations[0]
    assert first.id == "II.38.3" and first.tokens == ("/", "*", "*", "x1", "x2", "x3", "x4")


def test_readme_check_value_is_reproduced_exactly(full64):
    dataset = next(d for d in full64.datasets if d.equation.id == "II.38.3" and d.index == 0)
    assert dataset.X[0].tolist() == CHECK_X
    assert float(dataset.y[0]) == CHECK_Y


def test_stream_outcome_matches_the_protocol_notes(full64):
    # 116 equations give 10/10 datasets directly; three need the per-point fallback every time; III.14.14 none.
    assert full64.missing == {"III.14.14": 10}
    assert full64.fallback == {"II.24.17": 10, "B4": 10, "B7": 10}
    assert len(full64.datasets) == 119 * 10
    shapes = {(d.X.shape[0], d.y.shape[0], d.n_fit) for d in full64.datasets}
    assert shapes == {(1024, 1024, 512)}
    assert all(np.all(np.isfinite(d.X)) and np.all(np.isfinite(d.y)) for d in full64.datasets)


def test_regeneration_is_deterministic_and_a_stream_prefix_gives_the_same_datasets(full64):
    head = load_equations()[:3]
    again = generate(FastSRBConfig(precision="float64"), equations=head)
    assert len(again.datasets) == 30
    for a, b in zip(again.datasets, full64.datasets[:30]):
        assert (a.equation.id, a.index, a.stream_index) == (b.equation.id, b.index, b.stream_index)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)


def test_keeping_a_subset_still_walks_the_whole_stream(full64):
    kept = generate(FastSRBConfig(precision="float64"), keep=["B20"])
    assert {d.equation.id for d in kept.datasets} == {"B20"}
    ref = [d for d in full64.datasets if d.equation.id == "B20"]
    for a, b in zip(kept.datasets, ref):
        np.testing.assert_array_equal(a.y, b.y)


def test_float32_mode_casts_the_same_draws(full64):
    f32 = generate(FastSRBConfig())
    assert len(f32.datasets) == len(full64.datasets)
    for a, b in zip(f32.datasets[::97], full64.datasets[::97]):
        assert a.X.dtype == np.float32 and a.y.dtype == np.float32
        np.testing.assert_array_equal(a.X, b.X.astype(np.float32))
        np.testing.assert_array_equal(a.y, b.y.astype(np.float32))


def test_medium_preset_draws_five_per_equation_from_the_same_seed():
    head = load_equations()[:2]
    medium = generate(FastSRBConfig(datasets_per_equation=5, precision="float64"), equations=head)
    short = generate(FastSRBConfig(precision="float64"), equations=head[:1])
    assert [d.index for d in medium.datasets] == [0, 1, 2, 3, 4] * 2
    # The first equation's first five datasets are the same draws; the second equation's start earlier.
    np.testing.assert_array_equal(medium.datasets[4].X, short.datasets[4].X)


def test_column_draws_follow_sign_integer_and_log_rules():
    rng = np.random.default_rng(0)
    values = _draw_column(rng, Variable("v1", "log-uniform", 0.1, 10.0, "±", False), 2000)
    assert np.all((np.abs(values) >= 0.1) & (np.abs(values) <= 10.0))
    assert 0.4 < np.mean(values < 0) < 0.6
    ints = _draw_column(rng, Variable("v2", "uniform", 1.0, 5.0, "+", True), 100)
    assert np.array_equal(ints, np.rint(ints)) and ints.min() >= 1 and ints.max() <= 5
    # Same seed, same draws: uniform first, then the signs.
    a = _draw_column(np.random.default_rng(7), Variable("v", "uniform", -1.0, 1.0, "±", False), 5)
    r = np.random.default_rng(7)
    b = r.uniform(-1.0, 1.0, size=5) * r.choice([-1.0, 1.0], size=5)
    np.testing.assert_array_equal(a, b)


def test_select_spreads_a_subset_and_names_unknown_ids():
    equations = load_equations()
    chosen = select(equations, subset=12)
    assert len(chosen) == 12 and not any(e.excluded for e in chosen)
    assert {e.difficulty for e in chosen} == {"easy", "medium", "hard"}
    assert len(select(equations)) == 115
    assert len(select(equations, include_excluded=True)) == 120
    with pytest.raises(ValueError, match="NOPE"):
        select(equations, ids=["I.12.1", "NOPE"])


def test_noise_touches_only_the_fit_split_and_matches_a_full_run():
    head = load_equations()[:3]
    full = generate(FastSRBConfig(precision="float64"), equations=head)
    only_third = [d for d in full.datasets if d.equation.id == head[2].id]
    noisy_all = add_noise(full.datasets, 0.01)
    noisy_subset = add_noise(only_third, 0.01)
    for clean, a, b in zip(only_third, noisy_all[20:], noisy_subset):
        np.testing.assert_array_equal(a.y, b.y)  # a subset sees the noise of the full run
        np.testing.assert_array_equal(a.y_val, clean.y_val)
        ratio = np.std(a.y_fit - clean.y_fit) / np.std(clean.y_fit)
        assert 0.008 < ratio < 0.012
    assert add_noise(full.datasets, 0.0)[0] is full.datasets[0]


def test_sparsify_keeps_the_validation_rows():
    d = generate(FastSRBConfig(precision="float64"), equations=load_equations()[:1]).datasets[0]
    s = sparsify([d], 8)[0]
    assert s.X_fit.shape == (8, d.X.shape[1])
    np.testing.assert_array_equal(s.X_fit, d.X[:8])
    np.testing.assert_array_equal(s.y_val, d.y_val)
    with pytest.raises(ValueError, match="n_fit"):
        sparsify([d], 600)


def test_bad_equation_file_is_named(tmp_path):
    raw = json.loads(open(load_equations.__globals__["DATA_FILE"], encoding="utf-8").read())[:1]
    raw[0]["variables"][0]["dist"] = "normal"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="normal"):
        load_equations(path)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="precision"):
        FastSRBConfig(precision="float16")
    with pytest.raises(ValueError, match="n_fit"):
        FastSRBConfig(n_fit=2000)
