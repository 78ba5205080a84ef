"""The one entry for running a ``TrainJob``: one learner runs as the ``TrainerActor`` (``launch.run_job``), several
(or one with ``ddp``) as a Ray Train group (``data_parallel.run_data_parallel``). ``lawfinder train`` calls it."""

from __future__ import annotations

from .launch import TrainJob, run_job


def run(job: TrainJob) -> dict:
    if job.data_parallel:
        from .data_parallel import run_data_parallel

        return run_data_parallel(job)
    return run_job(job)
