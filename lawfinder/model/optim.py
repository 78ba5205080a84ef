"""Optimisers: AdamW and AdamCPR (the ``pytorch-cpr`` package), with weight decay / the CPR constraint applied only to
the weight matrices of linear layers (never to biases, norm gains, embeddings, inducing points or seeds)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

# pytorch-cpr 0.3.1 calls torch._utils.is_compiling, deprecated in torch 2.13; the message repeats every step.
warnings.filterwarnings("ignore", message=".*is_compiling.*", module="pytorch_cpr")

OPTIMIZERS = ("adamw", "adamcpr")


def parameter_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(decayed, not decayed): linear weight matrices vs everything else, each in a fixed (named) order."""
    decayed_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    decayed, other = [], []
    for _, p in sorted(model.named_parameters(), key=lambda item: item[0]):
        if p.requires_grad:
            (decayed if id(p) in decayed_ids else other).append(p)
    return decayed, other


def make_optimizer(model: nn.Module, cfg) -> torch.optim.Optimizer:
    """Build the optimiser named by ``cfg.optimizer`` (a ``TrainConfig``) at the peak LR; the trainer sets the LR."""
    decayed, other = parameter_groups(model)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW([{"params": decayed, "weight_decay": cfg.weight_decay},
                                  {"params": other, "weight_decay": 0.0}],
                                 lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, foreach=None)
    if cfg.optimizer == "adamcpr":
        try:
            from pytorch_cpr import AdamCPR
        except ImportError as error:
            raise ValueError("optimizer 'adamcpr' needs the pytorch-cpr package (pip install pytorch-cpr)") from error
        return AdamCPR([{"params": decayed, "regularize": True}, {"params": other, "regularize": False}],
                       lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, kappa_init_method=cfg.cpr_kappa_init,
                       kappa_init_param=cfg.cpr_kappa_param, reg_step_size=cfg.cpr_reg_step_size)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose one of {OPTIMIZERS}")
