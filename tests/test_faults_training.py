"""Faults around training and Ray (issue 19, items 2 and 3), one table row per case with its expected one-line
error or behaviour: damaged checkpoints (verified on load, resume falls back past them and says so), an --out that
cannot be written (refused before any actor starts), and Ray addresses that are dead, silent or malformed (a one-line
error naming the address within the timeout, never a retry loop); without RAY_ADDRESS a local Ray is started
explicitly, and joining a cluster never passes num_cpus. The cluster cases start a real ``ray start --head`` on
ports of their own (run them under the exclusive lock).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from lawfinder.actors.checkpoints import check_writable, checkpoint_path, list_checkpoints, load_newest_valid
from lawfinder.actors.learners import LearnerSpec, ModelLearner
from lawfinder.actors.loop import resume
from lawfinder.model.checkpoint import DamagedCheckpoint, load_model, save_model, verify
from lawfinder.model.presets import get_preset
from lawfinder.model.build import build_model
from lawfinder.ray_connect import RayConnectError, host_port, init_arguments, probe
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[1]
TINY_DATA = ["--set-data", "simplify=false", "--set-data", "decontaminate=false", "--set-data", "max_points=32",
             "--set-data", "max_operators=5"]


def _run_dir(tmp_path: Path, steps=(2, 4)) -> Path:
    """A run directory with flash-tiny checkpoints at ``steps``, written as a training run writes them."""
    out = tmp_path / "run"
    learner = ModelLearner(LearnerSpec(preset="flash-tiny", train_overrides=(("max_steps", 8),)))
    for step in steps:
        learner.trainer.step_count = step
        learner.save(checkpoint_path(out, step), {"batches": {}, "samples": 8 * step, "launch": 0})
    return out


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _legacy(path: Path) -> None:
    """Rewrite as a pre-header file (a plain torch.save zip, as the shipped weights were), then truncate it."""
    data = path.read_bytes()
    path.write_bytes(data[data.index(b"PK\x03\x04"):])
    _truncate(path)


# case -> (how the newest checkpoint is damaged, expected phrase in the warning)
DAMAGE = {
    "truncated (truncate -s to half)": (_truncate, "bytes (truncated)"),
    "one byte altered": (_flip_byte, "SHA-256 does not match"),
    "old zip format, truncated": (_legacy, "is damaged"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_resume_falls_back_past_a_damaged_newest_checkpoint(case, tmp_path, capsys):
    damage, phrase = DAMAGE[case]
    out = _run_dir(tmp_path)
    damage(checkpoint_path(out, 4))
    with pytest.raises(DamagedCheckpoint, match=re.escape(phrase)):
        verify(checkpoint_path(out, 4))
    learner = ModelLearner(LearnerSpec(preset="flash-tiny", train_overrides=(("max_steps", 8),)))
    position = resume(learner, out)
    assert learner.step == 2 and position["samples"] == 16
    warning = capsys.readouterr().err.strip()
    assert len(warning.splitlines()) == 1 and "skipped damaged checkpoint ckpt-00000004.pt (step 4)" in warning
    assert phrase in warning and "kept it as ckpt-00000004.pt.damaged" in warning
    assert [step for step, _ in list_checkpoints(out)] == [2] and (out / "ckpt-00000004.pt.damaged").exists()


def test_every_checkpoint_damaged_means_a_fresh_start_with_one_warning_each(tmp_path, capsys):
    out = _run_dir(tmp_path)
    for step in (2, 4):
        _truncate(checkpoint_path(out, step))
    learner = ModelLearner(LearnerSpec(preset="flash-tiny"))
    assert resume(learner, out) is None and learner.step == 0
    assert capsys.readouterr().err.count("skipped damaged checkpoint") == 2


def test_a_foreign_newest_file_is_not_thrown_away_as_damage(tmp_path):
    out = _run_dir(tmp_path)
    checkpoint_path(out, 6).write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable lawfinder checkpoint"):
        load_newest_valid(out, ModelLearner(LearnerSpec(preset="flash-tiny")).load)
    assert checkpoint_path(out, 6).exists()


def test_bf16_shards_round_trip_and_a_missing_or_altered_shard_is_named(tmp_path):
    model = build_model(get_preset("flash-tiny"))
    path = tmp_path / "weights.pt"
    files = save_model(path, model, dtype=torch.bfloat16, max_file_bytes=300 * 1024)
    assert len(files) > 2 and all(f.stat().st_size <= 300 * 1024 for f in files)
    loaded, _ = load_model(path)
    for name, tensor in model.state_dict().items():
        assert loaded.state_dict()[name].dtype == tensor.dtype
        assert torch.allclose(loaded.state_dict()[name], tensor.to(torch.bfloat16).float())
    _flip_byte(files[1])
    with pytest.raises(DamagedCheckpoint, match="shard-0"):
        load_model(path)
    files[1].unlink()
    with pytest.raises(ValueError, match="missing beside it"):
        load_model(path)
    save_model(path, model)  # unsharded again: stale shards go
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.pt"]


# case -> (the --out given, relative to tmp_path, and the expected one-line error)
UNWRITABLE = {
    "a file where the folder should be": ("afile/run", "is not a writable folder (Not a directory)"),
    "inside /proc": ("/proc/lawfinder-run", "is not a writable folder"),
}


@pytest.mark.parametrize("case", UNWRITABLE)
def test_out_folder_is_checked_before_anything_starts(case, tmp_path):
    given, expected = UNWRITABLE[case]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match=r"^--out '.*' " + re.escape(expected)):
        check_writable(tmp_path / given)
    assert check_writable(tmp_path / "new" / "run").is_dir()


def test_without_ray_address_a_local_ray_is_started_explicitly_and_joining_never_sizes_the_cluster():
    assert init_arguments(None, num_cpus=3)["address"] == "local"  # never "auto": a stale cluster file is ignored
    assert init_arguments("local", num_cpus=3)["num_cpus"] == 3
    joined = init_arguments("10.0.0.1:6379", num_cpus=3, num_gpus=1)
    assert joined["address"] == "10.0.0.1:6379" and "num_cpus" not in joined and "num_gpus" not in joined
    assert host_port("ray://head:10001") == ("head", 10001) and host_port("http://h:8265") == ("h", 8265)
    with pytest.raises(RayConnectError, match="no running Ray cluster is recorded"):
        host_port("auto", current_cluster=Path("/nonexistent/ray_current_cluster"))


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_listener():
    """A port that accepts connections and never answers (a firewall, another service): Ray would wait forever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    threading.Thread(target=lambda: [accepted.append(server.accept()) for _ in range(16)], daemon=True).start()
    yield server.getsockname()[1]
    server.close()


# case -> (RAY_ADDRESS, expected one-line error)
ADDRESSES = {
    "dead cluster": (lambda port: f"127.0.0.1:{_dead_port()}", "cannot reach the Ray cluster at '127.0.0.1:"),
    "something silent listens there": (lambda port: f"127.0.0.1:{port}", "no Ray cluster answered at '127.0.0.1:"),
    "not an address": (lambda port: "nonsense", "Ray address 'nonsense' is not host:port"),
}


@pytest.mark.parametrize("case", ADDRESSES)
def test_a_bad_ray_address_is_one_line_within_the_timeout(case, silent_listener, tmp_path):
    address, expected = ADDRESSES[case]
    env = {**os.environ, "RAY_ADDRESS": address(silent_listener), "LAWFINDER_RAY_TIMEOUT": "3",
           "RAY_USAGE_STATS_ENABLED": "0"}
    # A hang would run into the subprocess timeout (TimeoutExpired fails the test); no assertion on the seconds.
    result = subprocess.run([sys.executable, "-m", "lawfinder", "train", "--preset", "flash-tiny", "--max-steps", "1",
                             "--out", str(tmp_path / "run")], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lawfinder: error: ") and expected in lines[0], result.stderr


def test_probe_names_a_dead_address():
    port = _dead_port()
    with pytest.raises(RayConnectError, match=f"127.0.0.1:{port}.*unset RAY_ADDRESS"):
        probe(f"127.0.0.1:{port}", 2)


@pytest.fixture
def gcs_head(tmp_path):
    """A real ``ray start --head`` on ports of its own (no dashboard)."""
    from tests.ray_head import running_head

    log = tmp_path / "head.log"
    with running_head(log, lambda ports, env: "Ray runtime started" in log.read_text()) as (ports, env):
        yield f"127.0.0.1:{ports['gcs']}", env


@pytest.mark.ray
def test_fit_with_n_jobs_joins_a_running_head(gcs_head):
    """The case that failed with "num_cpus and num_gpus must not be provided": fit --n-jobs 2 with RAY_ADDRESS set."""
    address, env = gcs_head
    result = subprocess.run([sys.executable, "-m", "lawfinder", "fit", "examples/ohm.csv", "--target", "V",
                             "--n-samples", "256", "--n-jobs", "2", "--seed", "0", "--top", "1"], cwd=REPO,
                            env={**env, "RAY_ADDRESS": address}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    chosen = next(line for line in result.stdout.splitlines() if line.lstrip().startswith(">>>>"))
    assert chosen.split()[-3:] in (["I", "*", "R"], ["R", "*", "I"]), result.stdout   # the law, not a part of one
    port = address.rsplit(":", 1)[1]                        # Ray reports the head by its node IP
    assert re.search(rf"constants fitted on Ray \([^)]*:{port}\)", result.stderr), result.stderr[-3000:]


@pytest.mark.ray
def test_a_stale_cluster_file_is_not_joined_without_ray_address(tmp_path):
    """A dead ``ray start --head`` leaves ray_current_cluster behind; plain ``ray.init`` would join that address.
    The file lives in a temp dir of this test's own (Ray reads it under $TMPDIR), never the machine's /tmp/ray."""
    import shutil
    import tempfile

    temp = Path(tempfile.mkdtemp(prefix="lfstale-", dir="/tmp"))  # Ray's socket paths stay short
    try:
        (temp / "ray").mkdir()
        (temp / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{_dead_port()}\n")
        env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "TMPDIR": str(temp),
               "RAY_USAGE_STATS_ENABLED": "0"}
        result = subprocess.run([sys.executable, "-m", "lawfinder", "train", "--preset", "flash-tiny", "--producers",
                                 "1", "--batch-size", "8", "--max-steps", "2", "--out", str(tmp_path / "run"),
                                 *TINY_DATA], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "trained 0 -> 2 steps" in result.stdout
    finally:
        shutil.rmtree(temp, ignore_errors=True)


# case -> (--init-from given, expected one-line error); both refused before Ray starts
INIT_FROM = {
    "another architecture": ("3-variable", "its architecture differs from this model's (max_variables=3 vs 17)"),
    "no such file": ("/nonexistent/weights.pt", "does not exist or is not a file"),
}


@pytest.mark.parametrize("case", INIT_FROM)
def test_init_from_is_refused_in_one_line_before_anything_starts(case, tmp_path, capsys):
    from lawfinder.cli import main

    given, expected = INIT_FROM[case]
    tiny3 = tmp_path / "tiny3.pt"
    save_model(tiny3, build_model(get_preset("flash-tiny", max_variables=3)))
    path = str(tiny3) if given == "3-variable" else given
    code = main(["train", "--preset", "flash-tiny", "--max-steps", "1", "--out", str(tmp_path / "run"),
                 "--init-from", path])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err


def test_init_from_copies_the_weights_and_a_checkpoint_in_out_still_wins(tmp_path):
    source = build_model(get_preset("flash-tiny"))
    weights = tmp_path / "w.pt"
    save_model(weights, source)
    learner = ModelLearner(LearnerSpec(preset="flash-tiny", init_from=str(weights)))
    assert all(torch.equal(learner.trainer.model.state_dict()[k], v) for k, v in source.state_dict().items())
    out = _run_dir(tmp_path)  # a run already under way: its checkpoint, not the weights, decides
    resume(learner, out)
    assert learner.step == 4


@pytest.mark.ray
def test_on_a_cluster_the_trainer_checks_out_on_its_node_and_the_driver_says_why_in_one_line(ray_session):
    """Joining a cluster, --out may live on the trainer's node only, so the driver cannot check it; the trainer
    checks as it starts, and its refusal reaches the driver as one line, not Ray's page of traceback."""
    from lawfinder.actors.launch import TrainJob, start
    from lawfinder.actors.loop import LoopConfig

    job = TrainJob(out_dir="/proc/lawfinder-run", loop=LoopConfig(max_steps=1), producers=1)
    with pytest.raises(ValueError) as caught:
        start(job)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert message.startswith("the trainer actor could not start: ") and "is not a writable folder" in message
