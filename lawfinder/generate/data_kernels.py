"""The generator's data-draw arithmetic on arrays it already drew: inputs from uniforms, verdicts on values, the
float32 sample. numpy versions here; ``_data_kernels.pyx`` holds the same arithmetic as compiled loops, which
replace five to ten numpy calls each (the fixed cost of those calls on 32-column probes was most of the data stage).

``IMPLEMENTATION`` says which runs: ``"compiled"`` when setup.py built ``_data_kernels`` and it is not older than its
``.pyx`` (an edited source is never silently ignored), ``"python"`` otherwise or with ``LAWFINDER_PURE_PYTHON=1``.
Both give bit-identical results (tests/test_data_kernels.py).

Intervals: try t's input v is U(min(a, b), max(a, b)) with a = ab[0, v, t], b = ab[1, v, t] (Flash-ANSR's prior,
facts §1), clipped to ±clip and rounded to float32 (stored inputs are float32, so y is computed from exactly them).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..native import build_is_stale, compiled_file, pure_python_requested


def _clip(X: np.ndarray, bound: float) -> np.ndarray:
    """``X`` clipped to ±bound in place (two ufunc calls: ``np.clip``'s Python wrapper costs more than the work)."""
    np.maximum(X, -bound, out=X)
    return np.minimum(X, bound, out=X)


def float32_values(X: np.ndarray) -> np.ndarray:
    """``X`` rounded to float32, held as float64. Stored inputs are float32; computing y from the rounded values
    makes y exactly f(stored x) in float64."""
    return X.astype(np.float32).astype(np.float64)


def _inputs(low: np.ndarray, width: np.ndarray, u: np.ndarray, clip: float) -> np.ndarray:
    return float32_values(_clip(low + width * u, clip))


@lru_cache(maxsize=256)
def probe_owners(tries: int, m: int, singles: int = 0, single_width: int = 1) -> np.ndarray:
    """The try each column of a probe block belongs to: ``m`` columns for each of the first ``tries``, then
    ``single_width`` columns for each of ``singles`` screen draws (cached: a handful of shapes recur; read-only)."""
    owner = np.concatenate([np.repeat(np.arange(tries), m),
                            np.repeat(np.arange(tries, tries + singles), single_width)])
    owner.flags.writeable = False
    return owner


def _singles(columns: int, tries: int, probe: int, single_width: int, kernel: str) -> int:
    """How many screen draws of ``single_width`` columns follow the tries' columns; a ValueError if they do not fit."""
    rest = columns - tries * probe
    if rest < 0 or single_width < 1 or rest % single_width:
        raise ValueError(f"{kernel}: {columns} columns are not {tries} tries of {probe} then draws of {single_width}")
    return rest // single_width


def probe_inputs(ab: np.ndarray, u: np.ndarray, tries: int, probe: int, clip: float,
                 single_width: int = 1) -> np.ndarray:
    """(d, tries * probe + singles * single_width) inputs: column c belongs to try c // probe among the first
    ``tries``, and the columns after them to the screen draws, ``single_width`` each."""
    singles = _singles(u.shape[1], tries, probe, single_width, "probe_inputs")
    owner = probe_owners(tries, probe, singles, single_width)
    low, high = ab[0].take(owner, axis=1), ab[1].take(owner, axis=1)
    return _inputs(np.minimum(low, high), np.abs(low - high), u, clip)


def try_inputs(ab: np.ndarray, u: np.ndarray, t: int, clip: float) -> np.ndarray:
    """(d, m) inputs of try ``t`` from (d, m) uniforms."""
    a, b = ab[0, :, t, None], ab[1, :, t, None]
    return _inputs(np.minimum(a, b), np.abs(a - b), u, clip)


def probe_verdicts(y: np.ndarray, tries: int, probe: int, bound: float,
                   single_width: int = 1) -> tuple[list[int], int]:
    """(the tries whose ``probe`` values all lie within ±bound, in order; how many of the screen draws after the
    tries' columns, ``single_width`` values each, have all theirs within it). NaN lies within no bound."""
    _singles(y.shape[0], tries, probe, single_width, "probe_verdicts")
    good = np.abs(y) <= bound  # False for NaN
    width = tries * probe
    ok = good[:width].reshape(tries, probe).all(axis=1)
    return np.flatnonzero(ok).tolist(), int(np.count_nonzero(good[width:].reshape(-1, single_width).all(axis=1)))


def all_within(y: np.ndarray, bound: float) -> bool:
    return bool(np.all(np.abs(y) <= bound))


def sample_arrays(probe_x: np.ndarray, start: int, probe: int, probe_y: np.ndarray, rest_x, rest_y):
    """A sample's float32 (n, d) inputs and (n,) values: columns start..start+probe of the probe block, then the
    rest of the draw (``rest_x`` (d, m) and ``rest_y`` (m,), or None)."""
    X, y = probe_x[:, start:start + probe], probe_y[start:start + probe]
    if rest_x is not None:
        X, y = np.concatenate([X, rest_x], axis=1), np.concatenate([y, rest_y])
    return X.T.astype(np.float32), y.astype(np.float32)


def choose(source: Path = Path(__file__).with_name("_data_kernels.pyx")) -> str:
    """``"compiled"`` or ``"python"`` for the kernels built from ``source`` (see the module docstring)."""
    if compiled_file(source) is None or pure_python_requested():
        return "python"
    if source.exists() and build_is_stale(source):
        warnings.warn(f"the compiled data kernels are older than {source.name}; running the numpy versions. "
                      f"Rebuild with `pip install -e .`", stacklevel=2)
        return "python"
    return "compiled"


IMPLEMENTATION = choose()
if IMPLEMENTATION == "compiled":
    from ._data_kernels import all_within, probe_inputs, probe_verdicts, sample_arrays, try_inputs  # noqa: F811
