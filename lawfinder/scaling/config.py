"""The sweep's configuration: model sizes (each with the batch size and learning rate the paper's rules give it),
compute budgets in FLOPs, the shared training settings, the data and the held-out evaluation, read from TOML or JSON.

A size names a model preset plus ``ModelConfig`` overrides, so micro models for a CPU study and the paper's
``sl-XS``..``sl-XL`` are written the same way. A size without ``batch_size``/``lr`` takes them from the preset's
training preset (``lawfinder.model.presets``: the paper's per-size table for ``sl-*``). Every problem
with the file is a ValueError naming the key.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# The paper's optimiser and schedule (AdamCPR β = (0.9, 0.98), 5 % linear warmup, cosine annealing), applied to every
# run unless the config's [train] table says otherwise.
PAPER_TRAIN = {"optimizer": "adamcpr", "betas": (0.9, 0.98), "schedule": "cosine", "warmup": 0.05, "stable": 0.0,
               "weight_decay": 0.0}


@dataclass(frozen=True)
class SizeSpec:
    name: str
    preset: str
    model: tuple = ()               # (field, value) ModelConfig overrides
    batch_size: int | None = None   # None: the preset's training batch size
    lr: float | None = None         # None: the preset's peak learning rate


@dataclass(frozen=True)
class EvalSpec:
    problems: int = 128      # held-out (expression, dataset) pairs, drawn once and reused by every run
    samples: int = 128       # sequences sampled per problem; the best R² among them is the prediction (the paper)
    max_len: int = 64        # longest sampled sequence (LaTeX tokens, without <bos>)
    temperature: float = 1.0
    seed: int = 20251026     # the held-out set's generator seed (training draws from other streams)
    sympy_check: bool = True  # confirm near-exact predictions that differ after simplify with SymPy
    # Torch threads while scoring. One: on a shared box, two threads of tiny matmuls ran 18x slower than one.
    threads: int = 1

    def __post_init__(self):
        for name in ("problems", "samples", "max_len", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"[eval] {name} must be >= 1, got {getattr(self, name)}")
        if not self.temperature > 0:
            raise ValueError(f"[eval] temperature must be > 0, got {self.temperature}")


@dataclass(frozen=True)
class SweepConfig:
    out: str                               # sweep directory: one folder per run, runs.jsonl, heldout.arrow
    sizes: tuple[SizeSpec, ...]
    budgets: tuple[float, ...]             # compute budgets in FLOPs (6·(N_enc·D_in + N_dec·D_out) per sample)
    data: str = "scaling-laws"             # generator preset
    data_overrides: tuple = ()             # (field, value) GeneratorConfig overrides
    train: tuple = tuple(PAPER_TRAIN.items())  # (field, value) TrainConfig overrides shared by all runs
    eval: EvalSpec = field(default_factory=EvalSpec)
    producers: int = 1
    producer_cpus: float = 1.0
    trainer_cpus: float = 1.0
    seed: int = 0
    checkpoint_every: int = 200
    max_seconds: float = 0.0               # per launch; a run cut short resumes from its checkpoint next time
    min_steps: int = 1                     # budgets that give fewer steps than this are skipped for that size

    def __post_init__(self):
        if not self.sizes:
            raise ValueError("the config needs at least one entry in [[sizes]]")
        names = [s.name for s in self.sizes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"sizes: duplicate name(s) {duplicates}")
        if not self.budgets:
            raise ValueError("budgets: give at least one compute budget in FLOPs")
        for b in self.budgets:
            if not (isinstance(b, (int, float)) and math.isfinite(b) and b > 0):
                raise ValueError(f"budgets: {b!r} is not a positive number of FLOPs")
        if len(set(self.budgets)) != len(self.budgets):
            raise ValueError(f"budgets: duplicates in {list(self.budgets)}")
        if self.producers < 1:
            raise ValueError(f"producers must be >= 1, got {self.producers}")
        if self.checkpoint_every < 1 or self.min_steps < 1:
            raise ValueError("checkpoint_every and min_steps must be >= 1")
        if self.max_seconds < 0:
            raise ValueError(f"max_seconds must be >= 0, got {self.max_seconds}")


_TOP_KEYS = {f.name for f in fields(SweepConfig)}
_SIZE_KEYS = {f.name for f in fields(SizeSpec)}
_EVAL_KEYS = {f.name for f in fields(EvalSpec)}


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table of NAME = VALUE, got {type(value).__name__}")
    return value


def _pairs(value: Any, where: str) -> tuple:
    # Lists become tuples so the pairs stay hashable inside frozen specs (betas = [0.9, 0.98]).
    return tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in _table(value, where).items())


def parse_config(data: dict, base_dir: str | Path = ".") -> SweepConfig:
    """A ``SweepConfig`` from the parsed file; a relative ``out`` is taken relative to ``base_dir``."""
    data = _table(data, "the config")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in the config; known: {sorted(_TOP_KEYS)}")
    if "out" not in data:
        raise ValueError("the config needs 'out', the sweep directory")
    sizes = []
    raw_sizes = data.get("sizes", [])
    if not isinstance(raw_sizes, list):
        raise ValueError("sizes must be an array of tables ([[sizes]])")
    for i, raw in enumerate(raw_sizes):
        raw = _table(raw, f"sizes[{i}]")
        bad = sorted(set(raw) - _SIZE_KEYS)
        if bad:
            raise ValueError(f"sizes[{i}]: unknown key(s) {bad}; known: {sorted(_SIZE_KEYS)}")
        for key in ("name", "preset"):
            if key not in raw:
                raise ValueError(f"sizes[{i}] needs '{key}'")
        sizes.append(SizeSpec(name=str(raw["name"]), preset=str(raw["preset"]),
                              model=_pairs(raw.get("model", {}), f"sizes[{i}].model"),
                              batch_size=None if raw.get("batch_size") is None else int(raw["batch_size"]),
                              lr=None if raw.get("lr") is None else float(raw["lr"])))
    eval_raw = _table(data.get("eval", {}), "[eval]")
    bad = sorted(set(eval_raw) - _EVAL_KEYS)
    if bad:
        raise ValueError(f"[eval]: unknown key(s) {bad}; known: {sorted(_EVAL_KEYS)}")
    out = Path(str(data["out"]))
    if not out.is_absolute():
        out = Path(base_dir) / out
    train = dict(PAPER_TRAIN)
    train.update(dict(_pairs(data.get("train", {}), "[train]")))
    scalars = {k: data[k] for k in ("data", "producers", "producer_cpus", "trainer_cpus", "seed", "checkpoint_every",
                                    "max_seconds", "min_steps") if k in data}
    budgets = data.get("budgets", [])
    if not isinstance(budgets, list):
        raise ValueError("budgets must be an array of FLOPs, e.g. budgets = [1e11, 3e11, 1e12]")
    config = SweepConfig(out=str(out), sizes=tuple(sizes), budgets=tuple(float(b) for b in budgets),
                         data_overrides=_pairs(data.get("data_overrides", {}), "[data_overrides]"),
                         train=tuple(train.items()), eval=EvalSpec(**eval_raw), **scalars)
    check_names(config)
    return config


def check_names(config: SweepConfig) -> None:
    """Fail at load time, not after hours of training, on a preset or field that does not exist."""
    from ..generate.config import preset as data_preset
    from ..model.config import ModelConfig, TrainConfig
    from ..model.presets import get as model_preset

    try:
        data_preset(config.data, **dict(config.data_overrides))  # raises naming an unknown preset or field
    except ValueError as error:
        raise ValueError(f"data: {error}") from None
    model_fields = {f.name for f in fields(ModelConfig)}
    for size in config.sizes:
        try:
            model_preset(size.preset)
        except ValueError as error:
            raise ValueError(f"sizes {size.name!r}: {error}") from None
        bad = sorted(set(dict(size.model)) - model_fields)
        if bad:
            raise ValueError(f"sizes {size.name!r}: unknown ModelConfig field(s) {bad}")
    train_fields = {f.name for f in fields(TrainConfig)}
    bad = sorted(set(dict(config.train)) - train_fields)
    if bad:
        raise ValueError(f"[train]: unknown TrainConfig field(s) {bad}")


def load_config(path: str | Path) -> SweepConfig:
    """Read a sweep config from ``.toml`` or ``.json``; a relative ``out`` is relative to the current directory."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep config {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot parse ({error})") from None
    return parse_config(data)
