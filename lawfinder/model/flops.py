"""Training FLOPs: the scaling-laws paper's estimate 6·(N_enc·D_in + N_dec·D_out) per sample, and a measurement of
one batch with ``torch.utils.flop_counter`` to check it against.

N_enc, N_dec count the parameters that act on every token (weights and biases of linear layers; embedding tables,
norms and learned inducing/seed vectors excluded). D_in is the number of encoder input tokens of a sample (cells
for the table model, points for the set model), D_out the number of decoder input tokens. The estimate ignores
attention score FLOPs and, for the Set Transformer, that the pooled blocks run on the fixed seeds rather than on the
points, so the measured/estimated ratio says how far the rule of thumb carries for each architecture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


def linear_parameters(module: nn.Module) -> int:
    return sum(p.numel() for m in module.modules() if isinstance(m, nn.Linear) for p in m.parameters(recurse=False))


def encoder_tokens(config, n_points: int) -> int:
    """D_in: cells (points × (max_variables + 1)) for the table model, points for the set model."""
    return n_points * (config.max_variables + 1) if config.kind == "table" else n_points


def estimate_flops(n_enc: int, n_dec: int, d_in: int, d_out: int) -> float:
    """Training FLOPs (forward + backward) of one sample: 6·(N_enc·D_in + N_dec·D_out)."""
    return 6.0 * (n_enc * d_in + n_dec * d_out)


def measure_flops(model, batch: dict[str, torch.Tensor]) -> float:
    """FLOPs counted by torch for one forward + backward of ``model.loss(batch)`` (matmuls and attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as counter:
        model.loss(batch).backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


@dataclass
class FlopCheck:
    batch_size: int
    n_points: int
    n_tokens: int
    n_enc: int
    n_dec: int
    estimated: float  # whole batch
    measured: float   # whole batch

    @property
    def ratio(self) -> float:
        return self.measured / self.estimated

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def check_flops(model, batch: dict[str, torch.Tensor]) -> FlopCheck:
    """Estimate vs torch's count on one batch (D_out = decoder input length = token_ids length - 1)."""
    b, n = batch["y"].shape
    t = batch["token_ids"].shape[1] - 1
    n_enc, n_dec = linear_parameters(model.encoder), linear_parameters(model.decoder)
    estimated = b * estimate_flops(n_enc, n_dec, encoder_tokens(model.config, n), t)
    return FlopCheck(b, n, t, n_enc, n_dec, estimated, measure_flops(model, batch))
