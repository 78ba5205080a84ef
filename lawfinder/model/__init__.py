"""Models: tokenizers, the two papers' encoders, the RoPE decoder, presets, FLOPs and the training step.

``lawfinder.model.tokenizer``, ``config`` and ``presets`` stay free of torch so data workers can import them; the
torch parts (``build_model``, ``load_model``) load on first use through ``__getattr__``.
"""

from __future__ import annotations

from .config import ModelConfig, TrainConfig
from .presets import PRESETS, Preset, get_preset
from .tokenizer import TOKENIZERS, Tokenizer, get_tokenizer

__all__ = ["PRESETS", "ModelConfig", "Preset", "TOKENIZERS", "Tokenizer", "TrainConfig", "build_model", "get_preset",
           "get_tokenizer", "load_model"]


def __getattr__(name: str):
    if name == "build_model":
        from .build import build_model
        return build_model
    if name == "load_model":
        from .checkpoint import load_model
        return load_model
    raise AttributeError(f"module 'lawfinder.model' has no attribute {name!r}")
