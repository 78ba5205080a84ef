"""The named presets: one record per name holding the model, its training and its data preset together.

``get("flash-3M")`` is the one lookup every caller makes (trainer actor, ``lawfinder train``, sizing, the scaling
sweep's plan, the benchmarks); an unknown name is a one-line error listing the known ones. Torch-free, so the CLI and
data workers read presets cheaply.

Batch size and learning rate: each preset's batch is its *reference* batch. Training with another batch scales the
peak LR by the square-root rule, ``lr · sqrt(batch / reference)`` (the rule for Adam-type optimisers of Malladi et
al., "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms", NeurIPS 2022), unless the LR itself is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from ..overrides import lookup
from .config import ModelConfig, TrainConfig, flash_model, scaling_model
from .shapes import linear_buckets

# Generator presets (lawfinder.generate.PRESETS) and their largest point count and target length (<bos> .. <eos>),
# which bound the padded axes a compiled step sees. Written here rather than imported so that reading a preset does
# not load the generator; a test checks them against the generator's configs. Flash-ANSR skeletons have at most 35
# tokens, so its targets fit 40: buckets of 16/24/32/40 tokens rather than a quarter of the decoder's 128.
DATA_MAX_POINTS = {"flash-ansr": 1024, "scaling-laws": 64}
DATA_MAX_TOKENS = {"flash-ansr": 40, "scaling-laws": 128}


def scaled_lr(lr: float, batch_size: int, reference_batch: int) -> float:
    """The square-root rule: the peak LR for ``batch_size`` when ``lr`` is right for ``reference_batch``."""
    if batch_size < 1 or reference_batch < 1:
        raise ValueError(f"batch sizes must be >= 1, got {batch_size} and {reference_batch}")
    return lr * math.sqrt(batch_size / reference_batch)


@dataclass(frozen=True)
class Preset:
    name: str
    model: ModelConfig
    train: TrainConfig     # at the reference batch size
    data: str              # generator preset that makes this model's training data

    def train_config(self, batch_size: int | None = None, overrides=()) -> TrainConfig:
        """The preset's TrainConfig with fields replaced by name; a new ``batch_size`` scales the LR by
        ``scaled_lr`` unless ``lr`` is among the overrides."""
        overrides = dict(overrides)
        known = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown} for preset {self.name!r}")
        batch = int(batch_size or overrides.get("batch_size") or self.train.batch_size)
        if "lr" not in overrides and batch != self.train.batch_size:
            overrides["lr"] = scaled_lr(self.train.lr, batch, self.train.batch_size)
        overrides["batch_size"] = batch
        return replace(self.train, **overrides)

    def model_config(self, **overrides: Any) -> ModelConfig:
        known = {f.name for f in fields(ModelConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {unknown} for preset {self.name!r}")
        return replace(self.model, **overrides)


def _buckets(model: ModelConfig, data: str) -> dict:
    return {"point_buckets": linear_buckets(DATA_MAX_POINTS[data]),
            "token_buckets": linear_buckets(min(DATA_MAX_TOKENS[data], model.max_len))}


def _flash(name: str, model: ModelConfig, steps: int, lr: float = 1e-4, **kw) -> Preset:
    # Flash-ANSR v23.0 train.yaml (facts §5): AdamW, WSD schedule, batch 128.
    train = TrainConfig(lr=lr, max_steps=steps, schedule="wsd", warmup=0.1, stable=0.7, batch_size=128,
                        **{**_buckets(model, "flash-ansr"), **kw})
    return Preset(name, model, train, "flash-ansr")


def _scaling(name: str, model: ModelConfig, lr: float, batch: int) -> Preset:
    # AdamCPR (β 0.9, 0.98), 5 % linear warmup then cosine; steps follow from the compute budget, set per run.
    train = TrainConfig(lr=lr, betas=(0.9, 0.98), weight_decay=0.0, optimizer="adamcpr", schedule="cosine",
                        warmup=0.05, stable=0.0, batch_size=batch, max_steps=100_000,
                        **_buckets(model, "scaling-laws"))
    return Preset(name, model, train, "scaling-laws")


def _tiny(name: str, model: ModelConfig, data: str) -> Preset:
    train = TrainConfig(lr=3e-3, max_steps=1000, warmup=0.05, stable=0.75, batch_size=16, **_buckets(model, data))
    return Preset(name, model, train, data)


def _presets() -> dict[str, Preset]:
    flash_1b = _flash("flash-1B", flash_model(1280, 20, 10, 20, 3840), 4_000_000, lr=3e-5, betas=(0.9, 0.99995),
                      weight_decay=0.025)
    presets = [
        _flash("flash-3M", flash_model(192, 3, 1, 3, 576), 1_000_000),
        _flash("flash-20M", flash_model(384, 6, 2, 6, 1152), 2_000_000),
        _flash("flash-120M", flash_model(640, 10, 5, 10, 1920), 3_000_000),
        replace(flash_1b, train=replace(flash_1b.train, warmup=0.1875, stable=0.5625)),
        # The scaling-laws paper's best LR / batch per size (reported for XS, S, M and XL; L interpolated).
        _scaling("sl-XS", scaling_model(256, 3, 4), 4.6e-4, 32),
        _scaling("sl-S", scaling_model(320, 4, 5), 4.6e-4, 128),
        _scaling("sl-M", scaling_model(384, 5, 6), 4.6e-4, 128),
        _scaling("sl-L", scaling_model(448, 7, 7), 7e-4, 256),
        _scaling("sl-XL", scaling_model(512, 11, 8), 1e-3, 256),
        # Small models for tests and CPU smoke runs: same code paths, a few thousand parameters.
        _tiny("flash-tiny", replace(flash_model(32, 2, 1, 2, 64), n_inducing=8, n_seeds=8, dropout=0.0,
                                    input_noise=0.0), "flash-ansr"),
        _tiny("sl-tiny", replace(scaling_model(32, 2, 2), ffn_hidden=64), "scaling-laws"),
    ]
    return {p.name: p for p in presets}


PRESETS: dict[str, Preset] = _presets()


def get(name: str) -> Preset:
    """The preset record named ``name``; an unknown name is a ValueError listing the known ones."""
    return lookup(PRESETS, name, "model preset")


def get_preset(name: str, **overrides: Any) -> ModelConfig:
    """A preset's ModelConfig with fields overridden by keyword (``get_preset("flash-3M", dropout=0.0)``)."""
    return get(name).model_config(**overrides)
