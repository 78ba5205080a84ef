"""``ModelConfig`` and the named presets of both papers (sizes from flash-ansr-facts §4 and the scaling-laws table).

Torch-free so that CLIs and data workers can read presets cheaply. ``PAPER_PARAMETERS`` holds the parameter counts the
papers report; tests check every preset against them (see PRESETS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..overrides import check_fields
from .tokenizer import get_tokenizer

KINDS = ("set", "table")


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


def _flash(d: int, heads: int, layers: int, dec: int, ffn: int) -> ModelConfig:
    return ModelConfig(kind="set", tokenizer="prefix", d_model=d, n_heads=heads, ffn_hidden=ffn, n_isab=layers,
                       n_sab=layers, n_decoder_layers=dec, max_variables=17, max_len=128, dropout=0.1)


def _scaling(d: int, layers: int, heads: int) -> ModelConfig:
    # The paper gives dimension, layers and heads; a 4·d feed-forward width reproduces its parameter counts, and
    # no dropout (its runs are single-epoch over fresh data).
    return ModelConfig(kind="table", tokenizer="latex", d_model=d, n_heads=heads, ffn_hidden=4 * d,
                       n_encoder_layers=layers, n_decoder_layers=layers, max_variables=2, max_len=128, dropout=0.0,
                       input_noise=0.0)


PRESETS: dict[str, ModelConfig] = {
    "flash-3M": _flash(192, 3, 1, 3, 576),
    "flash-20M": _flash(384, 6, 2, 6, 1152),
    "flash-120M": _flash(640, 10, 5, 10, 1920),
    "flash-1B": _flash(1280, 20, 10, 20, 3840),
    "sl-XS": _scaling(256, 3, 4),
    "sl-S": _scaling(320, 4, 5),
    "sl-M": _scaling(384, 5, 6),
    "sl-L": _scaling(448, 7, 7),
    "sl-XL": _scaling(512, 11, 8),
    # Small models for tests and CPU smoke runs: same code paths, a few thousand parameters.
    "flash-tiny": replace(_flash(32, 2, 1, 2, 64), n_inducing=8, n_seeds=8, dropout=0.0, input_noise=0.0),
    "sl-tiny": replace(_scaling(32, 2, 2), ffn_hidden=64),
}

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


def get_preset(name: str, **overrides: Any) -> ModelConfig:
    """A preset by name with fields overridden by keyword (``get_preset("flash-3M", dropout=0.0)``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {sorted(PRESETS)}")
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown ModelConfig field(s) {unknown} for preset {name!r}")
    return replace(PRESETS[name], **overrides)
