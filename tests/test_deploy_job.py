"""deploy/: a real head (``ray start --head --block``) on its own ports and temp dir, a tiny ``lawfinder train`` job
submitted with ``deploy/submit.sh`` (``ray job submit --working-dir .``) that must succeed and leave checkpoints, then
the head stopped by terminating the ``ray start`` process that owns it (never ``ray stop``, which would stop every Ray
on the machine, the session Ray included).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lawfinder.actors.checkpoints import list_checkpoints, read_metrics

from .ray_head import running_head

pytestmark = pytest.mark.ray

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ray_head(tmp_path):
    def job_client_answers(ports, env):
        return subprocess.run(["ray", "job", "list", "--address", f"http://127.0.0.1:{ports['dashboard']}"], env=env,
                              capture_output=True).returncode == 0

    with running_head(tmp_path / "head.log", job_client_answers, dashboard=True,
                      extra_args=('--resources={"producer": 1}',)) as (ports, env):
        yield f"http://127.0.0.1:{ports['dashboard']}", env


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
