"""FastSRB datasets regenerated exactly as Flash-ANSR draws them: the equation list shipped with the package, one shared
``numpy.random.default_rng(42)`` walked over every equation in source order, redraws of non-finite datasets (whole,
then point by point), the float32-range redraw and the float32 cast.

The protocol (``data/README.md``, which restates the benchmark's own) is emulated draw for draw, so a
dataset depends on every equation before it: selecting a subset still walks the whole stream and keeps only what was
asked for. Excluded equations consume random numbers too; they are flagged, not skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..overrides import lookup

from ..simplipy import compile as compile_expression
from ..simplipy import parse

DATA_FILE = Path(__file__).with_name("data") / "fastsrb.json"
PRECISIONS = ("float32", "float64")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Variable:
    """One input column's sampling rule (see the data README for the meaning of each field)."""

    name: str
    dist: str  # "log-uniform" | "uniform"
    low: float
    high: float
    sign: str  # "+" | "±" | "-"
    integer: bool
    physical_name: str = ""


@dataclass(frozen=True)
class FastSRBEquation:
    """A FastSRB equation: its id, position in the stream, formula as prefix tokens over x1..xN, and column rules."""

    id: str
    order: int
    formula: str
    tokens: tuple[str, ...]
    variables: tuple[Variable, ...]
    difficulty: str
    excluded: bool
    feynman_id: str | None = None

    @property
    def n_variables(self) -> int:
        return len(self.variables)


@dataclass(frozen=True)
class FastSRBConfig:
    """How datasets are drawn. The defaults are Flash-ANSR's short-horizon protocol."""

    seed: int = 42
    n_points: int = 1024
    n_fit: int = 512  # rows [0, n_fit) are the fit split, the rest the validation split
    datasets_per_equation: int = 10
    max_trials: int = 100  # whole-dataset redraws, then per-point redraws
    max_dataset_attempts: int = 64  # Flash-ANSR's redraws of datasets outside the float32 range
    precision: str = "float32"  # "float64" keeps the same draws without the cast; report it apart

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not 0 < self.n_fit < self.n_points:
            raise ValueError(f"n_fit must lie in 1..{self.n_points - 1}, got {self.n_fit}")
        if self.datasets_per_equation < 1:
            raise ValueError(f"datasets_per_equation must be positive, got {self.datasets_per_equation}")


# The two budgets of Flash-ANSR's Table 1: 10 datasets per equation for short runs, 5 for the two largest budgets.
PRESETS = {
    "short": FastSRBConfig(),
    "medium": FastSRBConfig(datasets_per_equation=5),
}


def preset(name: str, **overrides) -> FastSRBConfig:
    """A FastSRB protocol preset with fields overridden by keyword; an unknown name is a one-line error."""
    return replace(lookup(PRESETS, name, "FastSRB preset"), **overrides)


@dataclass
class Dataset:
    """One drawn dataset. ``stream_index`` counts produced datasets over the whole benchmark (noise draws follow it)."""

    equation: FastSRBEquation
    index: int
    X: np.ndarray  # (n_points, n_variables)
    y: np.ndarray  # (n_points,)
    n_fit: int
    stream_index: int
    per_point_fallback: bool = False
    attempts: int = 1

    @property
    def X_fit(self) -> np.ndarray:
        return self.X[: self.n_fit]

    @property
    def y_fit(self) -> np.ndarray:
        return self.y[: self.n_fit]

    @property
    def X_val(self) -> np.ndarray:
        return self.X[self.n_fit:]

    @property
    def y_val(self) -> np.ndarray:
        return self.y[self.n_fit:]


@dataclass
class Generated:
    """The outcome of one walk over the stream: kept datasets plus, per equation id, how many slots found no data."""

    config: FastSRBConfig
    datasets: list[Dataset]
    missing: dict[str, int] = field(default_factory=dict)
    fallback: dict[str, int] = field(default_factory=dict)
    # Stream indices that get no noise: their fit targets' spread, computed in the stored dtype as Flash-ANSR does, is
    # zero or not finite (float32 std underflows for |y| ~ 1e-35 and overflows for |y| ~ 1e20).
    constant_fit: set[int] = field(default_factory=set)


# ------------------------------------------------------------------------------------------------- the equation list
def _read_variable(raw: dict, where: str) -> Variable:
    try:
        var = Variable(name=raw["name"], dist=raw["dist"], low=float(raw["low"]), high=float(raw["high"]),
                       sign=raw["sign"], integer=bool(raw["integer"]), physical_name=raw.get("physical_name", ""))
    except KeyError as error:
        raise ValueError(f"{where}: variable is missing field {error.args[0]!r}") from None
    if var.dist not in ("log-uniform", "uniform"):
        raise ValueError(f"{where}: variable {var.name!r} has unknown dist {var.dist!r}")
    if var.sign not in ("+", "±", "-"):
        raise ValueError(f"{where}: variable {var.name!r} has unknown sign {var.sign!r}")
    if var.low > var.high or (var.dist == "log-uniform" and var.low <= 0):
        raise ValueError(f"{where}: variable {var.name!r} has a bad range [{var.low}, {var.high}]")
    return var


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[FastSRBEquation, ...]:
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of equations")
    equations = []
    for entry in raw:
        where = f"{path}: equation {entry.get('id', '?')!r}"
        variables = tuple(_read_variable(v, where) for v in entry["variables"])
        try:
            tokens = parse(entry["formula"], variables=[v.name for v in variables])
        except ValueError as error:
            raise ValueError(f"{where}: formula does not parse: {error}") from None
        equations.append(FastSRBEquation(
            id=entry["id"], order=int(entry["order"]), formula=entry["formula"], tokens=tuple(tokens),
            variables=variables, difficulty=entry.get("difficulty", ""),
            excluded=bool(entry.get("flash_ansr_excluded", False)), feynman_id=entry.get("feynman_id")))
    equations.sort(key=lambda e: e.order)
    if [e.order for e in equations] != list(range(len(equations))):
        raise ValueError(f"{path}: 'order' must number the equations 0..{len(equations) - 1} without gaps")
    return tuple(equations)


def load_equations(path: str | Path | None = None) -> list[FastSRBEquation]:
    """All FastSRB equations in stream order (the package's copy unless ``path`` is given)."""
    return list(_load(str(path or DATA_FILE)))


def select(equations: Sequence[FastSRBEquation], *, ids: Iterable[str] | None = None, subset: int | None = None,
           include_excluded: bool = False) -> list[FastSRBEquation]:
    """Equations to score: explicit ``ids``, or ``subset`` of them spread evenly over the stream (so easy, medium
    and hard all appear), else all; the five excluded ones only with ``include_excluded`` or when named."""
    if ids is not None:
        by_id = {e.id: e for e in equations}
        wanted = list(ids)
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            raise ValueError(f"unknown FastSRB equation id(s): {', '.join(unknown)}")
        return [by_id[i] for i in wanted]
    pool = [e for e in equations if include_excluded or not e.excluded]
    if subset is None or subset >= len(pool):
        return pool
    if subset < 1:
        raise ValueError(f"subset must be a positive number of equations, got {subset}")
    picks = np.unique(np.linspace(0, len(pool) - 1, subset).round().astype(int))
    return [pool[i] for i in picks]


# -------------------------------------------------------------------------------------------------- the draw itself
_SIGNS = np.array([-1.0, 1.0])


def _draw_column(rng: np.random.Generator, var: Variable, n: int) -> np.ndarray:
    """One column, consuming the stream exactly as FastSRB's sampler: uniform, then signs, then rounding.

    ``rng.choice([-1.0, 1.0], size=n)`` is ``integers(0, 2, size=n)`` indexing the pair (same draws, a third of
    the cost)."""
    if math.isclose(var.low, var.high):
        values = np.full(n, var.high)  # no draw at all for a degenerate range
    elif var.dist == "log-uniform":
        values = 10.0 ** rng.uniform(math.log10(var.low), math.log10(var.high), size=n)
    else:
        values = rng.uniform(var.low, var.high, size=n)
    if var.sign == "-":
        values = -np.abs(values)
    elif var.sign == "±":
        values = values * _SIGNS[rng.integers(0, 2, size=n)]
    if var.integer:
        values = np.rint(values)
    return values.astype(np.float64, copy=False)


def _draw_value(rng: np.random.Generator, var: Variable) -> float:
    """``_draw_column(rng, var, 1)[0]`` with scalar draws (same stream, same value: ``np.power`` on a scalar rounds
    as on an array, Python's ``**`` does not)."""
    if math.isclose(var.low, var.high):
        value = var.high
    elif var.dist == "log-uniform":
        value = float(np.power(10.0, rng.uniform(math.log10(var.low), math.log10(var.high))))
    else:
        value = rng.uniform(var.low, var.high)
    if var.sign == "-":
        value = -abs(value)
    elif var.sign == "±":
        value = value * (-1.0, 1.0)[rng.integers(0, 2)]
    if var.integer:
        value = float(np.rint(value))
    return value


def _finite(*arrays: np.ndarray) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrays)


def _per_point_pass(rng, equation: FastSRBEquation, f, n: int, max_trials: int) -> tuple[np.ndarray, np.ndarray] | None:
    """One point-by-point pass: each point is redrawn until finite, at most ``max_trials`` times, else the pass fails.

    Every trial consumes the same draws whatever the previous outcome, so trials are drawn in batches and evaluated
    together. A batch never reaches past the stream position where the protocol would stop: at most the points
    still missing, and at most the trials the current point has left before the pass would fail.
    """
    rows: list[list[float]] = []
    ys: list[float] = []
    failures = 0
    while len(rows) < n:
        batch = min(n - len(rows), max_trials - failures)
        trial = np.array([[_draw_value(rng, v) for v in equation.variables] for _ in range(batch)])
        y = f(trial)
        ok = np.all(np.isfinite(trial), axis=1) & np.isfinite(y)
        for row, value, good in zip(trial.tolist(), y.tolist(), ok.tolist()):
            if good:
                rows.append(row)
                ys.append(value)
                failures = 0
            else:
                failures += 1
                if failures == max_trials:
                    return None
    return np.array(rows), np.array(ys)


def _draw_dataset(rng, equation: FastSRBEquation, f,
                  config: FastSRBConfig) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """Whole-dataset redraws first; if all fail, point-by-point passes (each point up to ``max_trials`` times, the
    whole pass itself retried up to ``max_trials`` times). ``None`` if even that fails."""
    n = config.n_points
    for _ in range(config.max_trials):
        X = np.column_stack([_draw_column(rng, v, n) for v in equation.variables])
        y = f(X)
        if _finite(X, y):
            return X, y, False
    for _ in range(config.max_trials):
        drawn = _per_point_pass(rng, equation, f, n, config.max_trials)
        if drawn is not None:
            return drawn[0], drawn[1], True
    return None


def _noise_scale(y_fit: np.ndarray) -> float:
    """std(y_fit) in the array's own dtype (Flash-ANSR's ``float(np.std(y_support))``); 0 where not usable."""
    with np.errstate(all="ignore"):
        std = float(np.std(y_fit))
    return std if math.isfinite(std) and std > 0 else 0.0


def _in_float32_range(*arrays: np.ndarray) -> bool:
    return all(bool(np.all(np.isfinite(a)) and np.max(np.abs(a)) <= _FLOAT32_MAX) for a in arrays)


def generate(config: FastSRBConfig | None = None, keep: Iterable[str] | None = None,
             equations: Sequence[FastSRBEquation] | None = None) -> Generated:
    """Walk the whole stream and return the datasets of the equations in ``keep`` (all when ``None``).

    Cached per (config, keep): the walk costs a few seconds, mostly the per-point fallback of three equations.
    """
    config = config or FastSRBConfig()
    keep_key = None if keep is None else frozenset(keep)
    if equations is None:
        return _generate_cached(config, keep_key)
    return _generate(config, keep_key, tuple(equations))


@lru_cache(maxsize=8)
def _generate_cached(config: FastSRBConfig, keep: frozenset | None) -> Generated:
    return _generate(config, keep, tuple(load_equations()))


def _generate(config: FastSRBConfig, keep: frozenset | None, equations: tuple[FastSRBEquation, ...]) -> Generated:
    if keep is not None:
        unknown = keep - {e.id for e in equations}
        if unknown:
            raise ValueError(f"unknown FastSRB equation id(s): {', '.join(sorted(unknown))}")
    rng = np.random.default_rng(config.seed)
    out = Generated(config=config, datasets=[])
    produced = 0
    for equation in equations:
        f = compile_expression(list(equation.tokens))
        for index in range(config.datasets_per_equation):
            drawn = None
            attempts = 0
            while attempts < config.max_dataset_attempts:
                attempts += 1
                candidate = _draw_dataset(rng, equation, f, config)
                if candidate is None:
                    break  # Flash-ANSR gives up on the slot when the sampler itself fails
                if _in_float32_range(candidate[0], candidate[1]):
                    drawn = candidate
                    break
            if drawn is None:
                out.missing[equation.id] = out.missing.get(equation.id, 0) + 1
                continue
            X, y, fallback = drawn
            if fallback:
                out.fallback[equation.id] = out.fallback.get(equation.id, 0) + 1
            dtype = np.float32 if config.precision == "float32" else np.float64
            y = y.astype(dtype)
            if not _noise_scale(y[: config.n_fit]) > 0:
                out.constant_fit.add(produced)
            if keep is None or equation.id in keep:
                out.datasets.append(Dataset(equation=equation, index=index, X=X.astype(dtype), y=y,
                                            n_fit=config.n_fit, stream_index=produced,
                                            per_point_fallback=fallback, attempts=attempts))
            produced += 1
    return out


# ------------------------------------------------------------------------------------------- sweeps' data variations
def add_noise(datasets: Sequence[Dataset], level: float, seed: int = 42,
              constant_fit: Iterable[int] = (), std_float64: bool = False) -> list[Dataset]:
    """Flash-ANSR's noise: ``y_fit + level * std(y_fit) * N(0, 1)`` on the fit split only, from its own
    ``default_rng(seed)`` drawn once per produced dataset in stream order (so a subset sees the same noise as a full
    run). Validation targets stay clean. ``constant_fit`` (``Generated.constant_fit``) names the stream positions
    whose fit-target spread is zero or not finite in the stored dtype: Flash-ANSR draws no noise for them, and
    neither does this (those datasets stay noise-free; the harness lists them). ``std_float64`` measures the spread
    in float64 instead, so every dataset gets noise (not Flash-ANSR's stream: report it apart)."""
    if level < 0:
        raise ValueError(f"noise level must be non-negative, got {level}")
    if level == 0:
        return list(datasets)
    by_stream = sorted(datasets, key=lambda d: d.stream_index)
    constant_fit = set() if std_float64 else set(constant_fit)
    rng = np.random.default_rng(seed)
    position = 0
    noisy: dict[int, Dataset] = {}
    for dataset in by_stream:
        # Datasets not selected still took their draw in a full run: skip over their blocks.
        while position < dataset.stream_index:
            if position not in constant_fit:
                rng.normal(size=dataset.n_fit)
            position += 1
        y = dataset.y.copy()
        y_fit = y[: dataset.n_fit]
        std = _noise_scale(y_fit.astype(np.float64) if std_float64 else y_fit)
        if std > 0:
            y[: dataset.n_fit] = y_fit + level * std * rng.normal(size=dataset.n_fit).astype(y.dtype)
        position += 1
        noisy[id(dataset)] = replace(dataset, y=y)
    return [noisy[id(d)] for d in datasets]


def sparsify(datasets: Sequence[Dataset], n_fit: int) -> list[Dataset]:
    """Keep only the first ``n_fit`` rows of each fit split; validation stays rows ``[n_fit_orig, n_points)`` so vNRR
    is judged on the same points at every sparsity (Flash-ANSR's code validates on rows ``n..1023`` instead)."""
    out = []
    for d in datasets:
        if not 1 <= n_fit <= d.n_fit:
            raise ValueError(f"n_fit must lie in 1..{d.n_fit} for a sparsity sweep, got {n_fit}")
        X = np.concatenate([d.X[:n_fit], d.X[d.n_fit:]])
        y = np.concatenate([d.y[:n_fit], d.y[d.n_fit:]])
        out.append(replace(d, X=X, y=y, n_fit=n_fit))
    return out
