"""The trainer's pull path: a bounded number of in-flight ``next_batch`` calls per producer, consumed as they finish.

Bounding the calls in flight is the backpressure: at most ``depth`` batches per producer exist at any moment (being
made or waiting in the object store), however slow the consumer is. A producer whose calls fail with a "dead" error
is dropped and pulling goes on with the rest; any other error (a bug in the generator) is raised. The Ray calls are
injected (``submit``, ``wait``, ``fetch``) so that this logic is tested with plain fakes.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Hashable, Sequence


class NoProducersLeft(RuntimeError):
    """Every producer has died; nothing more can be pulled."""


class Puller:
    """Round-robin-fair pulling over ``producers`` (a sequence of handles, indexed by position).

    submit(handle) -> ref          starts one ``next_batch`` call
    wait(refs) -> ready refs       blocks until at least one ref is ready (e.g. ``ray.wait(num_returns=1)``)
    fetch(ref) -> value            the finished value (e.g. ``ray.get``); may raise
    is_dead(error) -> bool         whether an error from fetch means the producer is gone for good
    is_transient(error) -> bool    whether the call should just be made again (producer briefly unreachable)
    """

    def __init__(self, producers: Sequence[Any], submit: Callable[[Any], Hashable],
                 wait: Callable[[list], list], fetch: Callable[[Hashable], Any],
                 is_dead: Callable[[BaseException], bool], depth: int = 2,
                 is_transient: Callable[[BaseException], bool] = lambda error: False,
                 clock: Callable[[], float] = time.perf_counter):
        if depth < 1:
            raise ValueError(f"depth (in-flight calls per producer) must be >= 1, got {depth}")
        if not producers:
            raise ValueError("at least one producer is needed")
        self._producers = dict(enumerate(producers))
        self._submit, self._wait, self._fetch = submit, wait, fetch
        self._is_dead, self._is_transient = is_dead, is_transient
        self.depth = depth
        self._clock = clock
        # Insertion order = submission order, and re-submissions go to the back: a producer that is always ready
        # first cannot starve the others.
        self._in_flight: dict[Hashable, int] = {}
        self.dropped: dict[int, str] = {}
        self.waited_s = 0.0
        for index in self._producers:
            for _ in range(depth):
                self._start(index)

    @property
    def alive(self) -> list[int]:
        return sorted(self._producers)

    def in_flight(self, index: int | None = None) -> int:
        if index is None:
            return len(self._in_flight)
        return sum(1 for i in self._in_flight.values() if i == index)

    def next(self) -> tuple[int, Any]:
        """(producer index, value) of the next finished call; its slot is refilled at once."""
        start = self._clock()
        try:
            while True:
                if not self._in_flight:
                    raise NoProducersLeft(f"all producers died: {self.dropped}")
                ref = self._wait(list(self._in_flight))[0]
                index = self._in_flight.pop(ref)
                try:
                    value = self._fetch(ref)
                except Exception as error:  # noqa: BLE001 - classified just below
                    if self._is_transient(error):
                        self._start(index)
                    elif self._is_dead(error):
                        self.drop(index, f"{type(error).__name__}: {error}")
                    else:
                        raise
                    continue
                # Refill before handing the value over, so the producer works while the caller trains.
                self._start(index)
                return index, value
        finally:
            self.waited_s += self._clock() - start

    def drop(self, index: int, reason: str = "dropped") -> None:
        """Forget a producer and its calls in flight."""
        if self._producers.pop(index, None) is None:
            return
        self.dropped[index] = reason
        self._in_flight = {ref: i for ref, i in self._in_flight.items() if i != index}

    def _start(self, index: int) -> None:
        self._in_flight[self._submit(self._producers[index])] = index
