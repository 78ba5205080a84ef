"""A two-node cluster (``ray.cluster_utils.Cluster``): a producer node advertising ``producer`` and a trainer node
advertising ``trainer``. The producers must land on the first, the trainer on the second, and a tiny run must
finish. The cluster runs in a subprocess (this file run as a script) so that it never meets the session Ray.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray

REPO = Path(__file__).resolve().parents[1]
TINY_DATA = (("simplify", False), ("decontaminate", False), ("max_points", 32), ("max_operators", 5))


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_producers_and_trainer_are_placed_by_their_resources(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    result = subprocess.run([sys.executable, __file__, str(tmp_path / "run")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    producers, trainer = report["producers"], report["trainer"]
    assert len(producers) == 2
    assert {p["node_id"] for p in producers} == {report["producer_node"]}
    assert all(p["resources"].get("producer") == 1 for p in producers)
    assert trainer["node_id"] == report["trainer_node"] != report["producer_node"]
    assert trainer["resources"].get("trainer") == 1
    assert report["step"] == 4 and report["dropped_producers"] == {}
    assert sum(report["data_position"]["batches"].values()) == 4


def main(out_dir: str) -> None:
    import ray
    from ray.cluster_utils import Cluster

    from lawfinder.actors.launch import TrainJob, finish, start, stop
    from lawfinder.actors.learners import LearnerSpec
    from lawfinder.actors.loop import LoopConfig
    from lawfinder.actors.sources import SourceSpec

    gcs, agent, metrics, metrics_agent, runtime_env = free_ports(5)
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False, "gcs_server_port": gcs, "dashboard_agent_listen_port": agent,
        "metrics_export_port": metrics, "metrics_agent_port": metrics_agent, "runtime_env_agent_port": runtime_env})
    try:
        producer_node = cluster.add_node(num_cpus=2, resources={"producer": 2})
        trainer_node = cluster.add_node(num_cpus=1, resources={"trainer": 1})
        ray.init(address=cluster.address, log_to_driver=False)
        job = TrainJob(out_dir=out_dir, loop=LoopConfig(max_steps=4, checkpoint_every=2, report_every_s=1e9),
                       source=SourceSpec(batch_size=8, overrides=TINY_DATA), learner=LearnerSpec(preset="flash-tiny"),
                       producers=2)
        launched = start(job)
        try:
            summary = finish(launched, job)
        finally:
            stop(launched)
        print(json.dumps({"producer_node": producer_node.node_id, "trainer_node": trainer_node.node_id,
                          "producers": summary["producers"], "trainer": summary["trainer"], "step": summary["step"],
                          "dropped_producers": summary["dropped_producers"],
                          "data_position": summary["data_position"]}))
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
