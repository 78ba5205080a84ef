"""deploy/: a real head (``ray start --head --block``) on its own ports and temp dir, a tiny ``lawfinder train`` job
submitted with ``deploy/submit.sh`` (``ray job submit --working-dir .``) that must succeed and leave checkpoints, then
the head stopped by terminating the ``ray start`` process that owns it (never ``ray stop``, which would stop every Ray
on the machine, the session Ray included).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from lawfinder.actors.checkpoints import list_checkpoints, read_metrics

from .test_deploy_multinode import free_ports

pytestmark = pytest.mark.ray

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ray_head(tmp_path):
    # Ray's socket paths must stay short, so not under pytest's long tmp_path.
    temp_dir = tempfile.mkdtemp(prefix="lfhead-", dir="/tmp")
    (gcs, dashboard, client, agent, agent_grpc, metrics, runtime_env, node_manager,
     object_manager) = free_ports(9)
    # A token of its own: the test neither depends on nor touches ~/.ray.
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}
    command = ["ray", "start", "--head", "--block", f"--port={gcs}", f"--dashboard-port={dashboard}",
               "--dashboard-host=127.0.0.1", "--include-dashboard=true", f"--ray-client-server-port={client}",
               f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={agent_grpc}",
               f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={runtime_env}",
               f"--node-manager-port={node_manager}", f"--object-manager-port={object_manager}",
               "--num-cpus=2", '--resources={"producer": 1}', f"--temp-dir={temp_dir}", "--disable-usage-stats"]
    log = open(tmp_path / "head.log", "w")
    head = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{dashboard}"
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(["ray", "job", "list", "--address", address], env=env,
                             capture_output=True).returncode != 0:
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not come up:\n{(tmp_path / 'head.log').read_text()[-3000:]}")
            time.sleep(1)
        yield address, env
    finally:
        head.terminate()  # `ray start --block` stops the processes it started on SIGTERM
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_submitted_tiny_training_job_succeeds(ray_head, tmp_path):
    address, env = ray_head
    out = tmp_path / "run"
    command = [str(REPO / "deploy" / "submit.sh"), "--preset", "flash-tiny", "--producers", "1", "--batch-size", "8",
               "--max-steps", "3", "--checkpoint-every", "2", "--out", str(out),
               "--set-data", "simplify=false", "--set-data", "decontaminate=false", "--set-data", "max_points=32"]
    result = subprocess.run(command, env={**env, "RAY_ADDRESS": address}, capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "succeeded" in output and "trained 0 -> 3 steps" in output
    assert [step for step, _ in list_checkpoints(out)] == [2, 3]
    assert read_metrics(out)[-1]["step"] == 3
