"""The expression decoder shared by both models: pre-RMSNorm transformer blocks with rotary position embeddings on
causal self-attention, cross-attention to the RMS-normed encoder memory, a final RMSNorm and Flash-ANSR's two-layer
head. ``forward`` takes an optional KV cache so that sampling feeds only the new tokens.

The cache is a dict: ``length`` (tokens seen), ``self`` (per layer (k, v), each (B, H, length, Dh)), ``cross``
(per layer (k, v) of the memory, computed once) and ``memory_mask``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .config import ModelConfig
from .layers import FeedForward, RMSNorm, RotaryEmbedding, attend, key_mask, merge_heads, split_heads

Cache = dict[str, Any]


class DecoderBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.self_norm = RMSNorm(d, cfg.norm_eps)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.self_out = nn.Linear(d, d, bias=False)
        self.cross_norm = RMSNorm(d, cfg.norm_eps)
        self.cross_q = nn.Linear(d, d, bias=False)
        self.cross_kv = nn.Linear(d, 2 * d, bias=False)
        self.cross_out = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg.norm_eps)
        self.ffn = FeedForward(d, cfg.ffn_hidden, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # memory (B, M, D) -> k, v (B, H, M, Dh)
        k, v = self.cross_kv(memory).chunk(2, dim=-1)
        return split_heads(k, self.n_heads), split_heads(v, self.n_heads)

    def forward(self, x: torch.Tensor, rope: RotaryEmbedding, start: int, past: tuple | None,
                cross: tuple[torch.Tensor, torch.Tensor], memory_mask: torch.Tensor | None):
        # x (B, T, D): the new tokens at positions start..start+T-1
        t = x.shape[1]
        q, k, v = (split_heads(p, self.n_heads) for p in self.qkv(self.self_norm(x)).chunk(3, dim=-1))
        q, k = rope(q, start), rope(k, start)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        if start == 0:
            attn = attend(q, k, v, is_causal=t > 1)
        else:
            # Query i sits at position start+i and may read keys 0..start+i.
            positions = start + torch.arange(t, device=x.device)
            allowed = torch.arange(start + t, device=x.device)[None, :] <= positions[:, None]
            attn = attend(q, k, v, attn_mask=allowed)
        x = x + self.dropout(self.self_out(merge_heads(attn)))
        q = split_heads(self.cross_q(self.cross_norm(x)), self.n_heads)
        attn = attend(q, cross[0], cross[1], attn_mask=key_mask(memory_mask))
        x = x + self.dropout(self.cross_out(merge_heads(attn)))
        x = x + self.ffn(self.ffn_norm(x))
        return x, (k, v)


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.embed = nn.Embedding(cfg.vocab_size, d)
        self.rope = RotaryEmbedding(cfg.head_dim, cfg.max_len, cfg.rope_base)
        self.memory_norm = RMSNorm(d, cfg.norm_eps)
        self.blocks = nn.ModuleList(DecoderBlock(cfg) for _ in range(cfg.n_decoder_layers))
        self.final_norm = RMSNorm(d, cfg.norm_eps)
        self.head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(d, cfg.vocab_size))

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
                cache: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        # tokens (B, T) int64; memory (B or 1, M, D); memory_mask (B or 1, M) -> logits (B, T, vocab)
        b = tokens.shape[0]
        if cache is None:
            if memory.shape[0] == 1 and b > 1:  # one data set, many samples
                memory = memory.expand(b, -1, -1)
                memory_mask = None if memory_mask is None else memory_mask.expand(b, -1)
            memory = self.memory_norm(memory)
            cache = {"length": 0, "self": [None] * len(self.blocks),
                     "cross": [blk.memory_kv(memory) for blk in self.blocks], "memory_mask": memory_mask}
        start = cache["length"]
        x = self.embed(tokens)  # (B, T, D)
        new_self = []
        for blk, past, cross in zip(self.blocks, cache["self"], cache["cross"]):
            x, kv = blk(x, self.rope, start, past, cross, cache["memory_mask"])
            new_self.append(kv)
        logits = self.head(self.final_norm(x))
        return logits, {**cache, "length": start + tokens.shape[1], "self": new_self}
