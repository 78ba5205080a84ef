"""Checkpoints: one file written atomically (temp file + ``os.replace``), holding tensors via ``torch.save`` and the
structured metadata (configs, step, data position, format tag) as msgpack bytes inside it. Loading uses
``torch.load(weights_only=True)``, so a file from elsewhere cannot run code.

Every file is verified before torch parses it: a short header in front of the ``torch.save`` bytes records their size
and SHA-256, so a truncated or damaged file is refused with a one-line ``DamagedCheckpoint`` error naming what is
wrong (torch's own zip reader can abort the whole process on a truncated file). Files from before the header (plain
``torch.save`` zips, e.g. older shipped weights) still load; their zip CRCs are checked in Python first.

``save_checkpoint`` / ``read_training_state`` carry everything a run needs to continue bit for bit on CPU: weights,
optimiser state, step (which fixes the LR schedule), every RNG state and the caller's opaque ``data_position``; the
trainer rebuilds itself from that record (``lawfinder.model.train.load_checkpoint``), so this module never imports
the trainer. ``save_model`` / ``load_model`` carry only what inference needs, optionally in bf16 and split into shards
of bounded size (``NAME.shard-K-HASH.pt`` beside the index file) for places that limit file sizes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import torch

from ..atomic import DamagedFile, write_bytes
from .build import SymbolicModel, build_model
from .config import ModelConfig

FORMAT = "lawfinder-checkpoint"
VERSION = 1
MAGIC = b"LAWFINDER-CKPT\n"   # then a little-endian u32 header length, the JSON header, then the torch.save bytes
_ZIP_MAGIC = b"PK\x03\x04"      # a plain torch.save file (written before the header existed)


class DamagedCheckpoint(DamagedFile):
    """The file exists and claims to be a checkpoint, but its bytes do not match what was written."""


def _pack(meta: dict[str, Any]) -> torch.Tensor:
    try:
        packed = msgpack.packb(meta, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"checkpoint metadata (data_position or extra fields) must be msgpack-able: {error}") \
            from None
    return torch.frombuffer(bytearray(packed), dtype=torch.uint8)


def _unpack(tensor: torch.Tensor) -> dict[str, Any]:
    return msgpack.unpackb(tensor.numpy().tobytes(), raw=False)


def _envelope(body: bytes) -> bytes:
    header = json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + body


def _atomic_torch_save(obj: dict, path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, _envelope(buffer.getvalue()), fsync=True)


def verified_bytes(path: str | os.PathLike) -> bytes:
    """The ``torch.save`` bytes of ``path`` after checking them against its header (size and SHA-256).

    ValueError for a missing file or one that is not a checkpoint; ``DamagedCheckpoint`` for a truncated or altered
    one. Never hands torch a file it has not checked."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist or is not a file")
    data = path.read_bytes()
    if data.startswith(MAGIC):
        start = len(MAGIC) + 4
        try:
            (length,) = struct.unpack_from("<I", data, len(MAGIC))
            header = json.loads(data[start:start + length])
            size, digest = int(header["size"]), str(header["sha256"])
        except (struct.error, ValueError, KeyError, TypeError):
            raise DamagedCheckpoint(f"checkpoint {str(path)!r} is damaged: its header is unreadable") from None
        body = data[start + length:]
        if len(body) != size:
            raise DamagedCheckpoint(f"checkpoint {str(path)!r} is damaged: {len(body)} of {size} bytes "
                                    f"({'truncated' if len(body) < size else 'extra bytes at the end'})")
        if hashlib.sha256(body).hexdigest() != digest:
            raise DamagedCheckpoint(f"checkpoint {str(path)!r} is damaged: its SHA-256 does not match the one "
                                    f"written with it")
        return body
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise DamagedCheckpoint(f"checkpoint {str(path)!r} is damaged ({error})") from None
        if bad is not None:
            raise DamagedCheckpoint(f"checkpoint {str(path)!r} is damaged: member {bad!r} fails its CRC")
        return data
    raise ValueError(f"{str(path)!r} is not a readable lawfinder checkpoint (it starts with neither the lawfinder "
                     f"header nor a zip signature)")


def verify(path: str | os.PathLike) -> None:
    """Raise ValueError (``DamagedCheckpoint`` when damaged) unless ``path`` is an intact checkpoint file."""
    verified_bytes(path)


def _read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """-> (tensors, metadata); ValueError for a missing, damaged, unreadable or foreign file."""
    body = verified_bytes(path)
    try:
        payload = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
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


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a checkpoint or model file (configs, step, ``extra``), verified like a full load."""
    return _read(path)[1]


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
    """Write the trainer's full state (any object with ``model``, ``model_config``, ``config``, ``optimizer``,
    ``step_count`` and ``data_position``). ``data_position`` (msgpack-able) tells the data side where to resume."""
    if data_position is not None:
        trainer.data_position = dict(data_position)
    rng_tensors, rng_meta = _rng_state()
    meta = {"format": FORMAT, "version": VERSION, "kind": "training", "model_config": trainer.model_config.to_dict(),
            "train_config": trainer.config.to_dict(), "step": trainer.step_count,
            "data_position": trainer.data_position, "rng": rng_meta, "torch": torch.__version__, "extra": metadata}
    _atomic_torch_save({"meta": _pack(meta), "model": trainer.model.state_dict(),
                        "optimizer": trainer.optimizer.state_dict(), "rng": rng_tensors}, Path(path))


@dataclass
class TrainingState:
    """What a training checkpoint holds, before any trainer exists: the trainer builds itself from this."""

    model_config: ModelConfig
    train_config: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    step: int
    data_position: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    rng: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None

    def restore_rng(self) -> None:
        """Put every RNG back where it was when the checkpoint was written."""
        if self.rng is not None:
            _set_rng_state(*self.rng)


def read_training_state(path: str | os.PathLike) -> TrainingState:
    """A verified training checkpoint as a ``TrainingState`` (ValueError for a weights-only file)."""
    payload, meta = _read(path)
    if meta.get("kind") != "training" or "optimizer" not in payload:
        raise ValueError(f"{str(path)!r} holds model weights only, not a training checkpoint; use load_model")
    return TrainingState(model_config=ModelConfig.from_dict(meta["model_config"]), train_config=meta["train_config"],
                         model=payload["model"], optimizer=payload["optimizer"], step=int(meta["step"]),
                         data_position=dict(meta["data_position"]), metadata=meta.get("extra", {}),
                         rng=(payload["rng"], meta["rng"]))


def _shards(state: dict[str, torch.Tensor], max_bytes: int) -> list[dict[str, torch.Tensor]]:
    """Tensors grouped in order so that each group's data stays under ``max_bytes`` (a bigger tensor goes alone)."""
    groups: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if groups[-1] and size + nbytes > max_bytes:
            groups.append({})
            size = 0
        groups[-1][name] = tensor
        size += nbytes
    return groups


# What is kept apart from the tensor data when sharding: the torch.save zip and our header (a few KiB per file).
_SHARD_OVERHEAD = 256 * 1024


def _old_shards(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}.shard-*{path.suffix}"))


def remove_model(path: str | os.PathLike) -> list[Path]:
    """Delete a ``save_model`` file and its shards (the file first, so no reader finds a listing without its shards);
    returns what was there."""
    path = Path(path)
    gone = [p for p in [path, *_old_shards(path)] if p.exists()]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def save_model(path: str | os.PathLike, model: SymbolicModel, dtype: torch.dtype | None = None,
               max_file_bytes: int | None = None, **metadata: Any) -> list[Path]:
    """Weights and config only (for inference); ``dtype=torch.bfloat16`` halves the file. With ``max_file_bytes``
    the tensors go into shard files beside ``path`` (``NAME.shard-K-HASH.pt``, each below that size) and ``path``
    holds the config and the shards' names and hashes. Shards are written under new names before ``path`` is
    replaced, and the previous shards removed after, so a reader sees the old set or the new one. Returns the files
    written."""
    path = Path(path)
    state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
             for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "version": VERSION, "kind": "model", "model_config": model.config.to_dict(),
            "torch": torch.__version__, "extra": metadata}
    previous = _old_shards(path)
    total = sum(t.numel() * t.element_size() for t in state.values())
    written, listing = [], []
    if max_file_bytes is not None and total + _SHARD_OVERHEAD > max_file_bytes:
        if max_file_bytes <= _SHARD_OVERHEAD:
            raise ValueError(f"max_file_bytes={max_file_bytes} leaves no room for tensor data")
        for index, group in enumerate(_shards(state, max_file_bytes - _SHARD_OVERHEAD)):
            buffer = io.BytesIO()
            torch.save({"meta": _pack({"format": FORMAT, "version": VERSION, "kind": "model-shard", "index": index}),
                        "model": group}, buffer)
            body = _envelope(buffer.getvalue())
            digest = hashlib.sha256(body).hexdigest()
            shard = path.with_name(f"{path.stem}.shard-{index}-{digest[:12]}{path.suffix}")
            write_bytes(shard, body, fsync=True)
            listing.append({"file": shard.name, "sha256": digest})
            written.append(shard)
        meta["shards"] = listing
        state = {}
    _atomic_torch_save({"meta": _pack(meta), "model": state}, path)
    for stale in previous:
        if stale not in written:
            stale.unlink(missing_ok=True)
    return [path, *written]


def _model_state(path: Path, payload: dict[str, Any], meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    state = dict(payload["model"])
    for entry in meta.get("shards", []):
        shard = path.with_name(entry["file"])
        if not shard.is_file():
            raise ValueError(f"{str(path)!r} lists the shard {entry['file']!r}, which is missing beside it")
        verified_bytes(shard)
        if hashlib.sha256(shard.read_bytes()).hexdigest() != entry["sha256"]:
            raise DamagedCheckpoint(f"shard {str(shard)!r} is not the one {str(path)!r} was written with")
        shard_payload, _ = _read(shard)
        state.update(shard_payload["model"])
    return state


def load_model(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[SymbolicModel, ModelConfig]:
    """-> (model in eval mode, its config) from a training checkpoint or a ``save_model`` file (bf16 and sharded
    files are read back into fp32)."""
    path = Path(path)
    payload, meta = _read(path)
    config = ModelConfig.from_dict(meta["model_config"])
    model = build_model(config)
    state = {k: v.float() if v.is_floating_point() else v for k, v in _model_state(path, payload, meta).items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{str(path)!r}: weights do not match its model config ({error})") from None
    return model.to(device).eval(), config


# Fields that change no parameter shape: weights trained with one value serve a model with another.
_SHAPE_FREE = ("dropout", "input_noise", "norm_eps", "rope_base", "max_len")


def architecture_difference(path: str | os.PathLike, config: ModelConfig) -> str | None:
    """Why the weights in ``path`` cannot initialise a model of ``config`` (None when they can)."""
    theirs = ModelConfig.from_dict(read_metadata(path)["model_config"]).to_dict()
    ours = config.to_dict()
    differ = [f"{k}={theirs[k]!r} vs {ours[k]!r}" for k in ours if k not in _SHAPE_FREE and theirs.get(k) != ours[k]]
    return ", ".join(differ) or None


def init_weights(model: SymbolicModel, path: str | os.PathLike) -> dict[str, Any]:
    """Copy the weights of ``path`` (a model file or a training checkpoint; its optimiser state is ignored) into
    ``model``; ValueError naming the differing fields when the architectures differ. Returns the file's metadata."""
    difference = architecture_difference(path, model.config)
    if difference:
        raise ValueError(f"--init-from {str(path)!r}: its architecture differs from this model's ({difference})")
    loaded, _ = load_model(path)
    model.load_state_dict(loaded.state_dict())
    return read_metadata(path)
