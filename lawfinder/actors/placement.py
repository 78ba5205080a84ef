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
