"""The few Ray calls the pure logic is bound to: the puller's submit/wait/fetch, and an actor's restart count."""

from __future__ import annotations

import os

from .pull import Puller


def ray_puller(producers: list, depth: int) -> Puller:
    """A Puller over Producer actor handles: ``next_batch.remote()`` calls, consumed with ``ray.wait``."""
    import ray
    from ray.exceptions import ActorUnavailableError, RayActorError

    return Puller(
        producers,
        submit=lambda producer: producer.next_batch.remote(),
        # fetch_local: return only once the object is on this node, so the ray.get below does not block on the
        # network; the time spent is all counted as waiting.
        wait=lambda refs: ray.wait(refs, num_returns=1, fetch_local=True)[0],
        fetch=ray.get,
        is_dead=lambda error: isinstance(error, RayActorError),
        is_transient=lambda error: isinstance(error, ActorUnavailableError),
        depth=depth,
    )


def restart_count() -> int:
    """How many times Ray has restarted the calling actor (0 on its first start)."""
    import ray

    actor_id = ray.get_runtime_context().get_actor_id()
    try:
        # Ray's public ``was_current_actor_reconstructed`` reads this same GCS actor-table entry but only says
        # whether the actor restarted; the stream derivation needs how often.
        from ray._private.state import actors
    except ImportError:  # a Ray without the table helper: fall back to the public yes/no
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return int(bool(ray.get_runtime_context().was_current_actor_reconstructed))
    info = actors(actor_id=actor_id)
    return int(info["NumRestarts"]) if info else 0


def whereabouts() -> dict:
    """Process and node of the caller, for health reports."""
    import ray

    return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id(),
            "resources": {k: v for k, v in ray.get_runtime_context().get_assigned_resources().items()}}
