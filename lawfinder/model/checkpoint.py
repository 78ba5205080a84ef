"""Checkpoints: one file written atomically (temp file + ``os.replace``), holding tensors via ``torch.save`` and the
structured metadata (configs, step, data position, format tag) as msgpack bytes inside it. Loading uses
``torch.load(weights_only=True)``, so a file from elsewhere cannot run code.

``save_checkpoint`` / ``load_checkpoint`` carry everything a run needs to continue bit for bit on CPU: weights,
optimiser state, step (which fixes the LR schedule), every RNG state and the caller's opaque ``data_position``.
``save_model`` / ``load_model`` carry only what inference needs.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import torch

from ..atomic import write_bytes
from .build import SymbolicModel, build_model
from .config import ModelConfig

FORMAT = "lawfinder-checkpoint"
VERSION = 1


def _pack(meta: dict[str, Any]) -> torch.Tensor:
    try:
        packed = msgpack.packb(meta, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"checkpoint metadata (data_position or extra fields) must be msgpack-able: {error}") \
            from None
    return torch.frombuffer(bytearray(packed), dtype=torch.uint8)


def _unpack(tensor: torch.Tensor) -> dict[str, Any]:
    return msgpack.unpackb(tensor.numpy().tobytes(), raw=False)


def _atomic_torch_save(obj: dict, path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue(), fsync=True)


def _read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """-> (tensors, metadata); ValueError for a missing, unreadable or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist or is not a file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = _unpack(payload["meta"])
    except Exception as error:  # a pickle, zip or msgpack error all mean: not one of our files
        raise ValueError(f"{str(path)!r} is not a readable lawfinder checkpoint ({type(error).__name__}: {error})") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a lawfinder checkpoint (format tag {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{str(path)!r} has checkpoint version {meta.get('version')!r}; this lawfinder reads "
                         f"version {VERSION}")
    return payload, meta


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    np_state = np.random.get_state()
    tensors = {"torch": torch.get_rng_state(), "numpy": torch.from_numpy(np_state[1].astype(np.int64))}
    if torch.cuda.is_available():
        tensors.update({f"cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    py = random.getstate()
    meta = {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            "python": [py[0], list(py[1]), py[2]]}
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch"])
    kind, has_gauss, gauss = meta["numpy"][0], meta["numpy"][2], meta["numpy"][3]
    np.random.set_state((kind, tensors["numpy"].numpy().astype(np.uint32), meta["numpy"][1], has_gauss, gauss))
    version, state, gauss_next = meta["python"]
    random.setstate((version, tuple(state), gauss_next))
    if torch.cuda.is_available():
        states = [tensors[f"cuda{i}"] for i in range(torch.cuda.device_count()) if f"cuda{i}" in tensors]
        if states:
            torch.cuda.set_rng_state_all(states)


def save_checkpoint(path: str | os.PathLike, trainer, data_position: dict[str, Any] | None = None,
                    **metadata: Any) -> None:
    """Write the trainer's full state. ``data_position`` (msgpack-able) tells the data side where to resume."""
    if data_position is not None:
        trainer.data_position = dict(data_position)
    rng_tensors, rng_meta = _rng_state()
    meta = {"format": FORMAT, "version": VERSION, "kind": "training", "model_config": trainer.model_config.to_dict(),
            "train_config": trainer.config.to_dict(), "step": trainer.step_count,
            "data_position": trainer.data_position, "rng": rng_meta, "torch": torch.__version__, "extra": metadata}
    _atomic_torch_save({"meta": _pack(meta), "model": trainer.model.state_dict(),
                        "optimizer": trainer.optimizer.state_dict(), "rng": rng_tensors}, Path(path))


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu"):
    """-> a ``Trainer`` in the state it was saved in (RNG states restored), with ``.data_position`` set."""
    from .train import TrainConfig, Trainer

    payload, meta = _read(path)
    if meta.get("kind") != "training" or "optimizer" not in payload:
        raise ValueError(f"{str(path)!r} holds model weights only, not a training checkpoint; use load_model")
    trainer = Trainer(build_model(ModelConfig.from_dict(meta["model_config"])),
                      TrainConfig.from_dict(meta["train_config"]), device)
    trainer.model.load_state_dict(payload["model"])
    trainer.optimizer.load_state_dict(payload["optimizer"])
    trainer.step_count = int(meta["step"])
    trainer.data_position = dict(meta["data_position"])
    trainer.metadata = meta.get("extra", {})
    _set_rng_state(payload["rng"], meta["rng"])
    return trainer


def save_model(path: str | os.PathLike, model: SymbolicModel, dtype: torch.dtype | None = None,
               **metadata: Any) -> None:
    """Weights and config only (for inference); ``dtype=torch.bfloat16`` halves the file."""
    state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
             for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "version": VERSION, "kind": "model", "model_config": model.config.to_dict(),
            "torch": torch.__version__, "extra": metadata}
    _atomic_torch_save({"meta": _pack(meta), "model": state}, Path(path))


def load_model(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[SymbolicModel, ModelConfig]:
    """-> (model in eval mode, its config) from a training checkpoint or a ``save_model`` file."""
    payload, meta = _read(path)
    config = ModelConfig.from_dict(meta["model_config"])
    model = build_model(config)
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{str(path)!r}: weights do not match its model config ({error})") from None
    return model.to(device).eval(), config
