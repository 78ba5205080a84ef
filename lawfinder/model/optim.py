"""Optimisers: AdamW and AdamCPR, with weight decay / the CPR constraint applied only to the weight matrices of linear
layers (never to biases, norm gains, embeddings, inducing points or seeds).

AdamCPR is Adam followed by Constrained Parameter Regularization (Franke et al., "Improving Deep Learning
Optimization through Constrained Parameter Regularization", NeurIPS 2024, arXiv:2311.09058): each regularised matrix
θ has an upper bound κ on its squared L2 norm R(θ) = ‖θ‖²; after the Adam update a Lagrange multiplier follows the
violation, λ ← max(0, λ + μ·(R(θ) − κ)) with μ = 1/numel(θ), and θ ← θ − 2λθ (the gradient of λ·R). κ is set by
``kappa_init``:

- ``warm_start`` (the paper's recommendation, "Kappa-WS"): no constraint for ``kappa_param`` steps, then κ = R(θ);
- ``dependent``: κ = ``kappa_param`` · R(θ) at initialisation;
- ``uniform``: κ = ``kappa_param`` for every matrix;
- ``inflection_point`` ("Kappa-IP"): κ = R(θ) at the first inflection point of an EMA of ‖θ‖, sampled every
  ``reg_step_size`` steps.

It follows pytorch-cpr 0.3.1 (the authors' package), whose multi-tensor path is the reference
(tests/test_model_optim.py checks this class against it step by step). Ours builds on ``torch.optim.Adam`` — so it
gets torch's fused CUDA kernel and works on every torch we support — and adds only the constraint (L2 only).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import KAPPA_INITS, OPTIMIZERS

__all__ = ["AdamCPR", "OPTIMIZERS", "make_optimizer", "parameter_groups"]

HIGH_KAPPA = 1e6  # "not set yet" (inflection_point): pytorch-cpr's marker, large enough never to constrain
EMA_DECAY = 0.99  # of the inflection-point detector (pytorch-cpr's reg_ema_decay)
MIN_RISE = 0.01   # relative rise of the norm EMA below which an inflection point is not taken


class AdamCPR(torch.optim.Adam):
    """Adam (no weight decay) on every group; groups with ``regularize=True`` also get the CPR constraint."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 kappa_init: str = "warm_start", kappa_param: float = 1000.0, reg_step_size: int = 200,
                 fused: bool | None = None, foreach: bool | None = None):
        if kappa_init not in KAPPA_INITS:
            raise ValueError(f"kappa_init must be one of {KAPPA_INITS}, got {kappa_init!r}")
        if reg_step_size < 1:
            raise ValueError(f"reg_step_size must be >= 1, got {reg_step_size}")
        self.kappa_init = kappa_init
        self.kappa_param = float(kappa_param)
        self.reg_step_size = int(reg_step_size)
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0, fused=fused, foreach=foreach)
        for group in self.param_groups:
            group.setdefault("regularize", False)
            group.setdefault("cpr_step", 0)

    def _cpr_state(self, p: torch.Tensor, dependent: torch.Tensor | None = None) -> dict:
        state = self.state[p]
        if "kappa" not in state:
            kappa = {"warm_start": 0.0, "uniform": self.kappa_param, "inflection_point": HIGH_KAPPA}.get(self.kappa_init)
            state["kappa"] = dependent if kappa is None else torch.tensor(kappa, device=p.device)
            state["lagmul"] = torch.zeros((), device=p.device)
            state["kappa_update"] = torch.tensor(1.0 / p.numel(), device=p.device)
            state["norm_ema"] = torch.zeros((), device=p.device)
            state["prev_ema"] = torch.zeros((), device=p.device)
            state["prev_rise"] = torch.zeros((), device=p.device)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        # "dependent" measures θ before its first update (Adam's own state is made by Adam's step).
        initial = {p: p.detach().float().square().sum() * self.kappa_param
                   for group in self.param_groups if group["regularize"] and self.kappa_init == "dependent"
                   for p in group["params"] if p.grad is not None and "kappa" not in self.state[p]}
        loss = super().step(closure)
        for group in self.param_groups:
            group["cpr_step"] += 1
            params = [p for p in group["params"] if p.grad is not None]
            if group["regularize"] and params:
                self._constrain(params, group["cpr_step"], initial)
        return loss

    def _constrain(self, params: list[torch.Tensor], step: int, initial: dict) -> None:
        states = [self._cpr_state(p, initial.get(p)) for p in params]
        warm = int(self.kappa_param) if self.kappa_init == "warm_start" else 0
        if step > warm:
            # Multi-tensor ops (a few kernels for all matrices, not a few per matrix) and no host sync: the
            # multiplier is clipped on the device and θ moves by −2λθ.
            lagmuls = [s["lagmul"] for s in states]
            violations = torch._foreach_pow(torch._foreach_norm(params), 2)
            torch._foreach_sub_(violations, [s["kappa"] for s in states])
            torch._foreach_mul_(violations, [s["kappa_update"] for s in states])
            torch._foreach_add_(lagmuls, violations)
            torch._foreach_clamp_min_(lagmuls, 0.0)
            torch._foreach_addcmul_(params, params, lagmuls, value=-2.0)
        if self.kappa_init == "warm_start" and step == warm:
            for p, s in zip(params, states):
                s["kappa"].add_(_squared_norm(p))
        elif self.kappa_init == "inflection_point":
            self._inflection_point(params, states, step)

    def _inflection_point(self, params, states, step: int) -> None:
        # Runs until every κ is set; reads the device only every reg_step_size steps.
        if all(s.get("kappa_set", False) for s in states):
            return
        for p, s in zip(params, states):
            norm = p.float().norm()
            if step >= self.reg_step_size:
                s["norm_ema"].mul_(EMA_DECAY).add_(norm, alpha=1.0 - EMA_DECAY)
            else:
                s["norm_ema"].copy_(norm)
        if step <= self.reg_step_size or step % self.reg_step_size:
            return
        for p, s in zip(params, states):
            rise = (s["norm_ema"] - s["prev_ema"]) / s["norm_ema"]
            s["prev_ema"].copy_(s["norm_ema"])
            if step > 3 * self.reg_step_size and not s.get("kappa_set", False):
                if float(s["prev_rise"]) > float(rise) > MIN_RISE:
                    s["kappa"].copy_(p.float().square().sum())
                    s["kappa_set"] = True
            if step > 2 * self.reg_step_size:
                s["prev_rise"].copy_(rise)


def _squared_norm(p: torch.Tensor) -> torch.Tensor:
    # ‖θ‖² as pytorch-cpr computes R(θ) (the norm, squared): κ = R exactly when a bound is set, so the rounding of
    # R − κ, and with it whether λ moves, matches the reference.
    return torch._foreach_norm([p])[0].square()


def parameter_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(decayed, not decayed): linear weight matrices vs everything else, each in a fixed (named) order."""
    decayed_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    decayed, other = [], []
    for _, p in sorted(model.named_parameters(), key=lambda item: item[0]):
        if p.requires_grad:
            (decayed if id(p) in decayed_ids else other).append(p)
    return decayed, other


def make_optimizer(model: nn.Module, cfg, fused: bool | None = None) -> torch.optim.Optimizer:
    """Build the optimiser named by ``cfg.optimizer`` (a ``TrainConfig``) at the peak LR; the trainer sets the LR.

    ``fused``: torch's single-kernel Adam/AdamW (CUDA); None lets torch choose (foreach on CUDA, a loop on CPU)."""
    decayed, other = parameter_groups(model)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW([{"params": decayed, "weight_decay": cfg.weight_decay},
                                  {"params": other, "weight_decay": 0.0}],
                                 lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, fused=fused)
    if cfg.optimizer == "adamcpr":
        return AdamCPR([{"params": decayed, "regularize": True}, {"params": other, "regularize": False}],
                       lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, kappa_init=cfg.cpr_kappa_init,
                       kappa_param=cfg.cpr_kappa_param, reg_step_size=cfg.cpr_reg_step_size, fused=fused)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose one of {OPTIMIZERS}")
