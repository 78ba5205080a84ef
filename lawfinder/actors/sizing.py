"""How many producer cores one GPU needs per model preset: the trainer's samples/s over one producer core's
samples/s.

The producer side is measured: the preset's generator, in this process on one core, at the preset's batch size
(which also gives the padded batch shapes the trainer computes on). The trainer side is measured when given
(``trainer_rates``: memory-fed samples/s per preset from ``lawfinder bench train-step --out``, e.g. on the GPU);
otherwise it is computed: FLOPs per sample counted by torch's FLOP counter on a forward + backward of those shapes
(on the ``meta`` device, so even the 1B model costs nothing here), divided into an assumed GPU throughput
(peak × MFU).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

# H100 dense bf16, measured on an 8192³ matmul on the lent machines (2026-11-30), and a utilisation typical of
# mid-sized transformers; both are assumptions here, named in every output.
GPU_TFLOPS = 790.0
MFU = 0.3


@dataclass
class DataRate:
    data: str
    batch_size: int
    samples_per_s: float       # one core
    padded_points: float       # mean over batches of the largest sample's points (the trainer pads to it)
    padded_tokens: float       # mean over batches of the longest target (<bos> .. <eos>)
    batches: int
    overrides: tuple = ()


def measure_data(data: str, batch_size: int, seconds: float, overrides: tuple = ()) -> DataRate:
    """Generate batches for ``seconds`` (after a first, unmeasured one) on this process's one core."""
    from .sources import SourceSpec, build_source

    source = build_source(SourceSpec(preset=data, batch_size=batch_size, overrides=overrides), 0, 0, 0)
    source.next()  # warm-up: lazy imports, caches
    points, tokens, samples = [], [], 0
    start = time.perf_counter()
    while not points or time.perf_counter() - start < seconds:
        batch = source.next()
        samples += batch.num_rows
        points.append(max(batch.column("n_points").to_pylist()))
        tokens.append(max(batch.column("n_tokens").to_pylist()))
    elapsed = time.perf_counter() - start
    return DataRate(data, batch_size, samples / elapsed, sum(points) / len(points), sum(tokens) / len(tokens),
                    len(points), tuple(overrides))


def counted_flops_per_sample(model_preset: str, batch_size: int, n_points: int, n_tokens: int) -> float:
    """Forward + backward FLOPs of one sample at the padded shapes, counted on the meta device."""
    import torch

    from ..model.build import build_model
    from ..model.flops import measure_flops
    from ..model.presets import get

    config = get(model_preset).model
    with torch.device("meta"):
        model = build_model(config)
        b, n, v = batch_size, int(n_points), config.max_variables
        batch = {"X": torch.zeros(b, n, v), "y": torch.zeros(b, n), "point_mask": torch.ones(b, n, dtype=torch.bool),
                 "variable_mask": torch.ones(b, v, dtype=torch.bool),
                 "token_ids": torch.ones(b, int(n_tokens), dtype=torch.long)}
        return measure_flops(model, batch) / b


def producer_cores(trainer_samples_per_s: float, core_samples_per_s: float) -> int:
    """Cores whose producers together keep up with the trainer."""
    if core_samples_per_s <= 0:
        raise ValueError(f"core_samples_per_s must be > 0, got {core_samples_per_s}")
    return max(1, math.ceil(trainer_samples_per_s / core_samples_per_s))


def read_trainer_rates(path: str) -> dict[str, dict]:
    """{preset: row} of the fastest successful row per preset in a ``bench train-step`` JSON (``--out``) or JSONL."""
    import json
    from pathlib import Path

    text = Path(path).read_text()
    try:
        rows = json.loads(text)["results"]
    except (ValueError, KeyError, TypeError):
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    best: dict[str, dict] = {}
    for row in rows:
        if row.get("benchmark", "train-step") != "train-step" or "samples_per_s" not in row:
            continue  # a gpu-check JSONL also holds pipeline, sizing and context rows
        if row["samples_per_s"] > best.get(row["preset"], {}).get("samples_per_s", 0):
            best[row["preset"]] = row
    if not best:
        raise ValueError(f"{path}: no bench train-step rows with samples_per_s")
    return best


def size_presets(presets: list[str], seconds: float, gpu_tflops: float = GPU_TFLOPS, mfu: float = MFU,
                 data_overrides: dict | None = None, trainer_rates: dict[str, dict] | None = None) -> list[dict]:
    """One row per model preset: FLOPs/sample, trainer samples/s (measured when ``trainer_rates`` has the preset,
    else computed), measured core samples/s, cores needed."""
    from ..model.presets import get

    data_overrides = data_overrides or {}
    rates: dict[tuple[str, int], DataRate] = {}
    rows = []
    for preset in presets:
        batch_size = get(preset).train.batch_size
        data = get(preset).data
        key = (data, batch_size)
        if key not in rates:
            rates[key] = measure_data(data, batch_size, seconds, data_overrides.get(data, ()))
        rate = rates[key]
        flops = counted_flops_per_sample(preset, batch_size, round(rate.padded_points), round(rate.padded_tokens))
        measured = (trainer_rates or {}).get(preset)
        if measured:
            trainer, source = measured["samples_per_s"], (f"measured: bench train-step on {measured['device']} "
                                                          f"(batch {measured['batch_size']}, compile "
                                                          f"{measured['compile']})")
        else:
            trainer, source = gpu_tflops * 1e12 * mfu / flops, "computed from FLOPs (no GPU measurement)"
        rows.append({"preset": preset, "batch_size": batch_size, "gflops_per_sample": flops / 1e9,
                     "trainer_samples_per_s": trainer, "gpu_tflops": gpu_tflops, "mfu": mfu,
                     "trainer_source": source,
                     "core": asdict(rate), "core_samples_per_s": rate.samples_per_s,
                     "producer_cores": producer_cores(trainer, rate.samples_per_s)})
    return rows


def format_sizing(rows: list[dict]) -> str:
    header = (f"{'preset':<11} {'batch':>5} {'GFLOP/sample':>12} {'GPU samples/s':>13} {'core samples/s':>14} "
              f"{'cores/GPU':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['preset']:<11} {r['batch_size']:>5} {r['gflops_per_sample']:>12.2f} "
                     f"{r['trainer_samples_per_s']:>13.0f} {r['core_samples_per_s']:>14.0f} {r['producer_cores']:>9}")
    for source in sorted({r["trainer_source"] for r in rows}):
        which = ", ".join(r["preset"] for r in rows if r["trainer_source"] == source)
        if source.startswith("computed"):
            source = f"computed from FLOPs at {rows[0]['gpu_tflops']:g} TFLOP/s × MFU {rows[0]['mfu']:g}"
        lines.append(f"(GPU samples/s of {which}: {source}; core samples/s measured on this machine)")
    return "\n".join(lines)
