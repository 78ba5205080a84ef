"""Driver side of a training job: connect to Ray, place the Trainer and the Producers by the cluster's resources,
run, and collect health reports. Used by ``lawfinder train``, ``lawfinder bench pipeline`` and the tests.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field

from .checkpoints import check_writable
from .learners import LearnerSpec
from .loop import LoopConfig
from .placement import PRODUCER_RESOURCE, producer_options, producer_shares, trainer_options
from .sources import SourceSpec


@dataclass
class TrainJob:
    out_dir: str
    loop: LoopConfig
    source: SourceSpec = field(default_factory=SourceSpec)
    learner: LearnerSpec = field(default_factory=LearnerSpec)
    producers: int = 2
    learners: int = 1               # data-parallel learners (Ray Train); 1 = the single TrainerActor
    ddp: bool = False               # one learner through the Ray Train / DDP path all the same (the GPU check)
    seed: int = 0
    depth: int = 2                  # next_batch calls in flight per producer (the backpressure bound)
    producer_cpus: float = 1.0
    trainer_cpus: float = 1.0
    producer_max_restarts: int = 16
    trainer_max_restarts: int = 4

    @property
    def data_parallel(self) -> bool:
        """Whether the job runs as a Ray Train group of learners (``data_parallel.py``) rather than one trainer."""
        return self.learners > 1 or self.ddp

    def record(self) -> dict:
        """The whole run as one plain record: loop, data source, the learner's resolved model and training configs,
        producers and resources. ``lawfinder train`` prints it and saves it beside the checkpoints (``job.json``)."""
        from dataclasses import asdict

        return asdict(self)

    def __post_init__(self):
        if self.producers < 1:
            raise ValueError(f"--producers must be >= 1, got {self.producers}")
        producer_shares(self.producers, self.learners)   # a learner of its own needs a producer of its own
        if self.depth < 1:
            raise ValueError(f"--depth must be >= 1, got {self.depth}")
        # Resolved in the driver: an actor's working directory is not the caller's.
        self.out_dir = os.path.abspath(self.out_dir)


def connect(cpus: float = 1.0, log_to_driver: bool = True) -> dict:
    """Join ``RAY_ADDRESS`` when set (a cluster, or the cluster running this as a submitted job), else start a local
    Ray with at least ``cpus`` logical CPUs (``lawfinder.ray_connect``). Returns the cluster's resources."""
    from ..ray_connect import connect as ray_connect

    # Logical CPUs may exceed the cores: the trainer spends part of its time waiting for data.
    return ray_connect(num_cpus=max(os.cpu_count() or 1, math.ceil(cpus)), log_to_driver=log_to_driver)


def joins_cluster() -> bool:
    """Whether ``connect`` joins a cluster (whose trainer may run on another node) rather than this machine's Ray."""
    return bool(os.environ.get("RAY_ADDRESS")) and os.environ["RAY_ADDRESS"] != "local"


def cpus_needed(job: TrainJob) -> float:
    return job.producers * job.producer_cpus + job.learners * job.trainer_cpus


@dataclass
class Launched:
    trainer: object
    producers: list
    launch: int


def start(job: TrainJob) -> Launched:
    """Create the Trainer (it resumes on its own), count this launch, then create the Producers on fresh streams."""
    import ray

    from .trainer import TrainerActor

    resources = ray.cluster_resources()
    for warning in capacity_warnings(job, resources):
        print(f"lawfinder: warning: {warning}", file=sys.stderr)
    trainer = ray.remote(TrainerActor).options(
        **trainer_options(resources, job.trainer_cpus, job.trainer_max_restarts)).remote(
        job.learner, job.out_dir, job.loop)
    try:
        launch = ray.get(trainer.open_launch.remote())
    except ray.exceptions.RayActorError as error:
        # The trainer could not start (e.g. --out not writable on its node): its own one-line reason, not Ray's page.
        raise ValueError(f"the trainer actor could not start: {last_error_line(error)}") from None
    return Launched(trainer, start_producers(job, resources, launch), launch)


def start_producers(job: TrainJob, resources: dict, launch: int) -> list:
    """The job's Producer actors, on fresh streams for this launch (the single trainer's and the learners')."""
    import ray

    from .producer import Producer

    producer_class = ray.remote(Producer).options(
        **producer_options(resources, job.producer_cpus, job.producer_max_restarts))
    return [producer_class.remote(job.source, job.seed, index, launch) for index in range(job.producers)]


def finish(launched: Launched, job: TrainJob) -> dict:
    """Run the training loop to the end; returns the trainer's summary with every live producer's health."""
    import ray

    summary = ray.get(launched.trainer.run.remote(launched.producers, launched.launch, job.depth))
    summary["producers"] = [health(p) for p in launched.producers]
    summary["trainer"] = health(launched.trainer)
    summary["launch"] = launched.launch
    return summary


def capacity_warnings(job: TrainJob, resources: dict) -> list[str]:
    """Why some actors would wait for resources that the cluster does not have (now; an autoscaler may add them)."""
    warnings = []
    if resources.get("CPU", 0) < cpus_needed(job):
        trainers = "the trainer" if job.learners == 1 else f"{job.learners} learners"
        warnings.append(f"the cluster has {resources.get('CPU', 0):g} CPUs; {trainers} and {job.producers} "
                        f"producers ask for {cpus_needed(job):g}, so some wait until CPUs free up or appear")
    slots = resources.get(PRODUCER_RESOURCE)
    if slots is not None and slots < job.producers:
        warnings.append(f"the cluster advertises {slots:g} '{PRODUCER_RESOURCE}' slots for {job.producers} producers")
    return warnings


def last_error_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    found = [line for line in lines if "Error:" in line and not line.startswith("ray.")]
    return (found or lines or [type(error).__name__])[-1]


def run_job(job: TrainJob) -> dict:
    # Here the driver shares the trainer's disk; on a cluster the trainer checks on its own node as it starts.
    if not joins_cluster():
        check_writable(job.out_dir)
    if job.data_parallel:
        raise ValueError("run_job runs one trainer actor; a job with learners goes to actors.jobs.run")
    connect(cpus_needed(job))
    launched = start(job)
    try:
        return finish(launched, job)
    finally:
        stop(launched)


def stop(launched: Launched) -> None:
    import ray

    for actor in [launched.trainer, *launched.producers]:
        ray.kill(actor, no_restart=True)


def health(actor, timeout: float = 30.0) -> dict:
    """An actor's health report, or why there is none (it died for good)."""
    import ray

    try:
        return ray.get(actor.health.remote(), timeout=timeout)
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as error:
        return {"dead": f"{type(error).__name__}"}
