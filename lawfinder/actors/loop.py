"""The training loop the TrainerActor runs: pull a batch, take a step, account, checkpoint every N steps, report.

It knows nothing of Ray: ``pull()`` returns ``(producer index, batch)`` and the learner is anything with ``step``,
``train_step(batch)``, ``save(path, data_position)`` and ``load(path) -> data_position``, so it is tested with fakes.
A learner with ``prepare(batch)`` gets the next batch pulled and prepared by a prefetch thread (``prefetch.py``) while
the current step runs; one with ``drain_metrics()`` keeps its loss on the device and is read once per report.

Data-parallel learners (``data_parallel.py``) each run this loop with a ``Group``: every learner steps, and only
rank 0 writes checkpoints, metrics and progress lines. What must agree across the group is agreed through it: when
to stop (a time limit reached on one learner stops all at the same step) and the data position saved (every
learner's batch counts, gathered at each checkpoint).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from .checkpoints import (append_metrics, checkpoint_due, checkpoint_path, load_newest_valid, prune_checkpoints,
                          remove_interrupted_saves, trim_metrics)
from .prefetch import Prefetcher
from .meter import Meter, format_progress


class Group(Protocol):
    """The learners of one data-parallel step (``data_parallel.DistGroup``); None in ``train_loop`` is one learner."""

    rank: int
    size: int

    def any(self, flag: bool) -> bool: ...  # True on every learner when it is True on any

    def gather(self, value: Any) -> list: ...  # every learner's value, in rank order, on every learner


class Learner(Protocol):
    step: int

    def train_step(self, batch: Any) -> dict: ...  # {"loss", "lr", "grad_norm", ...}

    def save(self, path: Path, data_position: dict) -> None: ...  # atomic

    def load(self, path: Path) -> dict: ...  # restores state, returns the saved data_position


@dataclass
class LoopConfig:
    max_steps: int
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    report_every_s: float = 10.0
    # Report every N steps as well (deterministic reports for tests and short runs); 0 = by time only.
    report_every_steps: int = 0
    # Stop (with a checkpoint) after this many seconds of this call, e.g. to fit a time-limited slot; 0 = no limit.
    max_seconds: float = 0.0
    # Pull and prepare the next batch in a thread while the current step runs (learners with ``prepare``).
    prefetch: bool = True

    def __post_init__(self):
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints must be >= 1, got {self.keep_checkpoints}")
        if self.max_seconds < 0:
            raise ValueError(f"max_seconds must be >= 0, got {self.max_seconds}")


def resume(learner: Learner, out_dir: str | Path, writer: bool = True) -> dict | None:
    """Load the newest intact checkpoint in ``out_dir`` if there is one (damaged ones are skipped with a warning);
    returns its data position (None = fresh start). Only the ``writer`` (rank 0 of a group) tidies the folder."""
    if writer:
        remove_interrupted_saves(out_dir)
    path, position = load_newest_valid(out_dir, learner.load)
    if path is None:
        return None
    # Lines written after that checkpoint describe steps that will be trained again.
    if writer:
        trim_metrics(out_dir, learner.step)
    return position


def _merged_batches(start: dict, counted: dict, group: Group | None) -> dict:
    """Batches per producer since the run began: the resumed counts plus this call's, over every learner."""
    merged = dict(start)
    for counts in group.gather(counted) if group is not None else [counted]:
        for key, n in counts.items():
            merged[key] = merged.get(key, 0) + n
    return merged


def train_loop(learner: Learner, pull: Callable[[], tuple[int, Any]], out_dir: str | Path, config: LoopConfig,
               data_position: dict, report: Callable[[str], None] = print,
               clock: Callable[[], float] = time.perf_counter, group: Group | None = None) -> dict:
    """Train until ``learner.step == config.max_steps`` (or ``config.max_seconds`` ran out); returns a summary.
    With a ``group`` this is one of its learners: ``pull`` gives this learner's batches (producer ids unique in the
    group), and only rank 0 writes."""
    out_dir = Path(out_dir)
    writer = group is None or group.rank == 0
    learners = 1 if group is None else group.size
    if writer:
        out_dir.mkdir(parents=True, exist_ok=True)
    position = {"batches": {}, "samples": 0, **data_position}
    start_batches = {str(k): v for k, v in position.pop("batches").items()}
    counted: dict[str, int] = {}
    meter = Meter(clock)
    start_step = learner.step
    losses: list[float] = []
    last_metrics: dict = {}
    started = last_report = clock()
    saved = None
    final = learner.step >= config.max_steps

    prepare = getattr(learner, "prepare", None) if config.prefetch else None
    feed = Prefetcher(pull, prepare) if prepare is not None and not final else None
    drain = getattr(learner, "drain_metrics", None)
    try:
        while not final:
            t0 = clock()
            producer, batch = feed.next() if feed else pull()
            t1 = clock()
            last_metrics = learner.train_step(batch)
            t2 = clock()
            samples = int(batch.num_rows)
            meter.record(producer, samples * learners, waited_s=t1 - t0, step_s=t2 - t1)   # the group's samples
            position["samples"] += samples * learners   # every learner's batch has the producers' batch size
            counted[str(producer)] = counted.get(str(producer), 0) + 1
            if last_metrics.get("loss") is not None:
                losses.append(float(last_metrics["loss"]))

            out_of_time = bool(config.max_seconds) and clock() - started >= config.max_seconds
            if group is not None and config.max_seconds:
                out_of_time = group.any(out_of_time)   # one learner's clock stops all at the same step
            final = learner.step >= config.max_steps or out_of_time
            if checkpoint_due(learner.step, config.checkpoint_every, config.max_steps) or final:
                batches = _merged_batches(start_batches, counted, group)
                if writer:
                    saved = checkpoint_path(out_dir, learner.step)
                    learner.save(saved, {**position, "batches": batches})
                    prune_checkpoints(out_dir, config.keep_checkpoints)

            by_steps = config.report_every_steps and learner.step % config.report_every_steps == 0
            if writer and (by_steps or clock() - last_report >= config.report_every_s or final):
                device = drain() if drain else {}
                record = {"step": learner.step, "time": time.time(), **meter.report(),
                          "loss": device.get("loss", sum(losses) / len(losses) if losses else None),
                          "lr": last_metrics.get("lr"),
                          "grad_norm": device.get("grad_norm", last_metrics.get("grad_norm")),
                          "launch": position.get("launch"), **({"learners": learners} if group else {})}
                append_metrics(out_dir, record)
                report(format_progress(record, config.max_steps))
                losses.clear()
                last_report = clock()
    finally:
        if feed is not None:
            feed.close()

    position["batches"] = _merged_batches(start_batches, counted, group)
    return {"step": learner.step, "start_step": start_step, "checkpoint": str(saved) if saved else None,
            "data_position": position, **meter.summary()}
