"""Constants and support points for one skeleton: the random draws, one numpy call per quantity (the arithmetic that
turns interval ends and uniforms into inputs is in ``data_kernels``).

Flash-ANSR's input prior draws, for each variable, an interval U(min(a, b), max(a, b)) with a, b ~ N(0, 10) and
clips the values to ±30; the scaling-laws prior draws points from a random Gaussian mixture.
"""

from __future__ import annotations

import numpy as np

from .config import GeneratorConfig
from .data_kernels import float32_values, probe_inputs, probe_owners, try_inputs


def sample_constants(config: GeneratorConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` constant values (float64 holding float32-representable values for the float prior)."""
    if config.constant_distribution == "normal":
        return rng.normal(config.constant_loc, config.constant_scale, n).astype(np.float32).astype(np.float64)
    if config.constant_distribution == "uniform":
        return rng.uniform(config.constant_low, config.constant_high, n).astype(np.float32).astype(np.float64)
    return sample_integer_constants(config, rng, n).astype(np.float64)


def sample_integer_constants(config: GeneratorConfig, rng: np.random.Generator, n: int,
                             exclude: tuple[int, ...] = ()) -> np.ndarray:
    """Uniform integers in ``constant_low..constant_high`` minus ``exclude`` (e.g. 0 for a factor)."""
    values = np.arange(int(np.ceil(config.constant_low)), int(np.floor(config.constant_high)) + 1)
    if exclude:
        values = values[~np.isin(values, exclude)]
    if values.size == 0:
        raise ValueError(f"constant_low..constant_high ({config.constant_low}..{config.constant_high}) holds no "
                         f"integer outside {list(exclude)}")
    return values[rng.integers(0, values.size, n)]


def sample_n_points(config: GeneratorConfig, rng: np.random.Generator) -> int:
    """Flash-ANSR's n ~ U(min, max) rounded to an integer (Python arithmetic: numpy scalar calls cost ~10 µs)."""
    if config.min_points == config.max_points:
        return config.max_points
    u = config.min_points + (config.max_points - config.min_points) * float(rng.random())
    return min(max(round(u), config.min_points), config.max_points)


def point_params(config: GeneratorConfig, rng: np.random.Generator, d: int, tries: int = 1) -> tuple:
    """Input distributions for ``tries`` independent datasets: per-variable intervals (their two ends, drawn in one
    (2, d, tries) array), or one Gaussian mixture per try."""
    if config.point_distribution == "intervals":
        # The interval ends (2, d, tries): try t's variable v is U(min(a, b), max(a, b)) for a, b = ab[:, v, t]
        # (see data_kernels).
        return ("intervals", rng.normal(0.0, config.interval_std, (2, d, tries)))
    mixtures = []
    for _ in range(tries):
        k = int(rng.integers(1, config.mixture_max_components + 1))
        weights = rng.dirichlet(np.ones(k))
        means = rng.normal(0.0, config.mixture_mean_std, (k, d))
        scales = np.exp(rng.uniform(np.log(config.mixture_scale_low), np.log(config.mixture_scale_high), (k, d)))
        mixtures.append((weights, means, scales))
    return ("mixture", mixtures)


def draw_points(config: GeneratorConfig, rng: np.random.Generator, params: tuple, n: int, i: int = 0) -> np.ndarray:
    """``(d, n)`` float64 inputs of try ``i`` (variables as contiguous rows, which numpy evaluates fastest)."""
    if params[0] == "intervals":
        ab = params[1]
        return try_inputs(ab, rng.random((ab.shape[1], n)), i, config.point_clip)
    weights, means, scales = params[1][i]
    component = rng.choice(weights.size, size=n, p=weights)
    return float32_values((means[component] + scales[component] * rng.standard_normal((n, means.shape[1]))).T)


def draw_probes(config: GeneratorConfig, rng: np.random.Generator, params: tuple, m: int,
                singles: int = 0, single_points: int = 1) -> np.ndarray:
    """``(d, tries * m + singles * single_points)``: ``m`` points of each try side by side (try t owns columns
    t*m .. t*m+m-1), then ``single_points`` points of each of the last ``singles`` tries of ``params`` (the
    early-rejection screen's draws; see ``data_kernels.probe_owners``)."""
    if params[0] == "intervals":
        ab = params[1]
        _, d, total = ab.shape
        tries = total - singles
        return probe_inputs(ab, rng.random((d, tries * m + singles * single_points)), tries, m, config.point_clip,
                            single_points)
    tries = len(params[1]) - singles
    blocks = [draw_points(config, rng, params, m, i) for i in range(tries)]
    blocks += [draw_points(config, rng, params, single_points, tries + i) for i in range(singles)]
    return np.concatenate(blocks, axis=1)


def draw_block(config: GeneratorConfig, rng: np.random.Generator, d: int, n_const: int, tries: int, probe: int,
               screen: int = 0, width: int = 1, fixed_constants: np.ndarray | None = None) -> tuple:
    """One probe block's random draws, in the generator's order: (the tries' constants (tries, n_const), the
    constant values per point for ``evaluate``, the input parameters, the (d, tries * probe + screen * width)
    inputs). Try t owns ``probe`` columns, then each of ``screen`` screen draws ``width`` columns, each column
    with its own draw's constants (``fixed_constants``: the same for all)."""
    if fixed_constants is not None:
        constants = np.broadcast_to(fixed_constants, (tries, fixed_constants.size))
        per_point = list(fixed_constants)
    else:
        drawn = sample_constants(config, rng, (tries + screen) * n_const).reshape(n_const, tries + screen)
        constants = drawn[:, :tries].T
        if tries == 1 and screen == 0:
            per_point = list(constants[0])
        else:
            per_point = list(drawn.take(probe_owners(tries, probe, screen, width), axis=1))
    params = point_params(config, rng, d, tries + screen)
    return constants, per_point, params, draw_probes(config, rng, params, probe, screen, width)
