"""Distributed training on Ray: Producer actors generate Arrow batches, a TrainerActor pulls them through the object
store and trains.

The Ray files (``producer.py``, ``trainer.py``, ``launch.py``, ``ray_bindings.py``, and ``data_parallel.py``: N
learners as a Ray Train group; ``jobs.py`` picks the path) are thin shells; the logic they
run is pure and tested without Ray: ``pull.py`` (bounded in-flight pulling, dropping dead producers), ``loop.py``
(the training loop), ``meter.py`` (progress accounting), ``checkpoints.py`` (checkpoint policy, resume, metrics
lines), ``stream_ids.py`` (random streams that never repeat across restarts), ``placement.py`` (resources per actor),
``sources.py`` (what a producer serves) and ``learners.py`` (what a trainer trains). ``cli.py`` is ``lawfinder
train``; ``sizing.py`` sizes producers per trainer for ``lawfinder bench pipeline`` (``lawfinder/perf/pipeline.py``);
``shipping.py`` plans and exports a GPU lease of the shipped model. Nothing here imports Ray or torch at module
import time.
"""
