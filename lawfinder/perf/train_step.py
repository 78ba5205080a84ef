"""``lawfinder bench train-step``: training throughput of a preset on synthetic batches of the real shapes.

Prints and writes (``--out``) samples/s, tokens/s, achieved FLOP/s (torch's FLOP count of one step divided by the
measured step time), MFU against a matrix-multiply peak measured in the same run on the same device (bf16 on CUDA,
fp32 on CPU), and the 6·N·D estimate next to torch's count.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def synthetic_batch(config, batch_size: int, n_points: int, seq_len: int, seed: int = 0) -> dict:
    """Random data of the right shapes: all variables and points real, token rows <bos> .. <eos> without padding."""
    import torch

    g = torch.Generator().manual_seed(seed)
    v = config.max_variables
    tokens = torch.randint(3, config.vocab_size, (batch_size, seq_len), generator=g)
    tokens[:, 0], tokens[:, -1] = 1, 2
    return {"X": torch.randn(batch_size, n_points, v, generator=g), "y": torch.randn(batch_size, n_points, generator=g),
            "point_mask": torch.ones(batch_size, n_points, dtype=torch.bool),
            "variable_mask": torch.ones(batch_size, v, dtype=torch.bool), "token_ids": tokens}


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device, size: int | None = None, repeats: int = 10) -> dict:
    """Best FLOP/s of a square matmul: bf16 on CUDA (8192³), fp32 on CPU (1024³ by default)."""
    import torch

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    n = size or (8192 if device.type == "cuda" else 1024)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return {"size": n, "dtype": str(dtype).replace("torch.", ""), "flops_per_s": 2.0 * n**3 / best}


def run_train_step_bench(preset: str, batch_size: int, n_points: int | None = None, seq_len: int = 32,
                         steps: int = 5, warmup: int = 2, device: str = "auto", compile: bool = False) -> dict:
    import torch

    from ..model.config import get_preset
    from ..model.flops import check_flops
    from ..model.train import TRAIN_PRESETS, TrainConfig, Trainer

    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    config = get_preset(preset)
    if n_points is None:
        n_points = 1024 if config.kind == "set" else 64  # Flash-ANSR pads to 1024 points; scaling-laws tables have 64
    if seq_len > config.max_len:
        raise ValueError(f"--seq-len {seq_len} exceeds the preset's max_len {config.max_len}")
    base = TRAIN_PRESETS.get(preset, TrainConfig())
    train_config = TrainConfig(**{**base.to_dict(), "betas": base.betas, "batch_size": batch_size,
                                  "compile": compile, "trim_padding": False, "max_steps": 10 * (steps + warmup)})
    trainer = Trainer.create(config, train_config, dev)
    batch = synthetic_batch(config, batch_size, n_points, seq_len)
    batch_dev = {k: v.to(dev) for k, v in batch.items()}
    flop_check = check_flops(trainer.model, batch_dev)
    peak_before = matmul_peak(dev)
    for _ in range(warmup):
        trainer.step(batch_dev)
    _sync(dev)
    start = time.perf_counter()
    for _ in range(steps):
        result = trainer.step(batch_dev)
    _sync(dev)
    step_time = (time.perf_counter() - start) / steps
    # Peak measured on both sides of the timed steps, best kept: on a shared machine one side may be disturbed.
    peak = max(peak_before, matmul_peak(dev), key=lambda p: p["flops_per_s"])
    samples_per_s = batch_size / step_time
    achieved = flop_check.measured / step_time
    return {
        "preset": preset, "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "compile": compile,
        "precision": "bf16 autocast" if dev.type == "cuda" else "fp32",
        "batch_size": batch_size, "n_points": n_points, "n_variables": config.max_variables, "seq_len": seq_len,
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
        "steps": steps, "warmup_steps": warmup, "step_time_s": step_time, "last_loss": result["loss"],
        "samples_per_s": samples_per_s, "tokens_per_s": samples_per_s * (seq_len - 1),
        "flops_per_step_measured": flop_check.measured, "flops_per_step_estimated_6ND": flop_check.estimated,
        "flops_ratio_measured_over_6ND": flop_check.ratio, "achieved_flops_per_s": achieved,
        "matmul_peak": peak, "mfu": achieved / peak["flops_per_s"],
    }


def _write_json(path: str, data: dict) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, target)


def _print_table(r: dict) -> None:
    rows = [
        ("preset / device", f"{r['preset']} / {r['device']} ({r['precision']}, {r['threads']} threads)"),
        ("parameters", f"{r['parameters'] / 1e6:.2f}M"),
        ("batch × points × vars, tokens",
         f"{r['batch_size']} × {r['n_points']} × {r['n_variables']}, {r['seq_len']}"),
        ("step time", f"{r['step_time_s'] * 1e3:.1f} ms (mean of {r['steps']} after {r['warmup_steps']} warm-up)"),
        ("samples/s", f"{r['samples_per_s']:.1f}"),
        ("tokens/s", f"{r['tokens_per_s']:.0f}"),
        ("FLOPs/step torch | 6·N·D", f"{r['flops_per_step_measured']:.3e} | {r['flops_per_step_estimated_6ND']:.3e} "
                                     f"(ratio {r['flops_ratio_measured_over_6ND']:.2f})"),
        ("achieved FLOP/s", f"{r['achieved_flops_per_s']:.3e}"),
        ("matmul peak", f"{r['matmul_peak']['flops_per_s']:.3e} ({r['matmul_peak']['dtype']} "
                        f"{r['matmul_peak']['size']}³)"),
        ("MFU", f"{100 * r['mfu']:.1f} %"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _train_step(args: argparse.Namespace) -> int:
    result = run_train_step_bench(args.preset, args.batch_size, args.n_points, args.seq_len, args.steps, args.warmup,
                                  args.device, args.compile)
    _print_table(result)
    if args.out:
        _write_json(args.out, result)
    return 0


def register_bench(sub) -> None:
    p = sub.add_parser("train-step", help="training throughput, FLOP/s and MFU of a model preset")
    p.add_argument("--preset", default="flash-3M", help="model preset (lawfinder.model.config.PRESETS)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--n-points", type=int, default=None, help="points per sample (default 1024 set, 64 table)")
    p.add_argument("--seq-len", type=int, default=32, help="token_ids length incl. <bos>/<eos>")
    p.add_argument("--steps", type=int, default=5, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (compilation, allocator)")
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:N")
    p.add_argument("--compile", action="store_true", help="torch.compile the loss")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    p.set_defaults(func=_train_step)
