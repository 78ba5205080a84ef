"""The sweep's grid: for every size and compute budget, how many optimiser steps that budget buys.

A run's training compute is ``steps · batch · F`` with F the paper's per-sample estimate 6·(N_enc·D_in + N_dec·D_out)
(``lawfinder.model.flops``): D_in is the number of table cells (points × (variables + 1)) and D_out the mean decoder
input length, measured on the held-out set (same generator, so the same length distribution as training). The steps
are the budget divided by ``batch · F``, rounded, so the realised FLOPs sit within half a batch of the budget; the
record keeps both (``flops_budget`` labels the IsoFLOP curve, ``flops`` is what was spent).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .config import SizeSpec, SweepConfig


@dataclass(frozen=True)
class SizeProfile:
    """What a size costs: parameters (N = N_enc + N_dec count linear layers only, as the paper's FLOPs rule) and
    the training FLOPs of one sample."""

    name: str
    params: int          # N_enc + N_dec (linear layers)
    params_total: int    # every parameter, embeddings and norms included
    n_enc: int
    n_dec: int
    d_in: int            # encoder tokens (cells) per sample
    d_out: float         # mean decoder input tokens per sample
    flops_per_sample: float
    batch_size: int
    lr: float


@dataclass(frozen=True)
class RunPlan:
    name: str            # run directory name, unique in the sweep
    size: str
    budget: float        # FLOPs asked for
    steps: int
    batch_size: int
    lr: float
    flops: float         # steps · batch · flops_per_sample
    samples: int
    params: int
    params_total: int
    flops_per_sample: float
    d_out: float = 0.0   # mean target (LaTeX) tokens per sample the decoder reads: D_out of the FLOPs rule

    def to_dict(self) -> dict:
        return asdict(self)


def steps_for_budget(budget: float, flops_per_sample: float, batch_size: int) -> int:
    """Optimiser steps whose samples cost ``budget`` FLOPs, rounded to the nearest step (>= 0)."""
    if flops_per_sample <= 0 or batch_size < 1:
        raise ValueError("flops_per_sample must be > 0 and batch_size >= 1")
    return max(0, round(budget / (flops_per_sample * batch_size)))


def run_name(size: str, budget: float) -> str:
    """``d32-C3e11``: the size and the budget's mantissa/exponent, safe as a directory name."""
    mantissa, exponent = f"{budget:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", size)
    return f"{safe}-C{mantissa}e{int(exponent)}"


def size_profile(size: SizeSpec, d_out: float, n_points: int) -> SizeProfile:
    """Count the size's parameters on the meta device (no memory) and price one sample."""
    import torch

    from ..model.build import build_model
    from ..model.flops import encoder_tokens, estimate_flops, linear_parameters
    from ..model.presets import get

    preset = get(size.preset)
    config = preset.model_config(**dict(size.model))
    with torch.device("meta"):
        model = build_model(config)
    n_enc, n_dec = linear_parameters(model.encoder), linear_parameters(model.decoder)
    d_in = encoder_tokens(config, n_points)
    base = preset.train
    return SizeProfile(
        name=size.name, params=n_enc + n_dec, params_total=sum(p.numel() for p in model.parameters()),
        n_enc=n_enc, n_dec=n_dec, d_in=d_in, d_out=float(d_out),
        flops_per_sample=estimate_flops(n_enc, n_dec, d_in, d_out),
        batch_size=size.batch_size or base.batch_size, lr=size.lr or base.lr)


def plan_runs(config: SweepConfig, profiles: dict[str, SizeProfile]) -> tuple[list[RunPlan], list[str]]:
    """Every (size, budget) run in the order sizes × budgets, and why some were left out (too few steps)."""
    runs, skipped = [], []
    for size in config.sizes:
        profile = profiles[size.name]
        for budget in config.budgets:
            steps = steps_for_budget(budget, profile.flops_per_sample, profile.batch_size)
            name = run_name(size.name, budget)
            if steps < config.min_steps:
                skipped.append(f"{name}: {steps} steps at batch {profile.batch_size} (min_steps={config.min_steps})")
                continue
            samples = steps * profile.batch_size
            runs.append(RunPlan(name=name, size=size.name, budget=float(budget), steps=steps,
                                batch_size=profile.batch_size, lr=profile.lr,
                                flops=samples * profile.flops_per_sample, samples=samples, params=profile.params,
                                params_total=profile.params_total, flops_per_sample=profile.flops_per_sample,
                                d_out=profile.d_out))
    return runs, skipped


def format_plan(runs: list[RunPlan], profiles: dict[str, SizeProfile], skipped: list[str]) -> str:
    """A human table of the grid (sizes, then runs)."""
    lines = [f"{'size':<8} {'N (linear)':>11} {'N (all)':>9} {'FLOPs/sample':>13} {'batch':>6} {'lr':>8}"]
    for p in profiles.values():
        lines.append(f"{p.name:<8} {p.params:>11,} {p.params_total:>9,} {p.flops_per_sample:>13.3g} "
                     f"{p.batch_size:>6} {p.lr:>8.2g}")
    lines.append("")
    lines.append(f"{'run':<18} {'steps':>7} {'samples':>9} {'FLOPs':>10} {'tokens/param':>13}")
    for r in runs:
        tokens = r.flops / (6 * r.params)
        lines.append(f"{r.name:<18} {r.steps:>7} {r.samples:>9} {r.flops:>10.3g} {tokens / r.params:>13.2f}")
    lines.extend(f"skipped {s}" for s in skipped)
    return "\n".join(lines)
