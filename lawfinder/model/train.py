"""``Trainer``: one optimiser step per call on a batch dict, fast on CUDA.

The trainer is plain state (model, optimiser, step) plus one method, so a Ray actor or a test can drive it. bf16
autocast on CUDA and on a CPU with AMX tiles (``TrainConfig.precision``; ``autocast_for``), fp32 elsewhere; the LR
comes from ``schedule.learning_rate`` at the current step; gradients are clipped at a global norm. Checkpoint files
are ``checkpoint.py``'s business; this module imports it (never the reverse): ``Trainer.save_checkpoint`` delegates
there and ``load_checkpoint`` rebuilds a trainer from what it reads.

On CUDA the step is built for throughput: the loss is compiled (``TrainConfig.compile``; None = on for CUDA) with
CUDA graphs (``mode="reduce-overhead"``) over a few padded shapes (``shapes.bucket_size``), TF32 matmuls, a fused
optimiser, and no host sync: the loss and gradient norm of each step add up on the device and are read by
``drain_metrics()`` when the caller reports. ``TrainConfig.grad_accum`` splits a batch into micro-batches whose
token-weighted gradients sum to the whole batch's.
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .build import BATCH_KEYS, SymbolicModel, build_model
from .checkpoint import read_training_state, save_checkpoint
from .config import ModelConfig, TrainConfig
from .optim import make_optimizer
from .shapes import bucket_size
from .tokenizer import Tokenizer

__all__ = ["TrainConfig", "Trainer", "autocast_for", "cpu_has_bf16_tiles", "load_checkpoint", "pad_batch",
           "seed_everything", "split_batch", "to_tensors", "trim_token_padding"]

# Compiled shapes one step function may keep before dynamo gives up and runs eager (buckets² × micro-batch sizes).
RECOMPILE_LIMIT = 64


def cpu_has_bf16_tiles() -> bool:
    """Whether this CPU multiplies bf16 matrices in AMX tiles (Sapphire Rapids and later): there a bf16 matmul runs
    several times faster than fp32 (7x on one core of this project's box); without them bf16 is emulated and slower."""
    try:
        return bool(torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a PyTorch without the probe: assume not
        return False


def autocast_for(precision: str, device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype of ``TrainConfig.precision`` on ``device`` (None = fp32, no autocast)."""
    kind = torch.device(device).type
    if precision == "auto":
        return torch.bfloat16 if kind == "cuda" or (kind == "cpu" and cpu_has_bf16_tiles()) else None
    return torch.bfloat16 if precision == "bf16" else None


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
    """Drop token columns that are <pad> in every row (reads the device: eager runs only)."""
    tokens = batch["token_ids"]
    length = int((tokens != Tokenizer.pad_id).sum(dim=1).max())
    return {**batch, "token_ids": tokens[:, :max(length, 2)]}


def pad_batch(batch: dict[str, torch.Tensor], n_points: int, n_tokens: int) -> dict[str, torch.Tensor]:
    """Pad the point axis to ``n_points`` (masked out) and the token axis to ``n_tokens`` (<pad>, ignored by the
    loss); axes already that long are left alone. The loss is unchanged."""
    n = batch["X"].shape[1]
    length = batch["token_ids"].shape[1]
    if n_points < n or n_tokens < length:
        raise ValueError(f"cannot pad a batch of {n} points and {length} tokens down to {n_points} and {n_tokens}")
    out = dict(batch)
    if n_points > n:
        extra = n_points - n
        out["X"] = F.pad(batch["X"], (0, 0, 0, extra))
        out["y"] = F.pad(batch["y"], (0, extra))
        out["point_mask"] = F.pad(batch["point_mask"], (0, extra), value=False)
    if n_tokens > length:
        out["token_ids"] = F.pad(batch["token_ids"], (0, n_tokens - length), value=Tokenizer.pad_id)
    return out


def split_batch(batch: dict[str, torch.Tensor], parts: int) -> list[dict[str, torch.Tensor]]:
    """``parts`` micro-batches along the batch axis (sizes differ by at most one)."""
    chunks = {key: torch.tensor_split(value, parts) for key, value in batch.items()}
    return [{key: chunks[key][i] for key in batch} for i in range(parts)]


def target_tokens(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Number of non-pad targets (what the loss averages over), on the batch's device."""
    return (batch["token_ids"][:, 1:] != Tokenizer.pad_id).sum()


class _LossOf(torch.nn.Module):
    """The model's loss as a module's forward, so that DistributedDataParallel (which hooks ``forward``) can wrap it."""

    def __init__(self, model: SymbolicModel):
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model.loss(batch)


class Trainer:
    """Model + optimiser + step counter. ``step(batch)`` does one update and returns loss, lr and grad norm (the
    loss and norm as 0-d device tensors: reading them syncs, so hot loops use ``drain_metrics``)."""

    def __init__(self, model: SymbolicModel, config: TrainConfig, device: torch.device | str | None = None):
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device)
        self.model_config: ModelConfig = model.config
        self.config = config
        cuda = self.device.type == "cuda"
        if cuda:
            # TF32 for the fp32 matmuls left outside autocast (the loss's float cast, optimiser maths).
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.optimizer = make_optimizer(self.model, config, fused=True if cuda else None)
        self.step_count = 0
        self.data_position: dict[str, Any] = {}
        self.compiled = config.compile if config.compile is not None else cuda
        mode = config.compile_mode or ("reduce-overhead" if cuda else None)
        # CUDA graphs reuse their output memory on the next replay: gradients must live in buffers of their own.
        self.graphs = self.compiled and cuda and mode in ("reduce-overhead", "max-autotune")
        self.bucketed = self.compiled and bool(config.point_buckets or config.token_buckets)
        if self.compiled:
            _raise_recompile_limit()
            self._loss = torch.compile(self.model.loss, mode=mode, dynamic=False if self.bucketed else None)
        else:
            self._loss = self.model.loss
        self._sums = torch.zeros(3, device=self.device)  # loss, grad norm, steps since the last drain
        self.ddp: torch.nn.parallel.DistributedDataParallel | None = None
        self.world = 1

    def distribute(self) -> None:
        """Train data-parallel in the process group already set up (by Ray Train, or a test's own ``gloo`` group):
        the loss runs through PyTorch's DistributedDataParallel, which averages the gradients across the group in
        the last micro-batch's backward, and each learner's loss is weighted by its share of the group's target
        tokens, so one step equals one learner's step on the concatenated batches. Replicas start equal (DDP
        broadcasts rank 0's parameters) and stay equal (same gradients, same optimiser step)."""
        import torch.distributed as dist

        if not dist.is_initialized():
            raise RuntimeError("distribute() needs a torch.distributed process group (Ray Train sets one up)")
        devices = [self.device.index or 0] if self.device.type == "cuda" else None
        self.ddp = torch.nn.parallel.DistributedDataParallel(_LossOf(self.model), device_ids=devices)
        self.world = dist.get_world_size()
        mode = self.config.compile_mode or ("reduce-overhead" if self.device.type == "cuda" else None)
        self._loss = torch.compile(self.ddp, mode=mode, dynamic=False if self.bucketed else None) if self.compiled \
            else self.ddp

    def _group_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Target tokens of this step's batches over the whole group (one scalar all-reduce), or this batch's."""
        if self.ddp is None:
            return tokens
        import torch.distributed as dist

        total = tokens.detach().clone().float()
        dist.all_reduce(total)
        return total

    @classmethod
    def create(cls, model_config: ModelConfig, config: TrainConfig,
               device: torch.device | str | None = None) -> "Trainer":
        """Seed every RNG with ``config.seed``, then build the model, so a run is reproducible from its configs."""
        seed_everything(config.seed)
        return cls(build_model(model_config), config, device or "cpu")

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return autocast_for(self.config.precision, self.device)

    def padded_sizes(self, n_points: int, n_tokens: int) -> tuple[int, int]:
        """The (points, tokens) a batch whose largest sample has these sizes is padded to before the step."""
        if not self.bucketed:
            return n_points, n_tokens
        return bucket_size(n_points, self.config.point_buckets), bucket_size(n_tokens, self.config.token_buckets)

    def prepare(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Tensors on the device at the step's shapes (bucketed when compiled; trimmed token padding when eager)."""
        if self.bucketed:
            batch = to_tensors(batch, self.device)
            points, tokens = self.padded_sizes(batch["X"].shape[1], batch["token_ids"].shape[1])
            return pad_batch(batch, points, tokens)
        batch = to_tensors(batch, "cpu") if _on_cpu(batch) else batch
        if self.config.trim_padding and _on_cpu(batch):
            batch = trim_token_padding(batch)  # reading a CPU tensor costs no device sync
        return to_tensors(batch, self.device)

    def accumulate_gradients(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Forward + backward over ``grad_accum`` micro-batches into the parameters' ``.grad``; returns the loss of
        the whole batch (a device tensor). Each micro-batch's mean loss is weighted by its share of the batch's
        target tokens, so the gradients add up to the whole batch's mean-loss gradient."""
        self.model.train()
        dtype = self.autocast_dtype
        parts = split_batch(batch, self.config.grad_accum) if self.config.grad_accum > 1 else [batch]
        weighted = len(parts) > 1 or self.ddp is not None
        local_tokens = target_tokens(batch).clamp(min=1) if weighted else None
        # DDP averages the group's gradients (divides by its size): a learner's share is tokens * size / total.
        group_share = self.world / self._group_tokens(local_tokens) if self.ddp is not None else None
        loss_sum = torch.zeros((), device=self.device)
        for i, part in enumerate(parts):
            if self.graphs:
                torch.compiler.cudagraph_mark_step_begin()
            last = i == len(parts) - 1
            with self.ddp.no_sync() if self.ddp is not None and not last else nullcontext():
                with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                    loss = self._loss(part)
                local = loss * (target_tokens(part) / local_tokens) if weighted else loss
                (loss * (target_tokens(part) * group_share) if group_share is not None else local).backward()
            loss_sum += local.detach().float()
        return loss_sum

    def step(self, batch: dict[str, Any], lr: float | None = None) -> dict[str, Any]:
        """One update; ``lr`` overrides the config's schedule for this step (a growing run keeps its own)."""
        batch = self.prepare(batch)
        lr = self.config.lr_at(self.step_count) if lr is None else lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.graphs:
            self._own_gradient_buffers()
        self.optimizer.zero_grad(set_to_none=not self.graphs)
        loss = self.accumulate_gradients(batch)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip).detach()
        self.optimizer.step()
        self.step_count += 1
        self._sums += torch.stack([loss, grad_norm.float(), torch.ones((), device=self.device)])
        return {"loss": loss, "lr": lr, "grad_norm": grad_norm}

    def _own_gradient_buffers(self) -> None:
        # A gradient left unset would be the graph's output tensor itself, overwritten by the next replay; a buffer
        # of its own is added into instead (anyone may have set the gradients to None, e.g. a FLOP count).
        for p in self.model.parameters():
            if p.requires_grad and p.grad is None:
                p.grad = torch.zeros_like(p)

    def drain_metrics(self) -> dict[str, float | int]:
        """Mean loss and gradient norm over the steps since the last call (one device read), and their count."""
        loss, grad_norm, steps = self._sums.tolist()
        self._sums.zero_()
        if not steps:
            return {"steps": 0}
        return {"loss": loss / steps, "grad_norm": grad_norm / steps, "steps": int(steps)}

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


def _on_cpu(batch: dict[str, Any]) -> bool:
    tokens = batch.get("token_ids")
    return not isinstance(tokens, torch.Tensor) or tokens.device.type == "cpu"


def _raise_recompile_limit() -> None:
    import torch._dynamo

    for name in ("recompile_limit", "cache_size_limit"):  # renamed in torch 2.6; older torches know the second
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, max(getattr(torch._dynamo.config, name), RECOMPILE_LIMIT))
