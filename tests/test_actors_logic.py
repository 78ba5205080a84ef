"""Pure logic of the distributed trainer, tested with in-process fakes: no Ray, no torch."""

from __future__ import annotations

import json
from dataclasses import dataclass

import msgpack
import pytest

from lawfinder.actors.checkpoints import (append_metrics, checkpoint_due, checkpoint_path, list_checkpoints,
                                          newest_checkpoint, next_launch, prune_checkpoints, read_metrics,
                                          trim_metrics)
from lawfinder.actors.loop import LoopConfig, resume, train_loop
from lawfinder.actors.meter import Meter, format_progress
from lawfinder.actors.placement import producer_options, trainer_options
from lawfinder.actors.pull import NoProducersLeft, Puller
from lawfinder.actors.stream_ids import RESTARTS_PER_LAUNCH, split_stream, stream_id


# --------------------------------------------------------------------------------------------------------------------
# Fakes: producers whose calls finish when the test says so.

class Died(Exception):
    pass


class Unreachable(Exception):
    pass


class FakeCluster:
    """Calls are refs (ints) that finish in submission order unless a producer is slow; a dead producer's refs
    raise Died on fetch."""

    def __init__(self, slow=()):
        self.slow = set(slow)
        self.dead: set[str] = set()
        self.flaky: dict[str, int] = {}  # producer -> how many of its next fetches fail transiently
        self.calls: dict[int, str] = {}
        self.served: dict[str, int] = {}
        self.submitted: list[str] = []

    def submit(self, producer):
        ref = len(self.calls)
        self.calls[ref] = producer
        self.submitted.append(producer)
        return ref

    def wait(self, refs):
        ready = [r for r in refs if self.calls[r] not in self.slow]
        assert ready, "the fake would block forever"
        return ready[:1]

    def fetch(self, ref):
        producer = self.calls[ref]
        if producer in self.dead:
            raise Died(producer)
        if self.flaky.get(producer):
            self.flaky[producer] -= 1
            raise Unreachable(producer)
        self.served[producer] = self.served.get(producer, 0) + 1
        return f"{producer}#{self.served[producer]}"


def make_puller(cluster, producers, depth=2):
    return Puller(producers, cluster.submit, cluster.wait, cluster.fetch,
                  is_dead=lambda e: isinstance(e, Died), depth=depth,
                  is_transient=lambda e: isinstance(e, Unreachable))


def test_puller_keeps_depth_calls_in_flight_per_producer():
    cluster = FakeCluster()
    puller = make_puller(cluster, ["a", "b", "c"], depth=3)
    assert puller.in_flight() == 9
    for _ in range(20):
        puller.next()
        assert [puller.in_flight(i) for i in range(3)] == [3, 3, 3]
    # Never more than depth per producer were started beyond those consumed: backpressure.
    assert len(cluster.submitted) == 9 + 20


def test_puller_is_fair_between_producers_that_are_always_ready():
    cluster = FakeCluster()
    puller = make_puller(cluster, ["a", "b"], depth=2)
    got = [puller.next()[0] for _ in range(12)]
    assert got.count(0) == got.count(1) == 6


def test_slow_producer_does_not_block_the_others_and_stays_bounded():
    cluster = FakeCluster(slow={"slow"})
    puller = make_puller(cluster, ["fast", "slow"], depth=2)
    got = [puller.next() for _ in range(7)]
    assert {index for index, _ in got} == {0}
    assert puller.in_flight(1) == 2  # the slow producer's calls wait; no more are piled on


def test_dead_producer_is_dropped_and_pulling_goes_on():
    cluster = FakeCluster()
    puller = make_puller(cluster, ["a", "b"], depth=2)
    puller.next()
    cluster.dead.add("a")
    values = [puller.next() for _ in range(6)]
    assert all(index == 1 for index, _ in values)
    assert puller.alive == [1]
    assert 0 in puller.dropped and "Died" in puller.dropped[0]
    assert puller.in_flight(0) == 0


def test_transient_failure_is_retried_not_dropped():
    cluster = FakeCluster()
    puller = make_puller(cluster, ["a"], depth=1)
    cluster.flaky["a"] = 2
    assert puller.next() == (0, "a#1")
    assert puller.alive == [0]


def test_all_producers_dead_raises():
    cluster = FakeCluster()
    puller = make_puller(cluster, ["a", "b"], depth=1)
    cluster.dead.update({"a", "b"})
    with pytest.raises(NoProducersLeft):
        puller.next()


def test_other_errors_propagate():
    def fetch(ref):
        raise ZeroDivisionError("bug in the generator")

    puller = Puller(["a"], lambda p: object(), lambda refs: refs[:1], fetch, is_dead=lambda e: False)
    with pytest.raises(ZeroDivisionError):
        puller.next()


def test_puller_rejects_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        Puller(["a"], None, None, None, None, depth=0)
    with pytest.raises(ValueError, match="producer"):
        Puller([], None, None, None, None)


# --------------------------------------------------------------------------------------------------------------------
# Streams and placement

def test_streams_differ_across_restarts_and_launches_and_round_trip():
    seen = {stream_id(launch, restarts) for launch in range(4) for restarts in range(50)}
    assert len(seen) == 200
    assert split_stream(stream_id(3, 17)) == (3, 17)
    with pytest.raises(ValueError, match="restarts"):
        stream_id(0, RESTARTS_PER_LAUNCH)
    with pytest.raises(ValueError, match="launch"):
        stream_id(-1, 0)


def test_producer_options_use_custom_resource_only_when_cluster_has_it():
    laptop = producer_options({"CPU": 2.0})
    assert "resources" not in laptop and laptop["num_cpus"] == 1.0
    assert laptop["max_task_retries"] == -1 and laptop["max_restarts"] > 0
    cluster = producer_options({"CPU": 64.0, "producer": 60.0}, num_cpus=0.5)
    assert cluster["resources"] == {"producer": 1} and cluster["num_cpus"] == 0.5
    with pytest.raises(ValueError, match="max_restarts"):
        producer_options({}, max_restarts=RESTARTS_PER_LAUNCH)


def test_trainer_asks_for_gpu_only_when_cluster_has_one():
    assert "num_gpus" not in trainer_options({"CPU": 2.0})
    on_gpu = trainer_options({"CPU": 16.0, "GPU": 1.0, "trainer": 1.0})
    assert on_gpu["num_gpus"] == 1 and on_gpu["resources"] == {"trainer": 1}
    assert on_gpu["max_concurrency"] >= 2  # health() answers while run() trains


# --------------------------------------------------------------------------------------------------------------------
# Meter

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_meter_rates_wait_share_and_windows():
    clock = FakeClock()
    meter = Meter(clock)
    for i in range(4):
        meter.record(producer=i % 2, samples=8, waited_s=0.25, step_s=0.75)
    clock.now = 4.0
    record = meter.report()
    assert record["samples_per_s"] == pytest.approx(8.0)
    assert record["batches_per_s"] == pytest.approx(1.0)
    assert record["wait_share"] == pytest.approx(0.25)
    assert record["step_s"] == pytest.approx(0.75)
    assert record["producer_batches_per_s"] == {"0": 0.5, "1": 0.5}
    meter.record(producer=1, samples=8, waited_s=1.0, step_s=0.0)
    clock.now = 5.0
    second = meter.report()
    assert second["wait_share"] == pytest.approx(1.0) and second["producer_batches_per_s"] == {"1": 1.0}
    assert second["samples_total"] == 40
    assert meter.summary()["samples_per_s"] == pytest.approx(8.0)
    line = format_progress({**record, "step": 4, "loss": 1.5}, max_steps=10)
    assert line.startswith("step 4/10") and "wait 25%" in line and "p0 0.5" in line


# --------------------------------------------------------------------------------------------------------------------
# Run directory

def test_checkpoint_policy_and_listing(tmp_path):
    assert [s for s in range(1, 11) if checkpoint_due(s, 4, 10)] == [4, 8, 10]
    with pytest.raises(ValueError, match="interval"):
        checkpoint_due(1, 0, 10)
    assert newest_checkpoint(tmp_path / "missing") is None
    for step in (5, 40, 300):
        checkpoint_path(tmp_path, step).write_bytes(b"x")
    (tmp_path / ".ckpt-00000400.pt.abc.tmp").write_bytes(b"half")  # an interrupted save
    (tmp_path / "ckpt-00000500.pt.tmp").write_bytes(b"half")
    assert newest_checkpoint(tmp_path).name == "ckpt-00000300.pt"
    deleted = prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in deleted] == ["ckpt-00000005.pt"]
    assert [s for s, _ in list_checkpoints(tmp_path)] == [40, 300]


def test_metrics_trim_and_partial_line(tmp_path):
    for step in (10, 20, 30):
        append_metrics(tmp_path, {"step": step})
    with open(tmp_path / "metrics.jsonl", "a") as handle:
        handle.write('{"step": 4')  # a crash mid-write
    assert [r["step"] for r in read_metrics(tmp_path)] == [10, 20, 30]
    assert trim_metrics(tmp_path, 20) == 1
    assert [json.loads(l)["step"] for l in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [10, 20]


def test_launch_counter(tmp_path):
    assert [next_launch(tmp_path / "run") for _ in range(3)] == [0, 1, 2]
    assert msgpack.unpackb((tmp_path / "run" / "run.msgpack").read_bytes()) == {"launches": 3}


# --------------------------------------------------------------------------------------------------------------------
# Training loop with a fake learner

@dataclass
class Batch:
    num_rows: int
    value: float


class FakeLearner:
    """Its 'parameter' is the running sum of batch values: a resumed run must reach the same sum as an unbroken one."""

    def __init__(self, crash_at: int | None = None):
        self.step = 0
        self.total = 0.0
        self.crash_at = crash_at

    def train_step(self, batch):
        if self.step == self.crash_at:
            raise KeyboardInterrupt("trainer killed")
        self.step += 1
        self.total += batch.value
        return {"loss": 1.0 / self.step, "lr": 0.1, "grad_norm": 2.0}

    def save(self, path, data_position):
        path.write_bytes(msgpack.packb({"step": self.step, "total": self.total, "position": data_position}))

    def load(self, path):
        state = msgpack.unpackb(path.read_bytes(), strict_map_key=False)
        self.step, self.total = state["step"], state["total"]
        return state["position"]


def batches_from(position):
    """A deterministic data stream that continues from a data position (how many batches were consumed)."""
    n = position.get("samples", 0) // 4

    def pull():
        nonlocal n
        n += 1
        return n % 2, Batch(num_rows=4, value=float(n))

    return pull


def test_train_loop_checkpoints_reports_and_finishes(tmp_path):
    lines = []
    config = LoopConfig(max_steps=10, checkpoint_every=4, keep_checkpoints=2, report_every_s=1e9,
                        report_every_steps=5)
    learner = FakeLearner()
    summary = train_loop(learner, batches_from({}), tmp_path, config, {"launch": 0}, report=lines.append)
    assert summary["step"] == 10 and summary["start_step"] == 0
    assert [s for s, _ in list_checkpoints(tmp_path)] == [8, 10]
    assert [r["step"] for r in read_metrics(tmp_path)] == [5, 10]
    assert summary["data_position"] == {"launch": 0, "samples": 40, "batches": {"1": 5, "0": 5}}
    assert len(lines) == 2 and lines[-1].startswith("step 10/10")
    assert read_metrics(tmp_path)[0]["producer_batches_per_s"].keys() == {"0", "1"}


def test_killed_run_resumes_from_newest_checkpoint_and_matches_unbroken_run(tmp_path):
    config = LoopConfig(max_steps=12, checkpoint_every=3, report_every_s=1e9, report_every_steps=2)
    unbroken = FakeLearner()
    train_loop(unbroken, batches_from({}), tmp_path / "a", config, {"launch": 0}, report=lambda _: None)

    first = FakeLearner(crash_at=7)
    with pytest.raises(KeyboardInterrupt):
        train_loop(first, batches_from({}), tmp_path / "b", config, {"launch": 0}, report=lambda _: None)
    assert newest_checkpoint(tmp_path / "b").name == "ckpt-00000006.pt"
    assert read_metrics(tmp_path / "b")[-1]["step"] == 6

    second = FakeLearner()
    position = resume(second, tmp_path / "b")
    assert second.step == 6 and position["samples"] == 24
    summary = train_loop(second, batches_from(position), tmp_path / "b", config, position, report=lambda _: None)
    assert summary["start_step"] == 6 and summary["step"] == 12
    assert second.total == unbroken.total
    assert [r["step"] for r in read_metrics(tmp_path / "b")] == [2, 4, 6, 8, 10, 12]


def test_resume_trims_metrics_written_after_the_checkpoint(tmp_path):
    learner = FakeLearner()
    learner.step = 4
    learner.save(checkpoint_path(tmp_path, 4), {"samples": 16})
    for step in (2, 4, 6):
        append_metrics(tmp_path, {"step": step})
    fresh = FakeLearner()
    assert resume(fresh, tmp_path) == {"samples": 16} and fresh.step == 4
    assert [r["step"] for r in read_metrics(tmp_path)] == [2, 4]
    assert resume(FakeLearner(), tmp_path / "empty") is None


def test_resume_removes_the_temp_file_of_a_save_cut_off_by_a_kill(tmp_path):
    learner = FakeLearner()
    learner.step = 4
    learner.save(checkpoint_path(tmp_path, 4), {"samples": 16})
    (tmp_path / ".ckpt-00000008.pt.k3x9q1.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / "notes.tmp").write_text("not ours")
    fresh = FakeLearner()
    assert resume(fresh, tmp_path) == {"samples": 16} and fresh.step == 4
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == ["notes.tmp"]


def test_loop_config_rejects_bad_values():
    with pytest.raises(ValueError, match="max_steps"):
        LoopConfig(max_steps=0)
    with pytest.raises(ValueError, match="checkpoint_every"):
        LoopConfig(max_steps=1, checkpoint_every=0)


def test_loop_stops_on_time_with_a_checkpoint(tmp_path):
    clock = FakeClock()
    learner = FakeLearner()

    def pull():
        clock.now += 1.0  # each batch takes a second to arrive
        return 0, Batch(num_rows=2, value=1.0)

    config = LoopConfig(max_steps=1000, checkpoint_every=100, max_seconds=5.0, report_every_s=1e9)
    summary = train_loop(learner, pull, tmp_path, config, {"launch": 0}, report=lambda _: None, clock=clock)
    assert summary["step"] == 5 and summary["checkpoint"].endswith("ckpt-00000005.pt")
    assert read_metrics(tmp_path)[-1]["wait_share"] == pytest.approx(1.0)
