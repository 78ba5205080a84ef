"""What a producer serves, built from a picklable ``SourceSpec``: the real generator (training), replayed real
batches (transport benchmarks: real shapes at no generation cost), or synthetic ~1 MB batches (the raw pull path).

Every batch leaves the producer tagged with who made it (schema metadata, no copy), so the trainer and the tests can
tell producers, streams and restarts apart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .stream_ids import split_stream

SOURCE_KINDS = ("generator", "replay", "synthetic")
TAG_PREFIX = b"lawfinder."


@dataclass(frozen=True)
class SourceSpec:
    kind: str = "generator"
    preset: str = "flash-ansr"   # generator preset (lawfinder.generate.PRESETS)
    overrides: tuple = ()        # (field, value) pairs applied to the preset
    batch_size: int = 32
    replay_batches: int = 4      # kind="replay": real batches made once, then served in turn
    synthetic_bytes: int = 1 << 20  # kind="synthetic": payload size of one batch

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {list(SOURCE_KINDS)}, got {self.kind!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.replay_batches < 1:
            raise ValueError(f"replay_batches must be >= 1, got {self.replay_batches}")
        if self.synthetic_bytes < 4 * self.batch_size:
            raise ValueError(f"synthetic_bytes must be >= 4 * batch_size, got {self.synthetic_bytes}")


def build_source(spec: SourceSpec, seed: int, index: int, stream: int):
    """A source object with ``next() -> pyarrow.RecordBatch`` and ``stats() -> dict``."""
    if spec.kind == "synthetic":
        return SyntheticSource(spec, seed, index, stream)
    source = GeneratorSource(spec, seed, index, stream)
    return ReplaySource(source, spec.replay_batches) if spec.kind == "replay" else source


class GeneratorSource:
    def __init__(self, spec: SourceSpec, seed: int, index: int, stream: int):
        from ..generate.config import preset
        from ..generate.generator import Generator

        config = preset(spec.preset, **dict(spec.overrides))
        self.batch_size = spec.batch_size
        self.generator = Generator(config, seed=seed, worker_index=index, stream=stream)

    def next(self) -> pa.RecordBatch:
        return self.generator.sample_batch(self.batch_size)

    def stats(self) -> dict:
        return self.generator.stats.as_dict()


class ReplaySource:
    def __init__(self, source: GeneratorSource, n: int):
        self._source = source
        self.batches = [source.next() for _ in range(n)]
        self._cycle = itertools.cycle(self.batches)

    def next(self) -> pa.RecordBatch:
        return next(self._cycle)

    def stats(self) -> dict:
        return self._source.stats()


class SyntheticSource:
    """``batch_size`` rows of random float32 vectors, ``synthetic_bytes`` in all; two batches made up front and
    served in turn, so serving costs nothing but the transport."""

    def __init__(self, spec: SourceSpec, seed: int, index: int, stream: int):
        from ..generate.streams import generators

        rng = generators(seed, index, stream, n=1)[0]
        width = spec.synthetic_bytes // (4 * spec.batch_size)
        batches = []
        for _ in range(2):
            values = pa.array(rng.random(width * spec.batch_size, dtype=np.float32))
            batches.append(pa.RecordBatch.from_arrays([pa.FixedSizeListArray.from_arrays(values, width)],
                                                      names=["payload"]))
        self._cycle = itertools.cycle(batches)
        self.served = 0

    def next(self) -> pa.RecordBatch:
        self.served += 1
        return next(self._cycle)

    def stats(self) -> dict:
        return {"served": self.served}


def tag_batch(batch: pa.RecordBatch, producer: int, stream: int, seq: int) -> pa.RecordBatch:
    """The same batch (no data copied) with who made it in its schema metadata."""
    metadata = dict(batch.schema.metadata or {})
    metadata.update({TAG_PREFIX + b"producer": str(producer).encode(), TAG_PREFIX + b"stream": str(stream).encode(),
                     TAG_PREFIX + b"seq": str(seq).encode()})
    return batch.replace_schema_metadata(metadata)


def read_tag(batch: pa.RecordBatch) -> dict:
    """{"producer", "stream", "launch", "restarts", "seq"} of a tagged batch."""
    metadata = batch.schema.metadata or {}
    try:
        tag = {name: int(metadata[TAG_PREFIX + name.encode()]) for name in ("producer", "stream", "seq")}
    except KeyError:
        raise ValueError("batch carries no lawfinder producer tag (was it made by a Producer?)") from None
    tag["launch"], tag["restarts"] = split_stream(tag["stream"])
    return tag
