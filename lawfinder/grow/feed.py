"""Training batches for a growing run, without Ray (the GPU machine has none, and on a 2-core box Ray's own
processes would take CPU from the one core the run may use).

- ``producers=0``: the generator runs in the training process between steps. On this box one core generates
  ~3,000 samples/s and the trainer eats ~100, so this costs the run ~3 % of its time and needs no other process.
- ``producers=N``: N spawned processes each run a generator with its own seed and put ready arrays on a bounded
  queue (what a GPU needs: it trains faster than one core generates).

Each batch comes as the dense numpy arrays ``Trainer.step`` takes (``schema.batch_to_arrays``) and its sample count.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
from typing import Any

STREAM_SEED = 7919       # producer k of run r draws from seed (run_seed·STREAM_SEED + k)
# Batches are cut from a pool of this many, sorted by point count: a batch is padded to its largest sample, and with
# counts drawn uniformly from 32..256 a random batch of 64 pads to ~250 points for a mean of ~145, so ~40 % of the
# encoder's work was padding. Sorted pools of 8 pad ~10 %; each sample is still a draw from the prior.
POOL = 8


def _arrays(batch, max_variables: int) -> dict[str, Any]:
    from ..generate.schema import batch_to_arrays

    return batch_to_arrays(batch, max_variables=max_variables)


def pooled_batches(generator, batch_size: int, pool: int, rng) -> list:
    """``pool`` Arrow batches of ``batch_size`` samples whose point counts lie close together, in random order."""
    import pyarrow.compute as pc

    big = generator.sample_batch(batch_size * pool)
    order = pc.sort_indices(big.column("n_points")).to_numpy()
    parts = [big.take(order[i * batch_size:(i + 1) * batch_size]) for i in range(pool)]
    return [parts[i] for i in rng.permutation(pool)]


def _produce(config, seed: int, batch_size: int, max_variables: int, out, stop) -> None:
    import numpy as np

    from ..generate.generator import Generator

    generator, rng = Generator(config, seed=seed), np.random.default_rng(seed)
    while not stop.is_set():
        for batch in pooled_batches(generator, batch_size, POOL, rng):
            item = _arrays(batch, max_variables)
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.5)
                    break
                except queue_module.Full:
                    continue


class Feed:
    """``next()`` -> (arrays, samples). Close it (or use it as a context manager) to stop the producers."""

    def __init__(self, config, seed: int, batch_size: int, max_variables: int, producers: int = 0):
        if producers < 0:
            raise ValueError(f"producers must be >= 0, got {producers}")
        self.batch_size, self.max_variables = batch_size, max_variables
        self._processes: list = []
        if producers == 0:
            import numpy as np

            from ..generate.generator import Generator

            self._generator = Generator(config, seed=seed * STREAM_SEED)
            self._rng, self._ready = np.random.default_rng(seed), []
            return
        context = mp.get_context("spawn")
        self._queue = context.Queue(maxsize=4 * producers)
        self._stop = context.Event()
        for k in range(producers):
            process = context.Process(target=_produce, daemon=True, name=f"grow-producer-{k}",
                                      args=(config, seed * STREAM_SEED + k, batch_size, max_variables, self._queue,
                                            self._stop))
            process.start()
            self._processes.append(process)

    def next(self) -> tuple[dict[str, Any], int]:
        if not self._processes:
            if not self._ready:
                self._ready = pooled_batches(self._generator, self.batch_size, POOL, self._rng)
            arrays = _arrays(self._ready.pop(), self.max_variables)
        else:
            while True:
                try:
                    arrays = self._queue.get(timeout=5.0)
                    break
                except queue_module.Empty:
                    if not any(p.is_alive() for p in self._processes):
                        raise RuntimeError("every producer process has died") from None
        return arrays, int(arrays["token_ids"].shape[0])

    def close(self) -> None:
        if self._processes:
            self._stop.set()
            for process in self._processes:
                process.join(timeout=5.0)
                if process.is_alive():
                    process.terminate()
            self._processes = []

    def __enter__(self) -> "Feed":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
