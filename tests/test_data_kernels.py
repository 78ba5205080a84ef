"""The generator's data kernels: the numpy versions do what their docstrings say, and the compiled loops (when
setup.py built them) give bit-identical results on the same arrays."""

import importlib
import importlib.util

import numpy as np
import pytest

from lawfinder.generate import data_kernels as numpy_kernels

try:
    compiled = importlib.import_module("lawfinder.generate._data_kernels")
except ImportError:  # no C compiler at install: only the numpy versions exist
    compiled = None

@pytest.fixture(scope="module")
def py():
    """data_kernels loaded afresh with LAWFINDER_PURE_PYTHON=1: its numpy versions, whatever was compiled."""
    spec = importlib.util.spec_from_file_location("lawfinder.generate._numpy_data_kernels", numpy_kernels.__file__)
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAWFINDER_PURE_PYTHON", "1")
        spec.loader.exec_module(module)
    assert module.IMPLEMENTATION == "python"
    return module


def arrays(seed=0, d=3, tries=4, probe=8, singles=5, single_width=1):
    rng = np.random.default_rng(seed)
    ab = rng.normal(0.0, 20.0, (2, d, tries + singles))  # std 20: many intervals reach past the ±30 clip
    u = rng.random((d, tries * probe + singles * single_width))
    return ab, u


def test_probe_inputs_draw_each_column_from_its_tries_interval(py):
    ab, u = arrays()
    tries, probe, clip = 4, 8, 30.0
    X = py.probe_inputs(ab, u, tries, probe, clip)
    owner = py.probe_owners(tries, probe, u.shape[1] - tries * probe)
    low, high = np.minimum(ab[0], ab[1])[:, owner], np.maximum(ab[0], ab[1])[:, owner]
    assert X.shape == u.shape and X.dtype == np.float64
    assert np.all(X >= np.maximum(low, -clip) - 1e-5) and np.all(X <= np.minimum(high, clip) + 1e-5)
    assert np.array_equal(X, X.astype(np.float32).astype(np.float64))  # float32 values
    assert np.any(np.abs(X) == clip)  # some intervals were clipped
    # Column 9 belongs to try 1, the last column to the last single-point try.
    assert np.array_equal(X[:, 9], py.try_inputs(ab, u[:, 9:10], 1, clip)[:, 0])
    assert np.array_equal(X[:, -1], py.try_inputs(ab, u[:, -1:], ab.shape[2] - 1, clip)[:, 0])


def test_screen_draws_of_several_points_own_their_columns(py):
    ab, u = arrays(tries=2, probe=4, singles=3, single_width=5)
    owner = py.probe_owners(2, 4, 3, 5)
    assert owner.tolist() == [0] * 4 + [1] * 4 + [2] * 5 + [3] * 5 + [4] * 5
    X = py.probe_inputs(ab, u, 2, 4, 30.0, 5)
    # Columns 13..17 are the second screen draw's: try 3's interval.
    assert np.array_equal(X[:, 13:18], py.try_inputs(ab, u[:, 13:18], 3, 30.0))
    with pytest.raises(ValueError, match="probe_inputs"):
        py.probe_inputs(ab, u[:, :-1], 2, 4, 30.0, 5)  # the last screen draw is one column short


def test_probe_verdicts_and_all_within(py):
    y = np.array([1.0, 2.0, np.nan, 1.0, 5.0, 6.0, 1.0, np.inf, 1.0, -3.0, 1e11, np.nan])
    # tries of 3 values: (1, 2, nan) bad, (1, 5, 6) good, (1, inf, 1) bad; then 3 single values, one within bound
    assert py.probe_verdicts(y, 3, 3, 10.0) == ([1], 1)
    assert py.probe_verdicts(y, 3, 3, 1.5) == ([], 0)
    # The same 3 values after the tries as one screen draw of 3: one is beyond the bound, so it does not count.
    assert py.probe_verdicts(y, 3, 3, 10.0, 3) == ([1], 0)
    assert py.probe_verdicts(np.ones(8), 2, 2, 10.0, 2) == ([0, 1], 2)
    with pytest.raises(ValueError, match="probe_verdicts"):
        py.probe_verdicts(y, 3, 3, 10.0, 2)  # 3 values left do not make draws of 2
    assert py.all_within(np.array([1.0, -2.0]), 2.0) and not py.all_within(np.array([1.0, np.nan]), 2.0)


def test_sample_arrays_join_the_probe_and_the_rest(py):
    probe_x = np.arange(24, dtype=np.float64).reshape(2, 12)
    probe_y = np.arange(12, dtype=np.float64) * 10
    rest_x, rest_y = np.full((2, 2), -1.0), np.array([7.0, 8.0])
    x, y = py.sample_arrays(probe_x, 4, 4, probe_y, rest_x, rest_y)
    assert x.dtype == y.dtype == np.float32 and x.shape == (6, 2)
    assert x[:, 0].tolist() == [4, 5, 6, 7, -1, -1] and x[:, 1].tolist() == [16, 17, 18, 19, -1, -1]
    assert y.tolist() == [40, 50, 60, 70, 7, 8]
    x, y = py.sample_arrays(probe_x, 0, 4, probe_y, None, None)
    assert x.shape == (4, 2) and y.tolist() == [0, 10, 20, 30]


@pytest.mark.skipif(compiled is None, reason="the data kernels were not compiled")
@pytest.mark.parametrize("seed", range(5))
def test_compiled_kernels_agree_bit_for_bit(py, seed):
    ab, u = arrays(seed, d=1 + seed, tries=1 + seed % 4, probe=32, singles=64 * (seed % 2))
    tries = 1 + seed % 4
    for clip in (30.0, 5.0):
        assert np.array_equal(compiled.probe_inputs(ab, u, tries, 32, clip), py.probe_inputs(ab, u, tries, 32, clip))
        rest = np.random.default_rng(seed).random((u.shape[0], 100))
        assert np.array_equal(compiled.try_inputs(ab, rest, tries - 1, clip), py.try_inputs(ab, rest, tries - 1, clip))
    rng = np.random.default_rng(seed)
    y = rng.standard_cauchy(u.shape[1]) * 1e9
    y[rng.random(y.size) < 0.01] = np.nan
    for bound in (1e10, 1e12, 1e30):
        assert compiled.probe_verdicts(y, tries, 32, bound) == py.probe_verdicts(y, tries, 32, bound)
        assert compiled.all_within(y, bound) == py.all_within(y, bound)
    # Screen draws of several points each (screen_points_per_draw > 1).
    width = 2 + seed
    ab_w, u_w = arrays(seed, d=1 + seed, tries=tries, probe=32, singles=8, single_width=width)
    assert np.array_equal(compiled.probe_inputs(ab_w, u_w, tries, 32, 30.0, width),
                          py.probe_inputs(ab_w, u_w, tries, 32, 30.0, width))
    y_w = rng.standard_cauchy(u_w.shape[1]) * 1e9
    for bound in (1e9, 1e10, 1e12):
        assert compiled.probe_verdicts(y_w, tries, 32, bound, width) == py.probe_verdicts(y_w, tries, 32, bound, width)
    probe_x = py.probe_inputs(ab, u, tries, 32, 30.0)
    rest_x, rest_y = rng.normal(size=(u.shape[0], 50)), y[:50].copy()
    rest_y.resize(50, refcheck=False)
    for rest in ((rest_x, rest_y), (np.asfortranarray(rest_x), rest_y), (None, None)):  # strided inputs too
        for a, b in zip(compiled.sample_arrays(probe_x, 32 * (tries - 1), 32, y, *rest),
                        py.sample_arrays(probe_x, 32 * (tries - 1), 32, y, *rest)):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def test_a_build_older_than_its_source_is_not_used(tmp_path, monkeypatch):
    import importlib.machinery
    import os

    monkeypatch.delenv("LAWFINDER_PURE_PYTHON", raising=False)
    source = tmp_path / "_data_kernels.pyx"
    built = tmp_path / ("_data_kernels" + importlib.machinery.EXTENSION_SUFFIXES[0])
    assert numpy_kernels.choose(source) == "python"  # nothing built
    source.write_text("")
    built.write_text("")
    os.utime(source, (1_000, 1_000))
    assert numpy_kernels.choose(source) == "compiled"
    os.utime(source, (2 * built.stat().st_mtime, 2 * built.stat().st_mtime))  # edited after the build
    with pytest.warns(UserWarning, match="older than _data_kernels.pyx"):
        assert numpy_kernels.choose(source) == "python"
    monkeypatch.setenv("LAWFINDER_PURE_PYTHON", "1")
    os.utime(source, (1_000, 1_000))
    assert numpy_kernels.choose(source) == "python"


@pytest.mark.skipif(compiled is None, reason="the data kernels were not compiled")
def test_compiled_kernels_refuse_shapes_they_would_read_past():
    ab, u = arrays(tries=4, probe=8, singles=5)
    with pytest.raises(ValueError, match="probe_inputs"):
        compiled.probe_inputs(ab[:, :, :6], u, 4, 8, 30.0)  # 9 tries' columns, intervals for 6
    with pytest.raises(ValueError, match="try_inputs"):
        compiled.try_inputs(ab, u, ab.shape[2], 30.0)
    with pytest.raises(ValueError, match="probe_verdicts"):
        compiled.probe_verdicts(np.zeros(10), 3, 4, 1.0)
    with pytest.raises(ValueError, match="probe_inputs"):
        compiled.probe_inputs(ab, u, 4, 8, 30.0, 2)  # 5 columns after the tries do not make draws of 2
    with pytest.raises(ValueError, match="probe_verdicts"):
        compiled.probe_verdicts(np.zeros(11), 2, 4, 1.0, 2)
    with pytest.raises(ValueError, match="sample_arrays"):
        compiled.sample_arrays(u, u.shape[1] - 2, 4, np.zeros(u.shape[1]), None, None)
