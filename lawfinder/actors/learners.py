"""What the TrainerActor trains, built from a picklable ``LearnerSpec`` on the trainer's own node:

- ``"model"``: a lawfinder model preset with its trainer (``lawfinder.model.train``), fed Arrow batches turned
  into tensors by the batch schema (no Python loop per sample), on the GPU Ray gave the actor, else the CPU;
- ``"sink"``: consumes batches and trains nothing, to measure the pull path alone (``lawfinder bench pipeline``).

Both follow the ``loop.Learner`` protocol: ``step``, ``train_step(batch)``, ``save(path, data_position)``,
``load(path) -> data_position``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import msgpack
from ..atomic import write_bytes

LEARNER_KINDS = ("model", "sink")


@dataclass(frozen=True)
class LearnerSpec:
    kind: str = "model"
    preset: str = "flash-tiny"     # lawfinder.model.PRESETS name
    model_overrides: tuple = ()    # (field, value) pairs for ModelConfig
    train_overrides: tuple = ()    # (field, value) pairs for TrainConfig
    seed: int = 0
    init_from: str | None = None   # weights to start from (a fresh run only; a checkpoint in the run dir wins)

    def __post_init__(self):
        if self.kind not in LEARNER_KINDS:
            raise ValueError(f"learner kind must be one of {list(LEARNER_KINDS)}, got {self.kind!r}")


def build_learner(spec: LearnerSpec):
    if spec.kind == "sink":
        return SinkLearner()
    return ModelLearner(spec)


def train_config_for(preset: str, overrides=()):
    """The model preset's TrainConfig (a plain one for presets without) with fields replaced by name."""
    from ..model.train import TRAIN_PRESETS, TrainConfig

    return replace(TRAIN_PRESETS.get(preset, TrainConfig()), **dict(overrides))


class ModelLearner:
    """A model preset and its ``lawfinder.model.train.Trainer`` on the GPU Ray assigned, else the CPU."""

    def __init__(self, spec: LearnerSpec):
        import torch

        from ..model.config import get_preset
        from ..model.train import Trainer

        model_config = get_preset(spec.preset, **dict(spec.model_overrides))
        train_config = train_config_for(spec.preset, (*spec.train_overrides, ("seed", spec.seed)))
        # Ray sets CUDA_VISIBLE_DEVICES to the GPU it gave this actor, and hides all when it gave none.
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.trainer = Trainer.create(model_config, train_config, self.device)
        self._max_steps = train_config.max_steps
        if spec.init_from:
            from ..model.checkpoint import init_weights

            init_weights(self.trainer.model, spec.init_from)

    @property
    def step(self) -> int:
        return self.trainer.step_count

    def train_step(self, batch) -> dict:
        from ..generate.schema import batch_to_arrays

        config = self.trainer.model_config
        return self.trainer.step(batch_to_arrays(batch, max_variables=config.max_variables, max_len=config.max_len))

    def save(self, path: Path, data_position: dict) -> None:
        self.trainer.save_checkpoint(path, data_position=data_position)

    def load(self, path: Path) -> dict:
        from ..model.train import load_checkpoint

        # The checkpoint carries its own model and train configs: a resumed run continues the run that wrote it.
        # Only its length follows this launch, so that a run can be extended (the LR schedule spans the new end).
        self.trainer = load_checkpoint(path, self.device)
        if self.trainer.config.max_steps != self._max_steps:
            self.trainer.config = replace(self.trainer.config, max_steps=self._max_steps)
        return dict(self.trainer.data_position)


class SinkLearner:
    """Counts batches and touches nothing: what remains of a step is the transport."""

    device = "cpu"

    def __init__(self):
        self.step = 0

    def train_step(self, batch) -> dict:
        self.step += 1
        return {}

    def save(self, path: Path, data_position: dict) -> None:
        write_bytes(Path(path), msgpack.packb({"step": self.step, "data_position": data_position}))

    def load(self, path: Path) -> dict:
        state = msgpack.unpackb(Path(path).read_bytes(), strict_map_key=False)
        self.step = int(state["step"])
        return state["data_position"]
