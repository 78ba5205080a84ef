"""Double buffering for the trainer: a thread pulls the next batch and prepares it (Arrow -> tensors -> device copy)
while the current step runs, so the step never waits on conversion or a host-to-device copy.

``Prefetcher(pull, prepare)`` keeps at most ``depth`` prepared batches ready (1 = double buffering: one in the step,
one waiting). It knows nothing of Ray or torch; an error in ``pull`` or ``prepare`` is raised by the next ``next()``.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

_DONE = object()


class Prefetcher:
    def __init__(self, pull: Callable[[], tuple[int, Any]], prepare: Callable[[Any], Any], depth: int = 1):
        if depth < 1:
            raise ValueError(f"prefetch depth must be >= 1, got {depth}")
        self._pull, self._prepare = pull, prepare
        self._ready: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="lawfinder-prefetch", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                producer, batch = self._pull()
                self._put((producer, self._prepare(batch)))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put(error)
            return
        self._put(_DONE)

    def _put(self, item) -> None:
        """Hand ``item`` to the consumer, waiting while the buffer is full; gives up once stopped."""
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> tuple[int, Any]:
        """(producer index, prepared batch) of the next batch; blocks while none is ready."""
        item = self._ready.get()
        if isinstance(item, BaseException):
            self.close()
            raise item
        if item is _DONE:
            raise RuntimeError("the prefetch thread has stopped")
        return item

    def close(self) -> None:
        """Stop pulling (a pull in progress finishes; its batch is dropped). Idempotent."""
        self._stop.set()
        self._thread.join(timeout=5.0)
