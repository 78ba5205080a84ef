"""Building blocks shared by the encoders and the decoder: RMS norms (per token and masked per set), the feed-forward
net, multi-head attention over PyTorch's ``scaled_dot_product_attention`` with key masks, and rotary embeddings.

Masks are boolean with True = real element. Masked positions are excluded with ``torch.where`` rather than multiplied
by zero, so padding that holds NaN or inf can never leak into real outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Per-token RMS normalisation with one gain per feature (Zhang & Sennrich 2019)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


class RMSSetNorm(nn.Module):
    """Flash-ANSR's masked RMSSetNorm (paper Appendix C): one RMS statistic per set over all valid points × features,
    one gain per feature. Padded points neither enter the statistic nor keep their values (they come out as 0)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # x (B, N, D); mask (B, N)
        x32 = x.float()
        if mask is None:
            ms = x32.pow(2).mean(dim=(1, 2), keepdim=True)
        else:
            m = mask.unsqueeze(-1)
            x32 = torch.where(m, x32, 0.0)
            count = m.sum(dim=(1, 2), keepdim=True).clamp(min=1) * x.shape[-1]
            ms = x32.pow(2).sum(dim=(1, 2), keepdim=True) / count
        return (x32 * torch.rsqrt(ms + self.eps)).to(x.dtype) * self.weight


class FeedForward(nn.Module):
    """Linear (no bias) -> GELU -> Linear (no bias) -> dropout, as in Flash-ANSR."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x))))


def key_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """(B, L) key mask -> (B, 1, 1, L), broadcast by SDPA over heads and queries."""
    return None if mask is None else mask[:, None, None, :]


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, **kwargs) -> torch.Tensor:
    """``scaled_dot_product_attention``, in fp32 under CPU autocast: PyTorch's CPU flash-attention backward is about
    8x slower in bf16 than in fp32 (measured on this project's box), while the matrix multiplies around it gain 2x
    from bf16. On CUDA, and without autocast, it is the plain call."""
    if q.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), **kwargs)
    return F.scaled_dot_product_attention(q, k, v, **kwargs)


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    # (B, L, D) -> (B, H, L, D/H)
    b, length, d = x.shape
    return x.view(b, length, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    # (B, H, L, Dh) -> (B, L, H·Dh)
    b, h, length, dh = x.shape
    return x.transpose(1, 2).reshape(b, length, h * dh)


class Attention(nn.Module):
    """Multi-head attention of a query set on a key/value set with an optional key mask.

    ``project_query=False`` skips the query projection for learned queries (inducing points, PMA seeds), as in
    Flash-ANSR: a learned query needs no extra linear map, and the paper's parameter counts exclude one."""

    def __init__(self, dim: int, n_heads: int, bias: bool = True, project_query: bool = True):
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(dim, dim, bias=bias) if project_query else nn.Identity()
        self.kv = nn.Linear(dim, 2 * dim, bias=bias)
        self.out = nn.Linear(dim, dim, bias=bias)

    def forward(self, query: torch.Tensor, kv: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # query (B, Lq, D), kv (B, Lk, D), mask (B, Lk) -> (B, Lq, D)
        q = split_heads(self.q(query), self.n_heads)
        k, v = (split_heads(t, self.n_heads) for t in self.kv(kv).chunk(2, dim=-1))
        return self.out(merge_heads(attend(q, k, v, attn_mask=key_mask(mask))))


class RotaryEmbedding(nn.Module):
    """RoPE (Su et al.) tables for positions 0..max_len-1, applied to (B, H, T, Dh) queries and keys."""

    def __init__(self, head_dim: int, max_len: int, base: float = 10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
        angles = torch.outer(torch.arange(max_len, dtype=torch.float64), inv_freq)  # (T, Dh/2)
        angles = torch.cat([angles, angles], dim=-1)
        # Buffers are not saved: they are a pure function of the config.
        self.register_buffer("cos", angles.cos().float(), persistent=False)
        self.register_buffer("sin", angles.sin().float(), persistent=False)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, start: int) -> torch.Tensor:
        t = x.shape[-2]
        if start + t > self.max_len:
            raise ValueError(f"token position {start + t - 1} is beyond the model's max_len={self.max_len}")
        cos = self.cos[start:start + t].to(x.dtype)
        sin = self.sin[start:start + t].to(x.dtype)
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin
