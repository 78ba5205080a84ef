"""``ModelConfig`` (every knob of one model) and ``TrainConfig`` (every knob of its training), with the builders of
both papers' architectures (sizes from flash-ansr-facts §4 and the scaling-laws table).

Torch-free so that CLIs and data workers can read configs cheaply. The named presets (model + train + data together)
are in ``presets.py``; ``PAPER_PARAMETERS`` holds the parameter counts the papers report, which tests check every
preset against (see PRESETS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..overrides import check_fields
from .schedule import SCHEDULES, learning_rate
from .tokenizer import get_tokenizer

KINDS = ("set", "table")
OPTIMIZERS = ("adamw", "adamcpr")
KAPPA_INITS = ("warm_start", "dependent", "uniform", "inflection_point")
PRECISIONS = ("auto", "bf16", "fp32")


@dataclass(frozen=True)
class ModelConfig:
    """Every knob of one encoder-decoder model.

    ``kind="set"`` is Flash-ANSR (Set Transformer over points, prefix skeletons); ``kind="table"`` is the scaling-laws
    paper's table-aware encoder (attention along rows and columns of cells, LaTeX targets with digits).
    """

    kind: str = "set"
    tokenizer: str = "prefix"
    d_model: int = 192
    n_heads: int = 3
    ffn_hidden: int = 576
    n_decoder_layers: int = 3
    max_variables: int = 17   # input columns besides y; fewer real ones are masked
    max_len: int = 128        # longest token sequence (with <bos>/<eos>) the decoder's RoPE table covers
    dropout: float = 0.1
    norm_eps: float = 1e-6
    rope_base: float = 10000.0
    # Set Transformer encoder (kind="set").
    n_isab: int = 1
    n_sab: int = 1
    n_inducing: int = 128
    n_seeds: int = 128
    input_noise: float = 0.1  # N(0, σ) added to the ±1 bit features while training (Flash-ANSR pre_encoder_noise)
    # Table-aware encoder (kind="table").
    n_encoder_layers: int = 3
    max_exponent: int = 40    # decimal exponents are clipped to ±max_exponent before their embedding lookup

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"ModelConfig.kind must be one of {KINDS}, got {self.kind!r}")
        get_tokenizer(self.tokenizer)
        for name in ("d_model", "n_heads", "ffn_hidden", "n_decoder_layers", "max_variables", "max_len",
                     "n_inducing", "n_seeds", "max_exponent"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError(f"ModelConfig.d_model={self.d_model} must split into n_heads={self.n_heads} heads of "
                             f"even size (RoPE rotates pairs)")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must lie in [0, 1), got {self.dropout}")

    @property
    def vocab_size(self) -> int:
        return len(get_tokenizer(self.tokenizer))

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        check_fields(cls, data)
        return cls(**data)

def flash_model(d: int, heads: int, layers: int, dec: int, ffn: int) -> ModelConfig:
    return ModelConfig(kind="set", tokenizer="prefix", d_model=d, n_heads=heads, ffn_hidden=ffn, n_isab=layers,
                       n_sab=layers, n_decoder_layers=dec, max_variables=17, max_len=128, dropout=0.1)


def scaling_model(d: int, layers: int, heads: int) -> ModelConfig:
    # The paper gives dimension, layers and heads; a 4·d feed-forward width reproduces its parameter counts, and
    # no dropout (its runs are single-epoch over fresh data).
    return ModelConfig(kind="table", tokenizer="latex", d_model=d, n_heads=heads, ffn_hidden=4 * d,
                       n_encoder_layers=layers, n_decoder_layers=layers, max_variables=2, max_len=128, dropout=0.0,
                       input_noise=0.0)


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 0.01
    schedule: str = "wsd"
    warmup: float = 0.1       # fraction of max_steps
    stable: float = 0.7       # fraction of max_steps ("wsd"); the rest decays
    min_lr_ratio: float = 0.0
    max_steps: int = 1_000_000
    batch_size: int = 128
    # Micro-batches per optimiser step: the batch is split in this many parts whose gradients add up to the whole
    # batch's (for batches that do not fit in memory at once).
    grad_accum: int = 1
    clip: float = 2.0
    optimizer: str = "adamw"
    cpr_kappa_init: str = "inflection_point"
    cpr_kappa_param: float = 1000.0
    cpr_reg_step_size: int = 200
    compile: bool | None = None        # None: compiled on CUDA, eager on CPU
    # Autocast dtype of the forward pass (parameters, gradients and the optimiser stay fp32): "auto" = bf16 on CUDA
    # and on a CPU with AMX tiles (where bf16 matrix multiplies are several times faster than fp32), fp32 elsewhere.
    precision: str = "auto"
    compile_mode: str | None = None    # None: "reduce-overhead" (CUDA graphs) on CUDA, torch's default elsewhere
    trim_padding: bool = True  # drop all-pad token columns per batch (eager runs; compiled runs pad to buckets)
    # Padded sizes a compiled step rounds the point count / token length up to, so that it sees a few fixed shapes
    # (one graph each) instead of one per batch; a larger batch is rounded up to a multiple of 8.
    point_buckets: tuple[int, ...] = ()
    token_buckets: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"TrainConfig.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.cpr_kappa_init not in KAPPA_INITS:
            raise ValueError(f"TrainConfig.cpr_kappa_init must be one of {KAPPA_INITS}, got {self.cpr_kappa_init!r}")
        if self.max_steps < 1 or self.batch_size < 1:
            raise ValueError("TrainConfig.max_steps and batch_size must be >= 1")
        if not 1 <= self.grad_accum <= self.batch_size:
            raise ValueError(f"TrainConfig.grad_accum must lie in [1, batch_size={self.batch_size}], "
                             f"got {self.grad_accum}")
        if not (0 <= self.warmup <= 1 and 0 <= self.stable <= 1 and self.warmup + self.stable <= 1):
            raise ValueError(f"TrainConfig warmup={self.warmup} and stable={self.stable} must be fractions summing "
                             f"to at most 1")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        for name in ("point_buckets", "token_buckets"):
            sizes = tuple(sorted(int(b) for b in getattr(self, name)))
            if any(b < 1 for b in sizes):
                raise ValueError(f"TrainConfig.{name} must hold positive sizes, got {sizes}")
            object.__setattr__(self, name, sizes)

    def lr_at(self, step: int) -> float:
        return learning_rate(step, self.max_steps, self.lr, self.schedule, self.warmup, self.stable, self.min_lr_ratio)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "betas": list(self.betas), "point_buckets": list(self.point_buckets),
                "token_buckets": list(self.token_buckets)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        check_fields(cls, data)
        return cls(**data)


# Parameter counts reported by the papers (Flash-ANSR Appendix B Table 3; scaling-laws architecture table):
# (total, encoder, decoder); None where the paper gives no split.
PAPER_PARAMETERS: dict[str, tuple[float, float | None, float | None]] = {
    "flash-3M": (3.2e6, 1.6e6, 1.6e6),
    "flash-20M": (23e6, 10.4e6, 12.4e6),
    "flash-120M": (122e6, 64.4e6, 57.5e6),
    "flash-1B": (955e6, 494e6, 459e6),
    "sl-XS": (6.48e6, None, None),
    "sl-S": (13.40e6, None, None),
    "sl-M": (24.01e6, None, None),
    "sl-L": (45.53e6, None, None),
    "sl-XL": (93.08e6, None, None),
}
