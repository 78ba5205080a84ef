"""Every knob of the training-data generator in one dataclass, with the two papers' priors as named presets.

``PRESETS["flash-ansr"]`` is Flash-ANSR's v23 training prior (paper §3.3, recovered config values in
the values recovered from Flash-ANSR's v23 configs); ``PRESETS["scaling-laws"]`` is the exhaustive depth-3 generator of
"Towards Scaling Laws for Symbolic Regression". Any field can be overridden by name (``with_overrides``, or the CLI's
``--set NAME=VALUE``, parsed by ``parse_override``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..overrides import lookup, parse_assignment
from ..simplipy.operators import OPERATORS

KINDS = ("prior", "exhaustive")
CONSTANT_DISTRIBUTIONS = ("normal", "uniform", "integer")
POINT_DISTRIBUTIONS = ("intervals", "gaussian-mixture")
TOKENIZERS = ("prefix", "latex")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def prior_weights(arity: int) -> tuple:
    """Flash-ANSR's operator weights of one arity as ``(name, weight)`` pairs, from the operator records' prior
    weights (33 unary operators of weight 1; +, -, *, / of weight 10), in the records' order."""
    return tuple((op.name, op.prior_weight) for op in OPERATORS.values() if op.arity == arity and op.prior_weight > 0)



@dataclass(frozen=True)
class GeneratorConfig:
    """One generator prior. Weighted operator lists are tuples of ``(name, weight)`` pairs (hashable, ordered)."""

    name: str = "flash-ansr"
    kind: str = "prior"  # "prior": Lample–Charton random trees; "exhaustive": scaling-laws enumeration

    # ---- expression prior (kind="prior")
    min_operators: int = 0
    max_operators: int = 17
    # P(k) ∝ exp(k**power / scale): Flash-ANSR's `length_exponential`, whose mass grows with k (mean ≈ 14.5).
    operator_count_power: float = 0.7
    operator_count_scale: float = 1.0
    # Weights are normalised within an arity because the tree shape fixes the arity first (facts §1, code reading).
    binary_operators: tuple = field(default_factory=lambda: prior_weights(2))
    unary_operators: tuple = field(default_factory=lambda: prior_weights(1))
    max_variables: int = 17
    leaf_constants: bool = True  # `<constant>` is one of the leaf symbols, next to x1..x{max_variables}
    simplify: bool = True
    max_skeleton_length: int = 35  # checked after simplification
    relabel_variables: bool = False  # True: rename to x1..xd by first appearance (Flash-ANSR keeps sampled names)
    decontaminate: bool = True

    # ---- exhaustive enumeration (kind="exhaustive")
    max_depth: int = 3
    constant_probability: float = 0.2  # chance that a node of a base expression gets an integer constant
    pairs_per_expression: int = 3600  # k (expression, dataset) pairs per base expression: one per epoch

    # ---- constants
    constant_distribution: str = "normal"  # "normal" (loc, scale) | "uniform" (low, high) | "integer" (low..high)
    constant_loc: float = 0.0
    constant_scale: float = 5.0
    constant_low: float = -5.0
    constant_high: float = 5.0

    # ---- support points
    min_points: int = 1
    max_points: int = 1024
    point_distribution: str = "intervals"  # "intervals": per variable U(a, b) with a, b ~ N(0, interval_std)
    interval_std: float = 10.0
    point_clip: float = 30.0
    mixture_max_components: int = 5  # "gaussian-mixture": 1..K components, Dirichlet(1) weights
    mixture_mean_std: float = 2.0  # component means ~ N(0, mixture_mean_std) per variable
    mixture_scale_low: float = 0.1  # component std ~ LogUniform(low, high) per variable
    mixture_scale_high: float = 2.0
    # Data draws (new constants and points, same n) before a skeleton is given up. Flash-ANSR's training stream
    # gives each skeleton 20 (facts §1); the paper's text says 4.
    max_data_tries: int = 20
    # Independent data chains (each a fresh n and up to max_data_tries draws) run on one simplified skeleton; each
    # chain that succeeds is a sample. Every chain is distributed as the single chain of a freshly drawn skeleton, so
    # the law of each sample is unchanged, but k consecutive samples share their skeleton: the skeleton, simplify,
    # tokenize and decontaminate work is paid once per k chains. 1 (Flash-ANSR: a new skeleton for every instance)
    # unless producers cannot keep up and a training run has shown the correlation does not hurt.
    datasets_per_skeleton: int = 1
    # Early rejection (issue 21): ``screen_points`` fresh draws (constants and input intervals) of
    # ``screen_points_per_draw`` points each (the first min(that, n)), evaluated in the same numpy pass as the probes
    # of draws 1-4. When draw 1 fails, a skeleton with fewer than ``screen_min_finite`` screen draws whose points are
    # all finite is dropped before the other draws are used ("non_finite_screen"). A draw succeeds only if its first
    # points do, so what the screen drops is mostly skeletons whose draws almost never succeed (with one-point screen
    # draws, nearly a fifth of all data chains still ran all 20 draws and failed). Measured (``lawfinder bench
    # draw-rules`` and ``bench generate``, docs/training.md): 24 draws of 6 points, 3 finite, give 3.84 data draws per
    # sample one at a time (9.18 with the earlier 64 one-point draws, 4 finite; 14.6 with none), +2.4 % samples/s
    # against the one-point screen, and drop ~6 % of the samples the 20-draw prior would give, mostly asin/acos/atanh
    # (about 0.6 of their share) whose argument must stay in [-1, 1]; operator, length and variable histograms stay
    # within 0.01 total variation of the unscreened ones. 0 in screen_min_finite turns the screen off. Interval
    # inputs only: a mixture prior's per-draw parameters cost a Python loop per draw.
    screen_points: int = 24
    screen_min_finite: int = 3
    screen_points_per_draw: int = 6
    # "Absurdly large": y must stay inside float32 (Flash-ANSR rejects what does not cast to a finite float32).
    max_abs_value: float = FLOAT32_MAX

    # ---- targets
    tokenizer: str = "prefix"  # "prefix" token ids or "latex" token ids (integers spelled as digits)
    max_len: int = 128  # token ids incl. <bos>/<eos>; Flash-ANSR's decoder length. Longer targets are rejected.
    batch_size: int = 128

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, KINDS)
        _check_choice("constant_distribution", self.constant_distribution, CONSTANT_DISTRIBUTIONS)
        _check_choice("point_distribution", self.point_distribution, POINT_DISTRIBUTIONS)
        _check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        for name, arity in (("binary_operators", 2), ("unary_operators", 1)):
            pairs = getattr(self, name)
            if isinstance(pairs, dict):  # accept {"+": 10, ...} for convenience, store the hashable form
                pairs = tuple(pairs.items())
            pairs = tuple((str(op), float(w)) for op, w in pairs)
            object.__setattr__(self, name, pairs)
            for op, weight in pairs:
                if op not in OPERATORS:
                    raise ValueError(f"{name}: unknown operator {op!r}")
                if OPERATORS[op].arity != arity:
                    raise ValueError(f"{name}: operator {op!r} has arity {OPERATORS[op].arity}, not {arity}")
                if not (weight >= 0 and np.isfinite(weight)):
                    raise ValueError(f"{name}: weight of {op!r} must be finite and >= 0, got {weight}")
        if not any(w > 0 for _, w in self.binary_operators + self.unary_operators):
            raise ValueError("binary_operators/unary_operators: no operator has a positive weight")
        for name in ("max_operators", "max_variables", "min_points", "max_points", "max_data_tries", "max_len",
                     "batch_size", "pairs_per_expression", "datasets_per_skeleton", "screen_points_per_draw"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.screen_points < 0 or self.screen_min_finite < 0:
            raise ValueError(f"screen_points and screen_min_finite must be >= 0, got {self.screen_points} and "
                             f"{self.screen_min_finite}")
        if self.screen_min_finite > self.screen_points > 0:
            raise ValueError(f"screen_min_finite ({self.screen_min_finite}) exceeds screen_points "
                             f"({self.screen_points}): every skeleton would be dropped")
        if not 0 <= self.min_operators <= self.max_operators:
            raise ValueError(f"min_operators must be in 0..max_operators, got {self.min_operators}")
        if self.min_points > self.max_points:
            raise ValueError(f"min_points ({self.min_points}) exceeds max_points ({self.max_points})")
        if self.constant_low > self.constant_high:
            raise ValueError(f"constant_low ({self.constant_low}) exceeds constant_high ({self.constant_high})")
        if not 0.0 <= self.constant_probability <= 1.0:
            raise ValueError(f"constant_probability must be in [0, 1], got {self.constant_probability}")
        if self.operator_count_scale <= 0:
            raise ValueError(f"operator_count_scale must be > 0, got {self.operator_count_scale}")
        if self.tokenizer == "latex" and self.constant_distribution != "integer":
            raise ValueError("tokenizer='latex' spells constants digit by digit, so it needs "
                             "constant_distribution='integer'")
        if not 0 < self.mixture_scale_low <= self.mixture_scale_high:
            raise ValueError("mixture_scale_low must be in (0, mixture_scale_high]")

    def with_overrides(self, **overrides) -> "GeneratorConfig":
        """A copy with fields replaced by name; an unknown name is a ValueError that lists the known ones."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown GeneratorConfig field(s) {unknown}; known: {sorted(known)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        for name in ("binary_operators", "unary_operators"):
            out[name] = dict(out[name])
        return out

    def operator_weights(self, arity: int) -> dict[str, float]:
        return dict(self.binary_operators if arity == 2 else self.unary_operators)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def parse_override(text: str) -> tuple[str, object]:
    """``"NAME=VALUE"`` -> ``(name, value)`` for a GeneratorConfig field (JSON for operator weights)."""
    return parse_assignment(GeneratorConfig, text, "override")


FLASH_ANSR = GeneratorConfig()

SCALING_LAWS = GeneratorConfig(
    name="scaling-laws",
    kind="exhaustive",
    binary_operators=(("+", 1.0), ("-", 1.0), ("*", 1.0), ("/", 1.0)),
    unary_operators=(("exp", 1.0), ("sin", 1.0), ("neg", 1.0), ("pow1_2", 1.0)),
    max_variables=2,
    max_depth=3,
    max_skeleton_length=64,
    constant_distribution="integer",
    constant_low=-9.0,
    constant_high=9.0,
    constant_probability=0.2,
    pairs_per_expression=3600,
    min_points=64,
    max_points=64,
    point_distribution="gaussian-mixture",
    tokenizer="latex",
    max_len=128,
    # The paper holds out its own test expressions, not FastSRB's; we decontaminate anyway (a model trained here may
    # be scored on FastSRB). The check drops constants, so it filters whole base expressions.
    decontaminate=True,
)

PRESETS: dict[str, GeneratorConfig] = {"flash-ansr": FLASH_ANSR, "scaling-laws": SCALING_LAWS}


def preset(name: str, **overrides) -> GeneratorConfig:
    """A generator preset with fields overridden by keyword; an unknown name is a one-line error."""
    return lookup(PRESETS, name, "generator preset").with_overrides(**overrides)
