"""What a user meets at the ``lawfinder`` command line (issues 19 and 20): results printed before anything that can
fail on disk, every exception as one line, and CSV tables that are not plain comma-separated numbers (repeated
names, ';' files, comment lines, ID columns, rows with NaN), each case with its expected line.

The model is replaced by a fixed candidate list so that each case costs milliseconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lawfinder.cli import main
from lawfinder.simplipy import parse

ROOT = Path(__file__).resolve().parents[1]
ROWS = [(1.5, 0.5, 2.0), (2.0, 0.25, 3.5), (3.0, 1.0, 1.25), (4.0, 0.75, 2.5), (0.5, 1.25, 3.0)]


def _incline_text(sep: str = ",", header: str | None = None) -> str:
    header = header or sep.join(["m", "theta", "F"])
    lines = [sep.join(repr(float(v)) for v in (m, t, 9.81 * m * np.sin(t))) for m, t, _ in ROWS]
    return "\n".join([header, *lines]) + "\n"


@pytest.fixture(autouse=True)
def fixed_candidates(monkeypatch):
    from lawfinder.inference.regressor import Regressor

    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: lambda X, y: [
        parse(s) for s in ("C * x1 * sin(x2)", "C * x1", "x1 + x2")])


def _table(tmp_path, text: str) -> str:
    path = tmp_path / "t.csv"
    path.write_text(text)
    return str(path)


def _with_id(text: str) -> str:
    lines = text.splitlines()
    return "\n".join([f"id,{lines[0]}", *(f"r{i},{line}" for i, line in enumerate(lines[1:]))]) + "\n"


def _nan_row(text: str) -> str:
    lines = text.splitlines()
    return "\n".join([lines[0], "1.0,,2.0", *lines[1:]]) + "\n"


# (case, table text, extra arguments, exit status, a piece of the one stderr line or None)
CSV_CASES = [
    ("repeated column name", "a,a,y\n1,2,3\n4,5,6\n", [], 2, "has the column name 'a' 2 times"),
    ("semicolon file", _incline_text(";"), [], 2, "it looks separated by ';'; pass --delimiter ';'"),
    ("semicolon file with --delimiter", _incline_text(";"), ["--delimiter", ";"], 0, None),
    ("tab file with --delimiter '\\t'", _incline_text("\t"), ["--delimiter", "\\t"], 0, None),
    ("comment line", "# incline data, SI units\n" + _incline_text(), [], 2, "pass --comment '#'"),
    ("comment line with --comment", "# incline data, SI units\n" + _incline_text(), ["--comment", "#"], 0, None),
    ("text ID column", _with_id(_incline_text()), [], 2, "column 'id' of"),
    ("text ID column with --exclude", _with_id(_incline_text()), ["--exclude", "id"], 0, None),
    ("text ID column with --features", _with_id(_incline_text()), ["--features", "m,theta"], 0, None),
    ("unknown --features column", _incline_text(), ["--features", "m,phi"], 2, "column 'phi' is not in"),
    ("NaN row", _nan_row(_incline_text()), [], 2, "column 'theta' has NaN or inf in row(s) 1"),
    ("NaN row with --drop-nan", _nan_row(_incline_text()), ["--drop-nan"], 0,
     "dropped 1 row(s) with NaN/inf: 1"),
]


@pytest.mark.parametrize("case, text, extra, status, line", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_cases(case, text, extra, status, line, tmp_path, capsys):
    assert main(["fit", _table(tmp_path, text), "--target", text.splitlines()[-1] and _target(text), "--seed", "0",
                 *extra]) == status
    out, err = capsys.readouterr()
    if line is not None:
        assert line in err and len(err.strip().splitlines()) == 1, err
    if status == 0:
        assert "sin(theta)" in out.splitlines()[2]


def _target(text: str) -> str:
    header = next(line for line in text.splitlines() if not line.startswith("#"))
    return "y" if header.startswith("a,a") else "F"


# Writing outputs fails after the search: the results must already be on stdout, the error one line.
@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_results_come_before_outputs_that_fail(option, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / ("out.msgpack" if option == "--save" else "fit.png")  # under a file: unwritable, even for root
    assert main(["fit", _table(tmp_path, _incline_text()), "--target", "F", "--seed", "0", option,
                 str(target)]) == 2
    out, err = capsys.readouterr()
    assert "sin(theta)" in out and len(err.strip().splitlines()) == 1 and "a-file" in err


class OddError(Exception):
    pass


# Whatever reaches the CLI boundary: (exception, exit status, the line printed)
EXCEPTIONS = [
    (ValueError("column 'x' is bad"), 2, "lawfinder: error: column 'x' is bad"),
    (ValueError("first line\nsecond line"), 2, "lawfinder: error: first line second line"),
    (FileNotFoundError(2, "No such file or directory", "gone.csv"), 2, "No such file or directory: 'gone.csv'"),
    (PermissionError(13, "Permission denied", "/root/x"), 2, "Permission denied: '/root/x'"),
    (KeyError("a"), 2, "lawfinder: error: KeyError: 'a'"),
    (ImportError("needs jax"), 2, "lawfinder: error: ImportError: needs jax"),
    (RuntimeError("the pool died"), 1, "lawfinder: error: RuntimeError: the pool died"),
    (ZeroDivisionError("division by zero"), 1, "lawfinder: error: ZeroDivisionError: division by zero"),
    (OddError(), 1, "lawfinder: error: OddError"),
    (RecursionError("maximum recursion depth exceeded"), 1, "RecursionError: maximum recursion depth exceeded"),
]


@pytest.mark.parametrize("error, status, line", EXCEPTIONS, ids=[type(e[0]).__name__ for e in EXCEPTIONS])
def test_every_exception_is_one_line(error, status, line, monkeypatch, capsys):
    import lawfinder.inference.cli as fit_cli

    def broken(args):
        raise error

    monkeypatch.setattr(fit_cli, "run_fit", broken)
    monkeypatch.delenv("LAWFINDER_TRACEBACK", raising=False)
    assert main(["fit", "x.csv", "--target", "y"]) == status
    err = capsys.readouterr().err
    assert line in err and len(err.strip().splitlines()) == 1


def test_traceback_on_request(monkeypatch):
    import lawfinder.inference.cli as fit_cli

    monkeypatch.setattr(fit_cli, "run_fit", lambda args: 1 / 0)
    monkeypatch.setenv("LAWFINDER_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["fit", "x.csv", "--target", "y"])


def test_version(capsys):
    from lawfinder import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"lawfinder {__version__}"


def test_seed_is_reported_when_drawn(tmp_path, capsys):
    table = _table(tmp_path, _incline_text())
    assert main(["fit", table, "--target", "F"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    seed = int(header.rsplit("seed ", 1)[1].rstrip(")"))
    assert main(["fit", table, "--target", "F", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) and "pass --seed" in err
    assert main(["fit", table, "--target", "F", "--json", "--quiet", "--seed", str(seed)]) == 0
    assert capsys.readouterr().err == ""


def test_plot_option_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fit.png"
    assert main(["fit", _table(tmp_path, _incline_text()), "--target", "F", "--seed", "0", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    # A format matplotlib cannot write, or no matplotlib at all, stops before the search, in one line.
    assert main(["fit", _table(tmp_path, _incline_text()), "--target", "F", "--plot", str(tmp_path / "f.msgpack")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "must end in one of" in err and ".png" in err and len(err.strip().splitlines()) == 1


def test_plot_without_matplotlib_is_one_line_before_the_search(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert main(["fit", _table(tmp_path, _incline_text()), "--target", "F", "--plot", str(tmp_path / "f.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "lawfinder: error: ImportError: plotting needs matplotlib: pip install " \
                                         "'lawfinder[plots]'"


@pytest.mark.ray
def test_train_json_prints_only_json_on_stdout(tmp_path):
    """A real (tiny) training run in its own process: the trainer's progress lines go to stderr, stdout is one
    JSON document."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-m", "lawfinder", "train", "--preset", "flash-tiny", "--producers", "1", "--batch-size",
         "8", "--max-steps", "2", "--report-every", "0", "--set-data", "max_points=32", "--set-data",
         "simplify=false", "--set-data", "decontaminate=false", "--out", str(tmp_path / "run"), "--json"],
        capture_output=True, text=True, timeout=240, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["step"] == 2
    assert "step 2/2" in done.stderr


def test_atomic_replacing_leaves_the_old_file_when_the_writer_fails(tmp_path):
    from lawfinder.atomic import plain_json, replacing

    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replacing(target, suffix=".png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    with replacing(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) == "0o644"
    assert plain_json({"a": [1.0, float("nan"), (float("inf"), 2)], "b": -float("inf")}) == \
        {"a": [1.0, None, [None, 2]], "b": None}
