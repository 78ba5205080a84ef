"""The TrainerActor: pulls batches from the producers, trains, checkpoints; after a crash Ray restarts it, it
resumes from the newest checkpoint in its run directory, and its ``run`` call is made again.

Checkpoints and metrics are written where this actor runs: on a cluster, give ``out_dir`` on shared storage or on
the trainer node's disk.
"""

from __future__ import annotations

import sys
from functools import partial

from .checkpoints import check_writable, next_launch
from .learners import LearnerSpec, build_learner
from .loop import LoopConfig, resume, train_loop
from .ray_bindings import ray_puller, restart_count, whereabouts


class TrainerActor:
    def __init__(self, spec: LearnerSpec, out_dir: str, loop: LoopConfig):
        self.out_dir, self.loop = str(check_writable(out_dir)), loop
        self.learner = build_learner(spec)
        self.restarts = restart_count()
        self.position = resume(self.learner, out_dir)
        self.resumed_from = self.learner.step

    def open_launch(self) -> int:
        """Count a new launch on the run directory; its index keeps this launch's producer streams new."""
        return next_launch(self.out_dir)

    def run(self, producers: list, launch: int, depth: int) -> dict:
        puller = ray_puller(producers, depth)
        position = {**(self.position or {}), "launch": launch}
        summary = train_loop(self.learner, puller.next, self.out_dir, self.loop, position,
                             report=partial(print, file=sys.stderr, flush=True))
        return {**summary, "dropped_producers": puller.dropped, "trainer_restarts": self.restarts,
                "resumed_from": self.resumed_from}

    def health(self) -> dict:
        return {"step": self.learner.step, "restarts": self.restarts, "resumed_from": self.resumed_from,
                "device": str(self.learner.device), **whereabouts()}
