"""``lawfinder bench train-step``: training throughput of one or more presets on synthetic batches of the real
shapes, fed from device memory (the trainer alone, no data pipeline).

``--preset flash-3M,flash-20M`` measures each in turn and prints one table: samples/s, tokens/s, achieved FLOP/s
(torch's FLOP count of one step divided by the measured step time), MFU against a matrix-multiply peak measured in
the same run on the same device in the step's precision, peak memory and whether the step was compiled
(``--compile both`` measures each preset both ways). ``--precision`` picks the autocast dtype (``auto``: bf16 on
CUDA and on a CPU with AMX tiles, fp32 elsewhere; ``both`` measures fp32 and bf16). ``--out`` writes the figures as
JSON, ``--jsonl`` appends one line per row. A preset that fails (e.g. out of memory) gets a row with its error and
the others still run.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager, nullcontext


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


def matmul_peak(device, size: int | None = None, repeats: int = 10, dtype=None) -> dict:
    """Best FLOP/s of a square matmul in ``dtype`` (default bf16 on CUDA, fp32 on CPU): 8192³ on CUDA, 1024³ on
    CPU."""
    import torch

    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
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
    return {"size": n, "dtype": dtype_name(dtype), "flops_per_s": 2.0 * n**3 / best}


def dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def run_train_step_bench(preset: str, batch_size: int | None = None, n_points: int | None = None,
                         seq_len: int = 32, steps: int = 5, warmup: int | None = None, device: str = "auto",
                         compile: bool | None = None, grad_accum: int = 1, peak: dict | None = None,
                         model_overrides: dict | None = None, ddp: bool = False, precision: str = "auto") -> dict:
    from ..model.presets import get
    from ..model.train import Trainer

    record = get(preset)
    dev = resolve_device(device)
    config = record.model_config(**(model_overrides or {}))
    if n_points is None:
        n_points = 1024 if config.kind == "set" else 64  # Flash-ANSR pads to 1024 points; scaling-laws tables have 64
    if seq_len > config.max_len:
        raise ValueError(f"--seq-len {seq_len} exceeds the preset's max_len {config.max_len}")
    batch_size = batch_size or record.train.batch_size
    train_config = record.train_config(batch_size, {"compile": compile, "grad_accum": grad_accum,
                                                    "max_steps": 10**6, "precision": precision})
    trainer = Trainer.create(config, train_config, dev)
    with group_of_one(dev) if ddp else nullcontext():
        if ddp:
            trainer.distribute()
        row = _time_steps(trainer, config, dev, preset, batch_size, n_points, seq_len, steps, warmup, grad_accum,
                          peak, train_config)
    return {**row, "ddp": ddp}


@contextmanager
def group_of_one(device):
    """A torch.distributed process group of this process alone (NCCL on a GPU, gloo on a CPU): the data-parallel
    step's path with nobody to all-reduce with, to measure what DistributedDataParallel itself costs."""
    import tempfile

    import torch.distributed as dist

    with tempfile.TemporaryDirectory(prefix="lawfinder-ddp-") as tmp:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method=f"file://{tmp}/init",
                                rank=0, world_size=1)
        try:
            yield
        finally:
            dist.destroy_process_group()


def _time_steps(trainer, config, dev, preset, batch_size, n_points, seq_len, steps, warmup, grad_accum, peak,
                train_config) -> dict:
    import torch

    from ..model.flops import check_flops

    warmup = warmup if warmup is not None else (3 if trainer.compiled else 1)
    batch = synthetic_batch(config, batch_size, n_points, seq_len)
    batch_dev = {k: v.to(dev) for k, v in batch.items()}
    flop_check = check_flops(trainer.model, batch_dev)
    dtype = trainer.autocast_dtype or torch.float32
    peak = (peak or {}).get(dtype_name(dtype)) or matmul_peak(dev, dtype=dtype)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(warmup):
        trainer.step(batch_dev)
    _sync(dev)
    trainer.drain_metrics()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step(batch_dev)
    _sync(dev)
    step_time = (time.perf_counter() - start) / steps
    metrics = trainer.drain_metrics()
    samples_per_s = batch_size / step_time
    achieved = flop_check.measured / step_time
    return {
        "preset": preset, "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "compile": trainer.compiled,
        "cuda_graphs": trainer.graphs, "grad_accum": grad_accum,
        "precision": "bf16 autocast" if trainer.autocast_dtype else "fp32", "optimizer": train_config.optimizer,
        "batch_size": batch_size, "n_points": n_points, "n_variables": config.max_variables, "seq_len": seq_len,
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
        "steps": steps, "warmup_steps": warmup, "step_time_s": step_time, "last_loss": metrics.get("loss"),
        "samples_per_s": samples_per_s, "tokens_per_s": samples_per_s * (seq_len - 1),
        "flops_per_step_measured": flop_check.measured, "flops_per_step_estimated_6ND": flop_check.estimated,
        "flops_ratio_measured_over_6ND": flop_check.ratio, "achieved_flops_per_s": achieved,
        "matmul_peak": peak, "mfu": achieved / peak["flops_per_s"], "peak_memory_mib": peak_memory_mib(dev),
    }


def resolve_device(device: str):
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def peak_memory_mib(device) -> float:
    """CUDA: the most memory torch allocated since the preset's step began; CPU: the process's peak RSS so far."""
    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_many(presets: list[str], compiles: list[bool | None], device: str = "auto", on_row=None,
             precisions: tuple[str, ...] = ("auto",), **kw) -> dict:
    """Every preset × compile × precision setting in one process, against one matmul peak per dtype (best of before
    and after). ``on_row(row)`` sees each row as soon as it is measured (MFU against the peak measured before)."""
    import torch

    from ..model.train import autocast_for

    dev = resolve_device(device)
    dtypes = {autocast_for(p, dev) or torch.float32 for p in precisions}
    before = {dtype_name(d): matmul_peak(dev, dtype=d) for d in dtypes}
    rows = []
    for preset in presets:
        for compile in compiles:
            for precision in precisions:
                try:
                    rows.append(run_train_step_bench(preset, device=str(dev), compile=compile, peak=before,
                                                     precision=precision, **kw))
                except ValueError:
                    raise
                except Exception as error:  # noqa: BLE001 - one failing preset (OOM, compiler) must not hide the rest
                    rows.append({"preset": preset, "compile": compile, "precision": precision,
                                 "error": f"{type(error).__name__}: {error}"[:300]})
                finally:
                    _release(dev)
                if on_row is not None:
                    on_row(rows[-1])
    # Peaks measured on both sides of the timed steps, best kept: on a shared machine one side may be disturbed.
    peaks = {name: max(peak, matmul_peak(dev, dtype=getattr(torch, name)), key=lambda p: p["flops_per_s"])
             for name, peak in before.items()}
    for row in rows:
        if "achieved_flops_per_s" in row:
            peak = peaks[row["matmul_peak"]["dtype"]]
            row["matmul_peak"], row["mfu"] = peak, row["achieved_flops_per_s"] / peak["flops_per_s"]
    return {"benchmark": "train-step", "device": str(dev), "torch": torch.__version__,
            "matmul_peaks": sorted(peaks.values(), key=lambda p: p["dtype"]), "results": rows}


def _release(device) -> None:
    import gc

    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    torch._dynamo.reset()  # drops compiled graphs (and their CUDA-graph memory pools) of the previous preset


def _write_json(path: str, data: dict) -> None:
    from ..atomic import write_text

    write_text(path, json.dumps(data, indent=2))


def format_table(report: dict) -> str:
    peaks = ", ".join(f"{p['flops_per_s']:.3e} FLOP/s ({p['dtype']} {p['size']}³)" for p in report["matmul_peaks"])
    header = (f"{'preset':<11} {'compile':>7} {'dtype':>5} {'batch':>5} {'points':>6} {'tokens':>6} {'params':>8} "
              f"{'ms/step':>8} {'samples/s':>10} {'tokens/s':>10} {'TFLOP/s':>8} {'MFU':>6} {'peak MiB':>9}")
    lines = [f"device {report['device']} (torch {report['torch']}), matmul peak {peaks}, measured in this run",
             header, "-" * len(header)]
    for r in report["results"]:
        compiled = {True: "on", False: "off", None: "auto"}[r.get("compile")] + ("+ddp" if r.get("ddp") else "")
        if "error" in r:
            lines.append(f"{r['preset']:<11} {compiled:>7} {r.get('precision', ''):>5}  failed: {r['error']}")
            continue
        dtype = "bf16" if r["precision"].startswith("bf16") else "fp32"
        lines.append(f"{r['preset']:<11} {compiled:>7} {dtype:>5} {r['batch_size']:>5} {r['n_points']:>6} "
                     f"{r['seq_len']:>6} "
                     f"{r['parameters'] / 1e6:>7.2f}M {r['step_time_s'] * 1e3:>8.1f} {r['samples_per_s']:>10.1f} "
                     f"{r['tokens_per_s']:>10.0f} {r['achieved_flops_per_s'] / 1e12:>8.3f} {100 * r['mfu']:>5.1f}% "
                     f"{r['peak_memory_mib']:>9.0f}")
    return "\n".join(lines)


COMPILE_CHOICES = {"auto": [None], "on": [True], "off": [False], "both": [False, True]}
PRECISION_CHOICES = {"auto": ("auto",), "bf16": ("bf16",), "fp32": ("fp32",), "both": ("fp32", "bf16")}


def _train_step(args: argparse.Namespace) -> int:
    from ..model.presets import get

    from ..model.config import ModelConfig
    from ..overrides import parse_assignment

    presets = [p.strip() for p in args.preset.split(",") if p.strip()]
    overrides = dict(parse_assignment(ModelConfig, text, "--set-model") for text in args.set_model)
    for name in presets:
        get(name).model_config(**overrides)  # an unknown name or field fails before anything is measured
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    def append(row: dict) -> None:
        # Row by row, so that a run cut short by a timeout keeps what it measured.
        if args.jsonl:
            with open(args.jsonl, "a") as handle:
                handle.write(json.dumps({"benchmark": "train-step", **row}) + "\n")

    report = run_many(presets, COMPILE_CHOICES[args.compile], args.device, on_row=append,
                      precisions=PRECISION_CHOICES[args.precision],
                      batch_size=args.batch_size, n_points=args.n_points, seq_len=args.seq_len, steps=args.steps,
                      warmup=args.warmup, grad_accum=args.grad_accum, model_overrides=overrides, ddp=args.ddp)
    print(format_table(report), flush=True)
    if args.out:
        _write_json(args.out, report)
    return 0


def register_bench(sub) -> None:
    p = sub.add_parser("train-step", help="training throughput, FLOP/s and MFU of model presets (one table)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="flash-3M", help="comma-separated presets (lawfinder.model.presets)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per batch (default: each preset's)")
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per step")
    p.add_argument("--n-points", type=int, default=None, help="points per sample (default 1024 set, 64 table)")
    p.add_argument("--seq-len", type=int, default=32, help="token_ids length incl. <bos>/<eos>")
    p.add_argument("--steps", type=int, default=5, help="timed steps")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed steps first (compilation, CUDA-graph recording); default 3 compiled, 1 eager")
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:N")
    p.add_argument("--compile", nargs="?", const="on", default="auto", choices=sorted(COMPILE_CHOICES),
                   help="torch.compile the step: auto (on for CUDA), on, off, or both (one row each)")
    p.add_argument("--set-model", action="append", default=[], metavar="NAME=VALUE",
                   help="ModelConfig field for every preset measured (e.g. the growing model: --preset flash-3M "
                        "--set-model d_model=128 --set-model n_heads=2 ...)")
    p.add_argument("--precision", default="auto", choices=sorted(PRECISION_CHOICES),
                   help="autocast dtype: auto (bf16 on CUDA and on a CPU with AMX tiles, else fp32), bf16, fp32, or "
                        "both (one row each)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--ddp", action="store_true",
                   help="step through DistributedDataParallel in a group of one (NCCL on a GPU, gloo on a CPU): the "
                        "data-parallel learner's path, to compare with the plain step")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    p.add_argument("--jsonl", default=None, help="append one JSON line per row here, as each is measured")
    p.set_defaults(func=_train_step)
