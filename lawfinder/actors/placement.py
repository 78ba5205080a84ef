"""Where the actors run, decided from the cluster's resources: producers go to nodes that advertise the custom
resource ``producer`` (the CPU worker group in deploy/), the trainer to a GPU when the cluster has one and to a node
advertising ``trainer`` when one does. On a laptop none of these exist and both fall back to plain CPUs.
"""

from __future__ import annotations

from .stream_ids import RESTARTS_PER_LAUNCH

PRODUCER_RESOURCE = "producer"
TRAINER_RESOURCE = "trainer"


def producer_options(cluster_resources: dict, num_cpus: float = 1.0, max_restarts: int = 16) -> dict:
    """``ray.remote`` options for one Producer actor."""
    if num_cpus <= 0:
        raise ValueError(f"producer num_cpus must be > 0, got {num_cpus}")
    if not 0 <= max_restarts < RESTARTS_PER_LAUNCH:
        raise ValueError(f"producer max_restarts must be in [0, {RESTARTS_PER_LAUNCH}), got {max_restarts}")
    options = {"num_cpus": num_cpus, "max_restarts": max_restarts,
               # Calls in flight when a producer crashes are made again on the restarted actor, so the trainer
               # only sees a delay; after max_restarts they fail and the trainer drops that producer.
               "max_task_retries": -1}
    if cluster_resources.get(PRODUCER_RESOURCE, 0) > 0:
        options["resources"] = {PRODUCER_RESOURCE: 1}
    return options


def trainer_options(cluster_resources: dict, num_cpus: float = 1.0, max_restarts: int = 4) -> dict:
    """``ray.remote`` options for the TrainerActor."""
    if num_cpus <= 0:
        raise ValueError(f"trainer num_cpus must be > 0, got {num_cpus}")
    options = {"num_cpus": num_cpus, "max_restarts": max_restarts,
               # A crashed trainer is restarted, resumes from its newest checkpoint, and its run() call is made again.
               "max_task_retries": -1,
               # One thread runs the training loop, the other answers health() while it does.
               "max_concurrency": 2}
    if cluster_resources.get("GPU", 0) >= 1:
        options["num_gpus"] = 1
    if cluster_resources.get(TRAINER_RESOURCE, 0) > 0:
        options["resources"] = {TRAINER_RESOURCE: 1}
    return options


def learner_scaling(cluster_resources: dict, learners: int, num_cpus: float = 1.0) -> dict:
    """Ray Train's ``ScalingConfig`` fields for ``learners`` data-parallel learners: one GPU each when the cluster
    has a GPU for every learner (NCCL), else CPUs (gloo); on the ``trainer`` nodes when the cluster has them."""
    if learners < 1:
        raise ValueError(f"learners must be >= 1, got {learners}")
    if num_cpus <= 0:
        raise ValueError(f"learner num_cpus must be > 0, got {num_cpus}")
    use_gpu = cluster_resources.get("GPU", 0) >= learners
    resources = {"CPU": num_cpus, **({"GPU": 1} if use_gpu else {})}
    if cluster_resources.get(TRAINER_RESOURCE, 0) >= learners:
        resources[TRAINER_RESOURCE] = 1
    return {"num_workers": learners, "use_gpu": use_gpu, "resources_per_worker": resources}


def producer_shares(n_producers: int, learners: int) -> list[list[int]]:
    """Which producers feed which learner: learner r pulls from producers r, r + N, r + 2N, ..."""
    if learners < 1:
        raise ValueError(f"--learners must be >= 1, got {learners}")
    if n_producers < learners:
        raise ValueError(f"--producers {n_producers} cannot feed --learners {learners}: each learner needs a producer "
                         f"of its own (give at least {learners})")
    return [list(range(rank, n_producers, learners)) for rank in range(learners)]
