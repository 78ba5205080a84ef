"""One run per run directory (issue 31 item 3): a second run on a folder in use stops at once naming the holder, and
a killed run leaves nothing stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lawfinder.cli import main
from lawfinder.run_lock import FolderInUse, hold

REPO = Path(__file__).resolve().parents[1]


def test_a_second_holder_is_refused_with_the_first_ones_name(tmp_path):
    with hold(tmp_path / "run"):
        with pytest.raises(FolderInUse, match=rf"--out '.*run' is in use by run pid {os.getpid()} on "):
            with hold(tmp_path / "run"):
                pass
    with hold(tmp_path / "run"):    # released when the first run ended
        pass


def test_a_killed_holder_leaves_the_folder_free(tmp_path):
    code = (f"import time; from lawfinder.run_lock import hold\nwith hold({str(tmp_path)!r}):\n"
            f"    print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout.readline().strip() == "held"      # an event: the child says it holds the lock
        with pytest.raises(FolderInUse, match=f"pid {child.pid}"):
            with hold(tmp_path):
                pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with hold(tmp_path):                                       # nothing stuck
        pass


def test_train_and_grow_refuse_a_folder_in_use_before_any_work(tmp_path, capsys):
    out = tmp_path / "run"
    with hold(out):
        assert main(["train", "--preset", "flash-tiny", "--max-steps", "2", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "is in use by run pid" in err and err.count("\n") == 1
        assert not (out / "metrics.jsonl").exists()
    with hold(tmp_path / "growing"):
        assert main(["grow", "--state", str(tmp_path / "growing"), "--minutes", "1"]) == 2
        assert "--state" in capsys.readouterr().err
