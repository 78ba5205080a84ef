"""The growing model's fixed recipe and its learning-rate schedule, as pure functions (no torch).

The recipe is fixed for a lineage: every run trains the same shape on the same prior with the same batch and peak LR,
so the runs add up to one warmup–stable–decay schedule whose stable phase never ends. What a run may change is only
how long it trains (its budget) and where (device, producers).

Shape (measured with ``bench train-step --set-model``, docs/model-card.md "Growing"): the shipped model's d = 128
Set-Transformer encoder and 3-layer decoder, widened to Flash-ANSR's 17 variables. On one core of this box it trains
at ~137 samples/s at 128 points where flash-3M trains at ~42, and on 2 cores it samples candidates as fast as the
shipped model at inference, which is where our recovery comes from.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

# The shipped model's shape, 17 variables (flash-3M's code, vocabulary and data preset otherwise).
GROW_MODEL = (("d_model", 128), ("n_heads", 2), ("ffn_hidden", 384), ("n_inducing", 32), ("n_seeds", 32),
              ("max_variables", 17), ("max_len", 48), ("dropout", 0.0))
# Flash-ANSR's prior (every operator, 17 variables, decontaminated against FastSRB) with the shipped model's point
# counts: the encoder's cost grows with the points, and 32-256 trained the shipped model that reads FastSRB's 512.
GROW_DATA = (("min_points", 32), ("max_points", 256), ("max_len", 48))


@dataclass(frozen=True)
class Recipe:
    preset: str = "flash-3M"                 # code path, vocabulary and data preset (lawfinder.model.presets)
    model: tuple = GROW_MODEL                # ModelConfig overrides
    data: tuple = GROW_DATA                  # GeneratorConfig overrides
    batch_size: int = 64
    peak_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200                  # the lineage's first run (fresh weights or a warm start)
    rewarm_steps: int = 30                   # every later run: the optimiser state is not carried between runs
    cooldown_share: float = 0.2              # of a run's training time, spent on the cool-down branch
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: (list(map(list, v)) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "Recipe":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("model", "data"):
            if key in known:
                known[key] = tuple(tuple(pair) for pair in known[key])
        return cls(**known)

    def data_overrides(self) -> list[str]:
        """The data prior as ``--set-data`` texts (what ``actors.shipping`` and the generator CLI read)."""
        return [f"{k}={v}" for k, v in self.data]


def trunk_lr(step_in_run: int, trunk_step: int, recipe: Recipe) -> float:
    """LR of the trunk's next step: the lineage's linear warmup over its first ``warmup_steps`` steps, and in every
    run a short re-warmup over ``rewarm_steps`` (each run starts a fresh optimiser); the constant peak after both.
    ``step_in_run`` and ``trunk_step`` count the steps taken before this one, in this run and in the lineage."""
    return recipe.peak_lr * min(1.0, (trunk_step + 1) / max(recipe.warmup_steps, 1),
                                (step_in_run + 1) / max(recipe.rewarm_steps, 1))


def cooldown_lr(step: int, steps: int, peak: float) -> float:
    """LR of the cool-down's ``step``-th step of ``steps``: peak·(1 − sqrt(t)), t from 0 to 1 (Hägele et al.'s
    1-sqrt shape, which beat a linear decay in their runs); the last step trains at a small LR, never 0."""
    if steps < 1:
        raise ValueError(f"a cool-down needs at least one step, got {steps}")
    return peak * (1.0 - math.sqrt(step / steps))


def split_budget(seconds: float, cooldown_share: float) -> tuple[float, float]:
    """A run's training seconds -> (trunk seconds, cool-down seconds)."""
    if seconds <= 0:
        raise ValueError(f"the training budget must be positive, got {seconds:g} s")
    if not 0.0 < cooldown_share < 1.0:
        raise ValueError(f"cooldown_share must lie in (0, 1), got {cooldown_share}")
    return seconds * (1.0 - cooldown_share), seconds * cooldown_share


def cooldown_steps(seconds: float, steps_per_second: float, minimum: int = 10) -> int:
    """How many cool-down steps fit ``seconds`` at the rate the trunk phase measured."""
    return max(minimum, int(seconds * steps_per_second))
