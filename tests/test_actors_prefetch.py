"""The trainer's feed without Ray: the prefetch thread prepares the next batch while the current one trains, in
order, hands errors to the consumer and stops cleanly; the model learner turns a real Arrow batch into tensors at the
step's shapes and trains on it through the loop with the prefetcher."""

from __future__ import annotations

import threading

import pytest

from lawfinder.actors.prefetch import Prefetcher
from lawfinder.actors.learners import LearnerSpec, PreparedBatch, build_learner
from lawfinder.actors.loop import LoopConfig, train_loop
from lawfinder.actors.sources import SourceSpec, build_source
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

TINY = (("simplify", False), ("decontaminate", False), ("max_points", 24), ("max_operators", 4))


def counting_pull(limit=None):
    n = 0

    def pull():
        nonlocal n
        n += 1
        if limit is not None and n > limit:
            raise RuntimeError(f"source ran dry after {limit}")
        return n % 2, n

    return pull


def test_prefetcher_prepares_ahead_in_order_and_stops():
    prepared_in = []
    sixth = threading.Event()

    def prepare(value):
        prepared_in.append(threading.current_thread().name)
        if len(prepared_in) == 6:
            sixth.set()
        return value * 10

    feed = Prefetcher(counting_pull(), prepare, depth=1)
    assert [feed.next() for _ in range(5)] == [(1, 10), (0, 20), (1, 30), (0, 40), (1, 50)]
    assert sixth.wait(timeout=30)   # the thread prepares ahead of the consumer (an event, not a guess at timing)
    # Double buffering: while the consumer holds batch 5, batch 6 is ready and batch 7 is at most being prepared.
    assert 6 <= len(prepared_in) <= 7 and set(prepared_in) == {"lawfinder-prefetch"}
    feed.close()
    feed.close()  # idempotent


def test_prefetcher_hands_errors_to_the_consumer():
    feed = Prefetcher(counting_pull(limit=2), lambda v: v)
    assert feed.next() == (1, 1) and feed.next() == (0, 2)
    with pytest.raises(RuntimeError, match="ran dry after 2"):
        feed.next()
    with pytest.raises(ValueError, match="depth"):
        Prefetcher(counting_pull(), lambda v: v, depth=0)


def _real_batches(n=3, batch_size=6):
    source = build_source(SourceSpec(preset="flash-ansr", batch_size=batch_size, overrides=TINY), 0, 0, 0)
    return [source.next() for _ in range(n)]


def test_model_learner_prepares_arrow_batches_at_the_step_shapes():
    learner = build_learner(LearnerSpec(preset="flash-tiny", threads=1))
    batch = _real_batches(1)[0]
    prepared = learner.prepare(batch)
    assert isinstance(prepared, PreparedBatch) and prepared.num_rows == 6 and prepared.ready is None
    longest = max(batch.column("n_tokens").to_pylist())
    assert prepared.tensors["X"].shape[:2] == (6, max(batch.column("n_points").to_pylist()))
    assert prepared.tensors["token_ids"].shape == (6, longest)  # eager on CPU: exact shapes, no buckets
    # Compiled, the same batch is padded up to the preset's buckets (set by the trainer, checked without compiling).
    learner.trainer.bucketed = True
    padded = learner.prepare(batch)
    assert padded.tensors["X"].shape[1] == 256 and padded.tensors["token_ids"].shape[1] in (16, 24, 32, 40)
    assert padded.tensors["token_ids"].shape[1] >= longest
    learner.trainer.bucketed = False
    assert learner.trainer.evaluate(padded.tensors) == pytest.approx(learner.trainer.evaluate(prepared.tensors),
                                                                     rel=1e-5)


def test_loop_trains_a_model_through_the_prefetcher(tmp_path):
    learner = build_learner(LearnerSpec(preset="flash-tiny", threads=1))
    batches = _real_batches(3)
    n = 0

    def pull():
        nonlocal n
        n += 1
        return 0, batches[n % 3]

    lines = []
    summary = train_loop(learner, pull, tmp_path, LoopConfig(max_steps=6, checkpoint_every=6, report_every_s=1e9,
                                                              report_every_steps=3),
                         {"launch": 0}, report=lines.append)
    assert summary["step"] == 6 and summary["data_position"]["samples"] == 36
    assert len(lines) == 2 and "loss" in lines[0]
    assert n in (7, 8)  # one or two batches pulled ahead of the last step, then the thread stopped
