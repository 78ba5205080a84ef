"""``TrainConfig``, the papers' training presets and ``Trainer``: one optimiser step per call on a batch dict.

The trainer is plain state (model, optimiser, step) plus one method, so a Ray actor or a test can drive it. bf16
autocast on CUDA, fp32 on CPU; the LR comes from ``schedule.learning_rate`` at the current step; gradients are clipped
at a global norm. Checkpoint files are ``checkpoint.py``'s business; this module imports it (never the reverse):
``Trainer.save_checkpoint`` delegates there and ``load_checkpoint`` rebuilds a trainer from what it reads.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch

from ..overrides import check_fields
from .build import BATCH_KEYS, SymbolicModel, build_model
from .checkpoint import read_training_state, save_checkpoint
from .config import ModelConfig
from .optim import OPTIMIZERS, make_optimizer
from .schedule import SCHEDULES, learning_rate
from .tokenizer import Tokenizer


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
    clip: float = 2.0
    optimizer: str = "adamw"
    cpr_kappa_init: str = "inflection_point"
    cpr_kappa_param: float = 1000.0
    cpr_reg_step_size: int = 200
    compile: bool = False
    compile_mode: str | None = None
    trim_padding: bool = True  # drop all-pad token columns per batch (a shape change per batch; off for CUDA graphs)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"TrainConfig.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.max_steps < 1 or self.batch_size < 1:
            raise ValueError("TrainConfig.max_steps and batch_size must be >= 1")
        if not (0 <= self.warmup <= 1 and 0 <= self.stable <= 1 and self.warmup + self.stable <= 1):
            raise ValueError(f"TrainConfig warmup={self.warmup} and stable={self.stable} must be fractions summing "
                             f"to at most 1")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    def lr_at(self, step: int) -> float:
        return learning_rate(step, self.max_steps, self.lr, self.schedule, self.warmup, self.stable, self.min_lr_ratio)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "betas": list(self.betas)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        check_fields(cls, data)
        return cls(**{**data, **({"betas": tuple(data["betas"])} if "betas" in data else {})})


def _flash(steps: int, lr: float = 1e-4, **kw) -> TrainConfig:
    return TrainConfig(lr=lr, max_steps=steps, schedule="wsd", warmup=0.1, stable=0.7, batch_size=128, **kw)


def _scaling(lr: float, batch: int) -> TrainConfig:
    # AdamCPR (β 0.9, 0.98), 5 % linear warmup then cosine; steps follow from the compute budget, set per run.
    return TrainConfig(lr=lr, betas=(0.9, 0.98), weight_decay=0.0, optimizer="adamcpr", schedule="cosine",
                       warmup=0.05, stable=0.0, batch_size=batch, max_steps=100_000)


# Flash-ANSR v23.0 train.yaml (facts §5) and the scaling-laws paper's reported best LR / batch size per size
# (reported for XS, S, M and XL; L interpolated between M and XL).
TRAIN_PRESETS: dict[str, TrainConfig] = {
    "flash-3M": _flash(1_000_000),
    "flash-20M": _flash(2_000_000),
    "flash-120M": _flash(3_000_000),
    "flash-1B": replace(_flash(4_000_000, lr=3e-5, betas=(0.9, 0.99995), weight_decay=0.025), warmup=0.1875,
                        stable=0.5625),
    "sl-XS": _scaling(4.6e-4, 32),
    "sl-S": _scaling(4.6e-4, 128),
    "sl-M": _scaling(4.6e-4, 128),
    "sl-L": _scaling(7e-4, 256),
    "sl-XL": _scaling(1e-3, 256),
    "flash-tiny": TrainConfig(lr=3e-3, max_steps=1000, warmup=0.05, stable=0.75, batch_size=16),
    "sl-tiny": TrainConfig(lr=3e-3, max_steps=1000, warmup=0.05, stable=0.75, batch_size=16),
}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_tensors(batch: dict[str, Any], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """numpy arrays or tensors under ``BATCH_KEYS`` -> tensors on ``device`` (no copy for CPU numpy input)."""
    out = {}
    for key in BATCH_KEYS:
        if key not in batch:
            raise ValueError(f"batch lacks key {key!r}; expected {list(BATCH_KEYS)}")
        value = batch[key]
        tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))
        out[key] = tensor.to(device, non_blocking=True)
    return out


def trim_token_padding(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop token columns that are <pad> in every row."""
    tokens = batch["token_ids"]
    length = int((tokens != Tokenizer.pad_id).sum(dim=1).max())
    return {**batch, "token_ids": tokens[:, :max(length, 2)]}


class Trainer:
    """Model + optimiser + step counter. ``step(batch)`` does one update and returns loss, lr and grad norm."""

    def __init__(self, model: SymbolicModel, config: TrainConfig, device: torch.device | str | None = None):
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device)
        self.model_config: ModelConfig = model.config
        self.config = config
        self.optimizer = make_optimizer(self.model, config)
        self.step_count = 0
        self.data_position: dict[str, Any] = {}
        self._loss = torch.compile(self.model.loss, mode=config.compile_mode) if config.compile else self.model.loss

    @classmethod
    def create(cls, model_config: ModelConfig, config: TrainConfig,
               device: torch.device | str | None = None) -> "Trainer":
        """Seed every RNG with ``config.seed``, then build the model, so a run is reproducible from its configs."""
        seed_everything(config.seed)
        return cls(build_model(model_config), config, device or "cpu")

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.device.type == "cuda" else None

    def step(self, batch: dict[str, Any]) -> dict[str, float]:
        batch = to_tensors(batch, self.device)
        if self.config.trim_padding:
            batch = trim_token_padding(batch)
        lr = self.config.lr_at(self.step_count)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        dtype = self.autocast_dtype
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            loss = self._loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        self.step_count += 1
        return {"loss": float(loss.detach()), "lr": lr, "grad_norm": float(grad_norm)}

    @torch.no_grad()
    def evaluate(self, batch: dict[str, Any]) -> float:
        """Loss without dropout or input noise and without an update."""
        batch = to_tensors(batch, self.device)
        self.model.eval()
        dtype = self.autocast_dtype
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            return float(self.model.loss(batch))

    def save_checkpoint(self, path, data_position: dict[str, Any] | None = None, **metadata: Any) -> None:
        save_checkpoint(path, self, data_position=data_position, **metadata)


def load_checkpoint(path, device: torch.device | str = "cpu") -> Trainer:
    """-> a ``Trainer`` in the state it was saved in (RNG states restored), with ``.data_position`` set."""
    state = read_training_state(path)
    trainer = Trainer(build_model(state.model_config), TrainConfig.from_dict(state.train_config), device)
    trainer.model.load_state_dict(state.model)
    trainer.optimizer.load_state_dict(state.optimizer)
    trainer.step_count = state.step
    trainer.data_position = state.data_position
    trainer.metadata = state.metadata
    state.restore_rng()
    return trainer
