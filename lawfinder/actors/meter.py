"""Progress accounting for the training loop: samples/s, batches/s, the share of time spent waiting for data, and
each producer's rate, over the window since the last report and over the whole run.

The wait share is the trainer's view of whether producers keep up: near 0 means the trainer is the bottleneck, near
1 means it starves and needs more producer cores.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Callable


class Meter:
    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self.started = self._window_start = clock()
        self.total = _Tally()
        self.window = _Tally()

    def record(self, producer: int, samples: int, waited_s: float, step_s: float) -> None:
        """One consumed batch: who made it, its size, time spent getting it and time spent training on it."""
        for tally in (self.total, self.window):
            tally.add(producer, samples, waited_s, step_s)

    def report(self) -> dict:
        """Rates over the window since the previous report (then a new window starts), plus run totals."""
        now = self._clock()
        record = self.window.rates(now - self._window_start)
        record["samples_total"] = self.total.samples
        record["batches_total"] = self.total.batches
        record["elapsed_s"] = now - self.started
        self.window = _Tally()
        self._window_start = now
        return record

    def summary(self) -> dict:
        """Rates over the whole run."""
        record = self.total.rates(self._clock() - self.started)
        record["elapsed_s"] = self._clock() - self.started
        return record


class _Tally:
    def __init__(self):
        self.batches = 0
        self.samples = 0
        self.wait_s = 0.0
        self.step_s = 0.0
        self.per_producer: Counter[int] = Counter()

    def add(self, producer: int, samples: int, waited_s: float, step_s: float) -> None:
        self.batches += 1
        self.samples += samples
        self.wait_s += waited_s
        self.step_s += step_s
        self.per_producer[producer] += 1

    def rates(self, elapsed: float) -> dict:
        elapsed = max(elapsed, 1e-9)
        return {
            "samples_per_s": self.samples / elapsed,
            "batches_per_s": self.batches / elapsed,
            # Share of the loop's time spent waiting for a batch; the rest is training and bookkeeping.
            "wait_share": self.wait_s / elapsed,
            "step_s": self.step_s / self.batches if self.batches else None,
            "producer_batches_per_s": {str(p): n / elapsed for p, n in sorted(self.per_producer.items())},
        }


def format_progress(record: dict, max_steps: int | None = None) -> str:
    """One human line for a metrics record, e.g. ``step 40/100  loss 3.112  512 samples/s  wait 31%  p0 2.0 p1 1.9``."""
    step = f"step {record['step']}" + (f"/{max_steps}" if max_steps else "")
    parts = [step]
    if record.get("loss") is not None:
        parts.append(f"loss {record['loss']:.4f}")
    parts.append(f"{record['samples_per_s']:.0f} samples/s")
    parts.append(f"wait {100 * record['wait_share']:.0f}%")
    rates = " ".join(f"p{p} {r:.1f}" for p, r in record["producer_batches_per_s"].items())
    if rates:
        parts.append(f"batches/s {rates}")
    return "  ".join(parts)
