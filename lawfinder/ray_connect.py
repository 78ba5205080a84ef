"""The one way lawfinder reaches Ray: ``connect()``, used by training, the constant-fitting pool and the benchmarks.

- ``RAY_ADDRESS`` set (a cluster, or the cluster running this as a submitted job): join it, never passing
  ``num_cpus``/``num_gpus`` (Ray refuses them when joining). The address is probed first, and the join itself runs
  under a deadline, so a dead cluster (or something else listening there) is a one-line ``RayConnectError`` naming
  the address within ``timeout`` seconds, not Ray's endless reconnect loop.
- Not set: start a private local Ray explicitly (``address="local"``), so a stale ``/tmp/ray/ray_current_cluster``
  left by a dead ``ray start --head`` is never joined.
- Ray already running in this process: use it as it is.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_S = 20.0                      # how long a dead address may take to be called dead
TIMEOUT_ENV = "LAWFINDER_RAY_TIMEOUT"  # seconds; overrides TIMEOUT_S
CURRENT_CLUSTER = Path("/tmp/ray/ray_current_cluster")  # where `ray start --head` records its address ("auto")


class RayConnectError(ValueError):
    """Ray could not be reached at the address named in the message (a ValueError: the CLI prints one line)."""


def init_arguments(address: str | None, num_cpus: float | None = None, num_gpus: float | None = None,
                   log_to_driver: bool = True) -> dict:
    """The keyword arguments for ``ray.init``: join ``address`` with nothing that sizes the cluster, or start a local
    Ray (``address="local"``, never the recorded one) with ``num_cpus``/``num_gpus`` when given."""
    if address and address != "local":
        # Warnings and errors only: Ray's "Connecting to existing Ray cluster" line would precede our own error.
        return {"address": address, "log_to_driver": log_to_driver, "logging_level": logging.WARNING}
    kwargs = {"address": "local", "include_dashboard": False, "log_to_driver": log_to_driver}
    if num_cpus is not None:
        kwargs["num_cpus"] = int(num_cpus)
    if num_gpus is not None:
        kwargs["num_gpus"] = int(num_gpus)
    return kwargs


def host_port(address: str, current_cluster: Path = CURRENT_CLUSTER) -> tuple[str, int]:
    """(host, port) to probe for ``address`` ("host:port", "ray://host:port", "http://host:port" or "auto")."""
    if address == "auto":
        if not current_cluster.is_file():
            raise RayConnectError(f"RAY_ADDRESS=auto, but no running Ray cluster is recorded in {current_cluster}")
        address = current_cluster.read_text().strip()
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise RayConnectError(f"Ray address {address!r} is not host:port (set RAY_ADDRESS like 10.0.0.1:6379)")
    return parts.hostname, port


def probe(address: str, timeout: float) -> None:
    """RayConnectError unless something accepts a TCP connection at ``address`` within ``timeout`` seconds."""
    host, port = host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise RayConnectError(f"cannot reach the Ray cluster at {address!r} ({reason}, waited up to "
                              f"{timeout:g} s); start it, fix RAY_ADDRESS, or unset RAY_ADDRESS to run on this "
                              f"machine") from None


def timeout_s() -> float:
    text = os.environ.get(TIMEOUT_ENV)
    try:
        return float(text) if text else TIMEOUT_S
    except ValueError:
        raise RayConnectError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None


def connect(num_cpus: float | None = None, num_gpus: float | None = None, log_to_driver: bool = True,
            address: str | None = None, timeout: float | None = None) -> dict:
    """Join ``address`` (default ``RAY_ADDRESS``) or start a local Ray sized by ``num_cpus``/``num_gpus`` (Ray's
    own count when None); returns the cluster's resources. ``RayConnectError`` when the cluster cannot be reached."""
    import ray

    if not ray.is_initialized():
        address = address if address is not None else (os.environ.get("RAY_ADDRESS") or None)
        kwargs = init_arguments(address, num_cpus, num_gpus, log_to_driver)
        if kwargs["address"] == "local":
            ray.init(**kwargs)
        else:
            limit = timeout if timeout is not None else timeout_s()
            probe(kwargs["address"], limit)
            _join(ray, kwargs, limit)
    return ray.cluster_resources()


def _no_sigterm_notice(record: logging.LogRecord) -> bool:
    # Joining from a helper thread leaves Ray's SIGTERM handler unset; Python's default (terminate) is what we want.
    return "SIGTERM handler is not set" not in record.getMessage()


def _join(ray, kwargs: dict, timeout: float) -> None:
    """``ray.init`` joining a cluster, given up after ``timeout`` s: Ray retries a silent address forever. The
    abandoned attempt lives on in a daemon thread, which does not keep the process from exiting."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            ray.init(**kwargs)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread below
            outcome.append(error)

    worker = threading.Thread(target=attempt, name="lawfinder-ray-connect", daemon=True)
    ray_worker_log = logging.getLogger("ray._private.worker")
    ray_worker_log.addFilter(_no_sigterm_notice)
    try:
        worker.start()
        worker.join(timeout)
    finally:
        ray_worker_log.removeFilter(_no_sigterm_notice)
    address = kwargs["address"]
    if not outcome:
        raise RayConnectError(f"no Ray cluster answered at {address!r} within {timeout:g} s (something listens "
                              f"there: not a Ray head, or one that refuses this client's RAY_AUTH_TOKEN); fix "
                              f"RAY_ADDRESS or raise {TIMEOUT_ENV}")
    if outcome[0] is not None:
        lines = str(outcome[0]).strip().splitlines() or [type(outcome[0]).__name__]
        raise RayConnectError(f"cannot join the Ray cluster at {address!r}: {lines[-1]}") from None
