"""The Producer actor: makes Arrow batches on one CPU and hands them to the trainer through the object store.

Ray restarts it after a crash (``max_restarts``) and re-sends the calls that were in flight (``max_task_retries``);
each start draws from a fresh random stream, derived from (launch, restart count), so no batch is ever replayed.
"""

from __future__ import annotations

from ..generate.generator import configure_producer
from .ray_bindings import restart_count, whereabouts
from .sources import SourceSpec, build_source, tag_batch
from .stream_ids import stream_id


class Producer:
    def __init__(self, spec: SourceSpec, seed: int, index: int, launch: int):
        configure_producer()  # this actor's process only draws batches
        self.index = index
        self.restarts = restart_count()
        self.stream = stream_id(launch, self.restarts)
        self.source = build_source(spec, seed, index, self.stream)
        self.served = 0

    def next_batch(self):
        batch = tag_batch(self.source.next(), self.index, self.stream, self.served)
        self.served += 1
        return batch

    def health(self) -> dict:
        return {"index": self.index, "restarts": self.restarts, "stream": self.stream, "served": self.served,
                "source": self.source.stats(), **whereabouts()}
