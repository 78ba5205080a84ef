"""Flash-ANSR's encoder: a pre-norm Set Transformer over the data points.

Each value becomes its 32 IEEE-754 float32 bits (sign first) mapped to ±1; a point is the concatenation of its
``max_variables`` x values and y (absent variables give 0 features), linearly embedded, then ISAB blocks with learned
inducing points, PMA pooling onto learned seeds, SAB blocks on the seeds, a final RMSSetNorm and a linear map.
Padding points are masked everywhere, so they never change the output.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import Attention, FeedForward, RMSSetNorm

_BYTE_SHIFTS = torch.tensor([24, 16, 8, 0], dtype=torch.int32)  # most significant byte (with the sign bit) first
# Row b: the 8 bits of the byte b as ±1.0, most significant first.
_BYTE_BITS = torch.tensor([[1.0 if (b >> (7 - i)) & 1 else -1.0 for i in range(8)] for b in range(256)])


def float_bits(values: torch.Tensor) -> torch.Tensor:
    """float32 (...) -> (..., 32) of ±1.0: the IEEE-754 bit pattern, sign bit first.

    Each of the four bytes is looked up in a 256-row table of ±1 patterns: one gather instead of a shift, a mask, a
    cast and an affine map over all 32 bits (half the encoder's input cost on a CPU)."""
    ints = values.to(torch.float32).contiguous().view(torch.int32)
    index = (ints.unsqueeze(-1) >> _BYTE_SHIFTS.to(ints.device)) & 255  # (..., 4)
    return _BYTE_BITS.to(ints.device)[index].flatten(-2)


class MAB(nn.Module):
    """Pre-norm multihead attention block: query + Attn(norm(query), norm(kv)), then + FFN(norm(.))."""

    def __init__(self, cfg: ModelConfig, project_query: bool = True):
        super().__init__()
        d = cfg.d_model
        self.norm_q = RMSSetNorm(d, cfg.norm_eps)
        self.norm_kv = RMSSetNorm(d, cfg.norm_eps)
        self.attention = Attention(d, cfg.n_heads, bias=True, project_query=project_query)
        self.norm_ffn = RMSSetNorm(d, cfg.norm_eps)
        self.ffn = FeedForward(d, cfg.ffn_hidden, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, query: torch.Tensor, kv: torch.Tensor, query_mask: torch.Tensor | None = None,
                kv_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = query + self.dropout(self.attention(self.norm_q(query, query_mask), self.norm_kv(kv, kv_mask), kv_mask))
        return h + self.ffn(self.norm_ffn(h, query_mask))


class ISAB(nn.Module):
    """Induced set attention: inducing points read the set, then every point reads the inducing points."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.inducing = nn.Parameter(torch.empty(1, cfg.n_inducing, cfg.d_model))
        nn.init.xavier_uniform_(self.inducing)
        self.read = MAB(cfg, project_query=False)
        self.write = MAB(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x (B, N, D), mask (B, N)
        h = self.read(self.inducing.expand(x.shape[0], -1, -1), x, kv_mask=mask)  # (B, I, D)
        out = self.write(x, h, query_mask=mask)  # (B, N, D)
        return torch.where(mask.unsqueeze(-1), out, 0.0)


class SetEncoder(nn.Module):
    """(X, y, masks) -> memory (B, n_seeds, D)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.n_columns = cfg.max_variables + 1
        self.embed = nn.Linear(self.n_columns * 32, d)
        self.isabs = nn.ModuleList(ISAB(cfg) for _ in range(cfg.n_isab))
        self.seeds = nn.Parameter(torch.empty(1, cfg.n_seeds, d))
        nn.init.xavier_uniform_(self.seeds)
        self.pool = MAB(cfg, project_query=False)
        self.sabs = nn.ModuleList(MAB(cfg) for _ in range(cfg.n_sab))
        self.out_norm = RMSSetNorm(d, cfg.norm_eps)
        self.out = nn.Linear(d, d)

    def features(self, values: torch.Tensor, column_mask: torch.Tensor) -> torch.Tensor:
        """values (B, N, C) with C = max_variables + 1 (y last), column_mask (B, C) -> (B, N, C·32)."""
        bits = float_bits(values)  # (B, N, C, 32), a fresh tensor: updated in place
        if self.training and self.cfg.input_noise > 0:
            bits.add_(torch.randn_like(bits), alpha=self.cfg.input_noise)
        # Bits are always finite (a NaN or inf value has a bit pattern too), so a product masks them safely.
        return bits.mul_(column_mask[:, None, :, None]).flatten(2)

    def forward(self, values: torch.Tensor, point_mask: torch.Tensor, column_mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(self.features(values, column_mask))  # (B, N, D)
        for isab in self.isabs:
            x = isab(x, point_mask)
        s = self.pool(self.seeds.expand(x.shape[0], -1, -1), x, kv_mask=point_mask)  # (B, S, D)
        for sab in self.sabs:
            s = sab(s, s)
        return self.out(self.out_norm(s))  # (B, S, D)
