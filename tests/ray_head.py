"""A real ``ray start --head --block`` for the tests that need a separate cluster: its own ports, temp dir and auth
token, stopped by terminating the process that owns it (never ``ray stop``, which would stop every Ray on the
machine, the session Ray included)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

from .test_deploy_multinode import free_ports


@contextmanager
def running_head(log_path: Path, ready: Callable[[dict, dict], bool], dashboard: bool = False,
                 extra_args: tuple[str, ...] = ()) -> Iterator[tuple[dict, dict]]:
    """Yields ``(ports, env)`` once ``ready(ports, env)`` holds; ``ports`` has ``gcs`` (and ``dashboard``)."""
    temp_dir = tempfile.mkdtemp(prefix="lfhead-", dir="/tmp")  # Ray's socket paths must stay short
    names = ["gcs", "client", "agent", "agent_grpc", "metrics", "runtime_env", "node_manager", "object_manager"]
    ports = dict(zip(names + ["dashboard"] * dashboard, free_ports(len(names) + dashboard)))
    # A token of its own: the test neither depends on nor touches ~/.ray.
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    command = ["ray", "start", "--head", "--block", f"--port={ports['gcs']}",
               f"--ray-client-server-port={ports['client']}", f"--dashboard-agent-listen-port={ports['agent']}",
               f"--dashboard-agent-grpc-port={ports['agent_grpc']}", f"--metrics-export-port={ports['metrics']}",
               f"--runtime-env-agent-port={ports['runtime_env']}", f"--node-manager-port={ports['node_manager']}",
               f"--object-manager-port={ports['object_manager']}", "--num-cpus=2", f"--temp-dir={temp_dir}",
               "--disable-usage-stats", *extra_args]
    command += ([f"--dashboard-port={ports['dashboard']}", "--dashboard-host=127.0.0.1", "--include-dashboard=true"]
                if dashboard else ["--include-dashboard=false"])
    log = open(log_path, "w")
    head = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not ready(ports, env):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield ports, env
    finally:
        head.terminate()  # `ray start --block` stops the processes it started on SIGTERM
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
