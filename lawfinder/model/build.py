"""``SymbolicModel``: one of the two encoders plus the decoder, with the interface the trainer and the sampler use
(``encode``, ``decode``, ``loss``), and ``build_model(config)``.

Inputs: X (B, N, V) float32 with V <= max_variables, y (B, N), point_mask (B, N) and variable_mask (B, V) booleans
(True = real). Targets: token_ids (B, L) int64, ``<bos>`` .. ``<eos>`` then ``<pad>``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .decoder import Cache, Decoder
from .set_encoder import SetEncoder
from .table_encoder import TableEncoder
from .tokenizer import Tokenizer

BATCH_KEYS = ("X", "y", "point_mask", "variable_mask", "token_ids")


class SymbolicModel(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = SetEncoder(config) if config.kind == "set" else TableEncoder(config)
        self.decoder = Decoder(config)

    def _check(self, X: torch.Tensor, y: torch.Tensor, point_mask: torch.Tensor, variable_mask: torch.Tensor) -> None:
        if X.dim() != 3:
            raise ValueError(f"X must be (batch, points, variables), got shape {tuple(X.shape)}")
        b, n, v = X.shape
        if v > self.config.max_variables:
            raise ValueError(f"X has {v} variables, the model takes at most max_variables={self.config.max_variables}")
        expected = (("y", y, (b, n)), ("point_mask", point_mask, (b, n)), ("variable_mask", variable_mask, (b, v)))
        for name, t, shape in expected:
            if tuple(t.shape) != shape:
                raise ValueError(f"{name} must have shape {shape} to match X {tuple(X.shape)}, got {tuple(t.shape)}")
        for name, t in (("point_mask", point_mask), ("variable_mask", variable_mask)):
            if t.dtype != torch.bool:
                raise ValueError(f"{name} must be a bool tensor, got {t.dtype}")

    def encode(self, X: torch.Tensor, y: torch.Tensor, point_mask: torch.Tensor,
               variable_mask: torch.Tensor) -> torch.Tensor:
        """-> memory (B, M, D): M = n_seeds for the set model, M = N (the y cells) for the table model."""
        self._check(X, y, point_mask, variable_mask)
        b, n, v = X.shape
        pad = self.config.max_variables - v
        # Columns: x1..x_max (absent ones masked), then y.
        values = torch.cat([F.pad(X.float(), (0, pad)), y.float().unsqueeze(-1)], dim=-1)  # (B, N, C)
        ones = torch.ones(b, 1, dtype=torch.bool, device=X.device)
        column_mask = torch.cat([F.pad(variable_mask, (0, pad), value=False), ones], dim=-1)  # (B, C)
        return self.encoder(values, point_mask, column_mask)

    def memory_mask(self, point_mask: torch.Tensor) -> torch.Tensor | None:
        """The mask ``decode`` needs for this model's memory: None for seeds, the point mask for y cells."""
        return None if self.config.kind == "set" else point_mask

    def decode(self, token_ids: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
               cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """-> (logits (B, T, vocab), cache). With a cache, pass only the tokens after those it holds."""
        return self.decoder(token_ids, memory, memory_mask, cache)

    def forward(self, X, y, point_mask, variable_mask, token_ids) -> torch.Tensor:
        """Teacher-forced logits (B, T, vocab) for the inputs ``token_ids`` (usually targets without the last)."""
        memory = self.encode(X, y, point_mask, variable_mask)
        return self.decode(token_ids, memory, self.memory_mask(point_mask))[0]

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean next-token cross entropy over non-pad targets."""
        missing = [k for k in BATCH_KEYS if k not in batch]
        if missing:
            raise ValueError(f"batch lacks key(s) {missing}; expected {list(BATCH_KEYS)}")
        tokens = batch["token_ids"]
        logits = self(batch["X"], batch["y"], batch["point_mask"], batch["variable_mask"], tokens[:, :-1])
        return F.cross_entropy(logits.flatten(0, 1).float(), tokens[:, 1:].flatten(), ignore_index=Tokenizer.pad_id)


def build_model(config: ModelConfig) -> SymbolicModel:
    return SymbolicModel(config)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
