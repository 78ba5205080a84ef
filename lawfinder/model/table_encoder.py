"""The scaling-laws paper's table-aware encoder: one embedding per cell, attention along rows and along columns.

A cell's value is split into a signed decimal mantissa m ∈ (-10, 10) and an integer exponent e (v = m·10^e); m is
up-projected linearly, e through an embedding table, and both are summed with a learned column embedding (x1, x2, ...,
y). Each layer (pre-RMSNorm, residual) lets the cells of one point attend to each other (across variables), then the
cells of one column attend to each other (across points), then applies a feed-forward net per cell. The decoder reads
only the y cells (memory (B, N, D) with the point mask), as the paper describes.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import Attention, FeedForward, RMSNorm


def mantissa_exponent(values: torch.Tensor, max_exponent: int) -> tuple[torch.Tensor, torch.Tensor]:
    """float (...) -> (mantissa (...) float32 in (-10, 10), exponent (...) int64 in [-max_exponent, max_exponent]).

    0 (and any non-finite value, which a caller should have rejected) maps to mantissa 0, exponent 0."""
    v = values.to(torch.float64)
    finite = torch.isfinite(v) & (v != 0)
    safe = torch.where(finite, v, 1.0)
    e = torch.floor(torch.log10(safe.abs()))
    m = safe / torch.pow(10.0, e)
    # log10 can land one off at exact powers of ten; one correction step keeps |m| in [1, 10).
    e = torch.where(m.abs() >= 10, e + 1, torch.where(m.abs() < 1, e - 1, e))
    m = safe / torch.pow(10.0, e)
    m = torch.where(finite, m, 0.0)
    e = torch.where(finite, e, 0.0).clamp(-max_exponent, max_exponent)
    return m.to(torch.float32), e.to(torch.int64)


class TableLayer(nn.Module):
    """Row attention (across a point's cells), column attention (across points), feed-forward; all pre-norm."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.row_norm = RMSNorm(d, cfg.norm_eps)
        self.row_attention = Attention(d, cfg.n_heads)
        self.column_norm = RMSNorm(d, cfg.norm_eps)
        self.column_attention = Attention(d, cfg.n_heads)
        self.ffn_norm = RMSNorm(d, cfg.norm_eps)
        self.ffn = FeedForward(d, cfg.ffn_hidden, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, point_mask: torch.Tensor, column_mask: torch.Tensor) -> torch.Tensor:
        # x (B, N, C, D); point_mask (B, N); column_mask (B, C)
        b, n, c, d = x.shape
        rows = x.reshape(b * n, c, d)
        row_keys = column_mask.unsqueeze(1).expand(b, n, c).reshape(b * n, c)
        h = self.row_norm(rows)
        rows = rows + self.dropout(self.row_attention(h, h, row_keys))
        cols = rows.view(b, n, c, d).transpose(1, 2).reshape(b * c, n, d)
        column_keys = point_mask.unsqueeze(1).expand(b, c, n).reshape(b * c, n)
        h = self.column_norm(cols)
        cols = cols + self.dropout(self.column_attention(h, h, column_keys))
        x = cols.view(b, c, n, d).transpose(1, 2)
        return x + self.ffn(self.ffn_norm(x))


class TableEncoder(nn.Module):
    """(values (B, N, C) with y last, masks) -> memory (B, N, D): the y column's cells after the last layer."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.max_exponent = cfg.max_exponent
        self.mantissa = nn.Linear(1, d)
        self.exponent = nn.Embedding(2 * cfg.max_exponent + 1, d)
        self.column = nn.Embedding(cfg.max_variables + 1, d)
        self.layers = nn.ModuleList(TableLayer(cfg) for _ in range(cfg.n_encoder_layers))
        self.out_norm = RMSNorm(d, cfg.norm_eps)

    def forward(self, values: torch.Tensor, point_mask: torch.Tensor, column_mask: torch.Tensor) -> torch.Tensor:
        b, n, c = values.shape
        cell_mask = point_mask[:, :, None] & column_mask[:, None, :]
        m, e = mantissa_exponent(torch.where(cell_mask, values, 0.0), self.max_exponent)
        x = (self.mantissa(m.unsqueeze(-1) / 10.0) + self.exponent(e + self.max_exponent)
             + self.column.weight[:c])  # (B, N, C, D)
        for layer in self.layers:
            x = layer(x, point_mask, column_mask)
        return self.out_norm(x[:, :, -1])  # (B, N, D)
