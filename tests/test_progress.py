"""Progress bars: silent off a terminal or when asked, on stderr otherwise, and the training bar follows the step
of a metrics file another process appends to."""

from __future__ import annotations

import json

from lawfinder.progress import bar, following_steps, last_step, wanted


def test_quiet_off_a_terminal_and_when_asked(capsys):
    assert wanted() is False  # pytest captures stderr: not a terminal
    with bar(total=3, show=wanted()) as progress:
        progress.update(3)
    assert capsys.readouterr() == ("", "")


def test_a_shown_bar_draws_on_stderr_only(capsys):
    with bar(total=2, desc="fitting", show=True) as progress:
        progress.update(2)
    out, err = capsys.readouterr()
    assert out == "" and "fitting" in err and "0/2" in err


def test_last_step_reads_the_newest_complete_record(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert last_step(path) is None
    path.write_text(json.dumps({"step": 3}) + "\n" + json.dumps({"step": 7}) + "\n" + '{"step": 9, "lo')
    assert last_step(path) == 7


def test_following_steps_tracks_the_file(tmp_path, capsys):
    path = tmp_path / "metrics.jsonl"
    with following_steps(path, total=5, show=True):
        path.write_text(json.dumps({"step": 5}) + "\n")
    assert "5/5" in capsys.readouterr().err   # read at the end at the latest, with no poll to wait for
