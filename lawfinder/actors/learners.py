"""What the TrainerActor trains, built from a picklable ``LearnerSpec`` on the trainer's own node:

- ``"model"``: a lawfinder model preset with its trainer (``lawfinder.model.train``), fed Arrow batches turned
  into tensors by the batch schema (no Python loop per sample), on the GPU Ray gave the actor, else the CPU; its
  ``prepare`` (Arrow -> padded arrays -> pinned tensors -> device, on a CUDA stream of its own) is what the loop's
  prefetch thread runs for the next batch while the current step trains;
- ``"sink"``: consumes batches and trains nothing, to measure the pull path alone (``lawfinder bench pipeline``).

Both follow the ``loop.Learner`` protocol: ``step``, ``train_step(batch)``, ``save(path, data_position)``,
``load(path) -> data_position``; the model learner also has ``prepare`` and ``drain_metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgpack
from ..atomic import write_bytes

LEARNER_KINDS = ("model", "sink")
DEFAULT_PRESET = "flash-tiny"   # the preset a run names when it names none (lawfinder train's default too)


@dataclass(frozen=True)
class LearnerSpec:
    """What the trainer trains. The preset name and overrides are resolved once, where the spec is built (the
    driver), into ``model`` and ``train``: the trainer actor reads those and never looks a preset up."""

    kind: str = "model"
    preset: str = DEFAULT_PRESET   # lawfinder.model.presets name (kept as the run's label)
    model_overrides: tuple = ()    # (field, value) pairs for ModelConfig
    train_overrides: tuple = ()    # (field, value) pairs for TrainConfig
    seed: int = 0
    init_from: str | None = None   # weights to start from (a fresh run only; a checkpoint in the run dir wins)
    threads: int = 0               # torch intra-op threads (the trainer actor's CPUs); 0 = leave torch's setting
    data_parallel: bool = False    # one of a group's learners: steps through DDP (a process group must exist)
    model: Any = None              # the resolved ModelConfig
    train: Any = None              # the resolved TrainConfig (its seed is ``seed``)

    def __post_init__(self):
        if self.kind not in LEARNER_KINDS:
            raise ValueError(f"learner kind must be one of {list(LEARNER_KINDS)}, got {self.kind!r}")
        if self.threads < 0:
            raise ValueError(f"learner threads must be >= 0, got {self.threads}")
        if self.kind == "model" and (self.model is None or self.train is None):
            from ..model.presets import get

            record = get(self.preset)
            if self.model is None:
                object.__setattr__(self, "model", record.model_config(**dict(self.model_overrides)))
            if self.train is None:
                object.__setattr__(self, "train",
                                   record.train_config(overrides=(*self.train_overrides, ("seed", self.seed))))


def build_learner(spec: LearnerSpec):
    if spec.kind == "sink":
        return SinkLearner()
    return ModelLearner(spec)


@dataclass
class PreparedBatch:
    """A batch already on the trainer's device (``ready``: the CUDA event its copy recorded, None on CPU)."""

    num_rows: int
    tensors: dict
    ready: object = None


class ModelLearner:
    """A model preset and its ``lawfinder.model.train.Trainer`` on the GPU Ray assigned, else the CPU."""

    def __init__(self, spec: LearnerSpec):
        import torch

        from ..model.train import Trainer

        if spec.threads:
            # Ray sets OMP_NUM_THREADS=1 for a 1-CPU actor; a trainer given more CPUs uses them.
            torch.set_num_threads(spec.threads)
        model_config, train_config = spec.model, spec.train  # resolved where the job was built
        # Ray sets CUDA_VISIBLE_DEVICES to the GPU it gave this actor, and hides all when it gave none.
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.trainer = Trainer.create(model_config, train_config, self.device)
        self._max_steps = train_config.max_steps
        if spec.init_from:
            from ..model.checkpoint import init_weights

            init_weights(self.trainer.model, spec.init_from)
        self._runtime = {k: getattr(train_config, k) for k in ("compile", "compile_mode", "grad_accum")}
        self._stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        self.data_parallel = spec.data_parallel
        if self.data_parallel:
            self.trainer.distribute()

    @property
    def step(self) -> int:
        return self.trainer.step_count

    def prepare(self, batch) -> PreparedBatch:
        """Arrow batch -> tensors on the device at the step's padded shapes; thread-safe, so the loop's prefetch
        thread runs it for the next batch while the current one trains."""
        import torch

        from ..generate.schema import batch_to_arrays

        config = self.trainer.model_config
        points = int(pa_max(batch, "n_points"))
        tokens = int(pa_max(batch, "n_tokens"))
        n_points, n_tokens = self.trainer.padded_sizes(points, tokens)
        arrays = batch_to_arrays(batch, max_variables=config.max_variables, max_points=n_points,
                                 max_len=config.max_len if tokens > config.max_len else n_tokens)
        if self._stream is None:
            return PreparedBatch(batch.num_rows, {k: torch.from_numpy(v) for k, v in arrays.items()})
        with torch.cuda.stream(self._stream):
            tensors = {k: torch.from_numpy(v).pin_memory().to(self.device, non_blocking=True)
                       for k, v in arrays.items()}
            ready = torch.cuda.Event()
            ready.record(self._stream)
        return PreparedBatch(batch.num_rows, tensors, ready)

    def train_step(self, batch) -> dict:
        import torch

        if not isinstance(batch, PreparedBatch):
            batch = self.prepare(batch)
        if batch.ready is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(batch.ready)
            for tensor in batch.tensors.values():
                tensor.record_stream(current)  # the copy stream's memory is in use on this one now
        result = self.trainer.step(batch.tensors)
        return {"lr": result["lr"]}  # loss and grad norm stay on the device until drain_metrics

    def drain_metrics(self) -> dict:
        return self.trainer.drain_metrics()

    def save(self, path: Path, data_position: dict) -> None:
        self.trainer.save_checkpoint(path, data_position=data_position)

    def load(self, path: Path) -> dict:
        from ..model.train import load_checkpoint

        # The checkpoint carries its own model and train configs: a resumed run continues the run that wrote it.
        # Only its length follows this launch, so that a run can be extended (the LR schedule spans the new end).
        # How the step runs (compiled, micro-batches) follows this launch too: it is the machine's, not the run's.
        self.trainer = load_checkpoint(path, self.device)
        wanted = {"max_steps": self._max_steps, **self._runtime}
        if any(getattr(self.trainer.config, k) != v for k, v in wanted.items()):
            config = replace(self.trainer.config, **wanted)
            position = self.trainer.data_position
            self.trainer = rebuild_trainer(self.trainer, config)
            self.trainer.data_position = position
        if self.data_parallel:
            self.trainer.distribute()   # the loaded trainer is a new one: wrap it again
        return dict(self.trainer.data_position)


def pa_max(batch, column: str) -> int:
    import pyarrow.compute as pc

    value = pc.max(batch.column(column)).as_py()
    return int(value or 0)


def rebuild_trainer(trainer, config):
    """The same model, optimiser state and step under a changed TrainConfig (compile and micro-batches are set
    when the Trainer is built)."""
    from ..model.train import Trainer

    compiled = config.compile if config.compile is not None else trainer.device.type == "cuda"
    if compiled == trainer.compiled and config.compile_mode == trainer.config.compile_mode:
        trainer.config = config  # only plain fields changed: nothing to rebuild
        return trainer
    rebuilt = Trainer(trainer.model, config, trainer.device)
    rebuilt.optimizer.load_state_dict(trainer.optimizer.state_dict())
    rebuilt.step_count = trainer.step_count
    return rebuilt


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
