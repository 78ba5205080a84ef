"""``lawfinder fit`` and ``lawfinder bench fit`` through the CLI entry point: JSON output over the CSV's header names
and one-line errors for bad tables. The model is replaced by a fixed candidate list (no trained model ships yet)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfinder.cli import main
from lawfinder.simplipy import parse


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(0)
    m, theta = rng.uniform(0.5, 5, 100), rng.uniform(0, 1.5, 100)
    path = tmp_path / "incline.csv"
    np.savetxt(path, np.column_stack([m, theta, 9.81 * m * np.sin(theta)]), delimiter=",", header="m,theta,F",
               comments="", fmt="%.17g")
    return path


@pytest.fixture
def fixed_candidates(monkeypatch):
    from lawfinder.inference.regressor import Regressor

    def proposer(self, n_variables, seed, deadline):
        return lambda X, y: [parse(s) for s in ("C * x1 * sin(x2)", "C * x1", "x1 + x2", "log(x1 - C)")]

    monkeypatch.setattr(Regressor, "_model_proposer", proposer)


def test_fit_json_lists_best_first_with_header_names(csv, fixed_candidates, capsys, tmp_path):
    assert main(["fit", str(csv), "--target", "F", "--json", "--seed", "0", "--save", str(tmp_path / "r.mp")]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"expression", "sympy", "latex", "fvu", "complexity", "underdetermined"}] * len(rows)
    assert rows[0]["sympy"] == "9.81*m*sin(theta)"  # SymPy's evaluated form is canonical whatever the simplifier does
    assert {"m", "theta", "9.81"} <= set(rows[0]["expression"].replace("(", " ").replace(")", " ").split())
    assert rows[0]["fvu"] < 1e-20 and rows[0]["complexity"] == 6
    assert [r["fvu"] for r in rows] == sorted(r["fvu"] for r in rows)
    assert (tmp_path / "r.mp").stat().st_size > 0


def test_fit_table_output(csv, fixed_candidates, capsys):
    assert main(["fit", str(csv), "--target", "F", "--top", "2", "--seed", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("F = f(m, theta)") and len(out) == 4
    assert out[2].split()[:2] == [">>>>", "1"] and "9.81" in out[2] and "sin(theta)" in out[2]
    assert "seed 0" in out[0]


def test_fit_errors_are_one_line(csv, tmp_path, capsys):
    assert main(["fit", str(csv), "--target", "G"]) == 2
    assert "target column 'G' is not in" in capsys.readouterr().err
    text = csv.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], text[1], "1.0,nan,3.0", *text[3:]]))
    assert main(["fit", str(bad), "--target", "F"]) == 2
    assert "column 'theta' has NaN or inf in row(s) 2" in capsys.readouterr().err
    bad.write_text("\n".join([text[0], "heavy,1,2", *text[2:]]))
    assert main(["fit", str(bad), "--target", "F"]) == 2
    err = capsys.readouterr().err
    assert "column 'm'" in err and "not numeric" in err
    bad.write_text(text[0] + "\n" + text[1] + "\n")
    assert main(["fit", str(bad), "--target", "F"]) == 2
    assert "at least 2" in capsys.readouterr().err


def test_no_output_may_overwrite_an_input_or_another_output(csv, fixed_candidates, tmp_path, capsys):
    before = csv.read_bytes()
    assert main(["fit", str(csv), "--target", "F", "--save", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "--save" in err and "same file as the input DATA" in err and err.count("\n") == 1
    assert csv.read_bytes() == before
    same = tmp_path / "out.png"
    assert main(["fit", str(csv), "--target", "F", "--save", str(same), "--plot", str(tmp_path / "." / "out.png")]) == 2
    assert "same file as the output --save" in capsys.readouterr().err and not same.exists()


def test_an_underdetermined_fit_is_shown_but_not_a_law(tmp_path, monkeypatch, capsys):
    from lawfinder.inference.regressor import Regressor

    monkeypatch.setattr(Regressor, "_model_proposer",
                        lambda self, n, seed, deadline: lambda X, y: [parse("C * exp(C * x1 * x2)")])
    table = tmp_path / "two.csv"
    table.write_text("x1,x2,y\n1,2,3\n2,0.5,1\n")
    assert main(["fit", str(table), "--target", "y", "--seed", "0"]) == 1
    captured = capsys.readouterr()
    assert ">>>>" in captured.out and "exp(" in captured.out
    assert "underdetermined: " in captured.err and "2 fitted constant(s) for 2 row(s)" in captured.err


def test_search_without_result_exits_1_with_a_message(csv, monkeypatch, capsys):
    from lawfinder.inference.regressor import Regressor

    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: lambda X, y: [["x7"]])
    assert main(["fit", str(csv), "--target", "F"]) == 1
    assert "none of the 1 proposed sequence(s) is a valid formula" in capsys.readouterr().err


def test_a_best_fit_worse_than_the_mean_is_reported_as_no_law(tmp_path, monkeypatch, capsys):
    from lawfinder.inference.regressor import Regressor

    rng = np.random.default_rng(0)
    path = tmp_path / "noise.csv"
    np.savetxt(path, np.column_stack([rng.uniform(1, 2, 100), rng.standard_normal(100)]), delimiter=",",
               header="x,y", comments="", fmt="%.17g")
    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: lambda X, y: [["exp", "x1"]])
    assert main(["fit", str(path), "--target", "y"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no law found" in captured.err and "exp(x)" in captured.err


def test_units_option_ranks_consistent_laws_first_and_reports_them(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from lawfinder.inference.regressor import Regressor

    table = Path(__file__).resolve().parent.parent / "examples" / "ohm_units.csv"
    candidates = [parse(e) for e in ("abs(x2)", "x1 * x2", "x1 + x2")]
    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: lambda X, y: candidates)
    assert main(["fit", str(table), "--target", "V", "--seed", "0", "--units", "V=V,I=A,R=Ohm",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "units: V [V] = f(I [A], R [Ohm]): dimensionally consistent" in out
    assert out.splitlines()[3].split()[-3:] == ["I", "*", "R"]
    assert main(["fit", str(table), "--target", "V", "--units", "V=V,Q=A"]) == 2
    assert "column 'Q'" in capsys.readouterr().err


def test_unreadable_checkpoint_is_a_clear_error(csv, tmp_path, capsys):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"this is not a checkpoint")
    assert main(["fit", str(csv), "--target", "F", "--model", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.pt" in err and err.count("\n") == 1


def test_bench_fit_writes_json(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["bench", "fit", "--candidates", "12", "--points", "64", "--workers", "1", "--repeats", "1",
                 "--no-reference", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["candidates"] == 12 and report["timings"]["in-process"]["ms_per_candidate"] > 0
    assert "in-process" in capsys.readouterr().out


def test_messages_name_what_the_user_typed(tmp_path, capsys):
    from lawfinder.simplipy import parse as parse_infix

    with pytest.raises(ValueError, match=r"the number 1e999 at character 2 of '3\*1e999\*x1' is beyond float64"):
        parse_infix("3*1e999*x1")
    with pytest.raises(ValueError, match="the number 2e400 at character 1"):
        parse_infix("-2e400 + x1")
    table = tmp_path / "flat.csv"
    table.write_text("speed,load\n1,7\n2,7\n3,7\n")
    assert main(["fit", str(table), "--target", "load"]) == 2
    assert "the target 'load' is constant (7.0 in every row)" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("masse,längd\n1,2\n3,4\n".encode("latin-1"))
    assert main(["fit", str(latin), "--target", "masse"]) == 2
    err = capsys.readouterr().err
    assert str(latin) in err and "b'masse,l\\xe4ngd'" in err and "not UTF-8" in err


def test_several_targets_give_one_table_each(tmp_path, monkeypatch, capsys):
    from lawfinder.inference.regressor import Regressor

    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: lambda X, y: [
        parse(t) for t in ("C * x1 * x2", "x1 + x2", "C * x1")])
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 2, 40), rng.uniform(1, 2, 40)
    path = tmp_path / "two.csv"
    np.savetxt(path, np.column_stack([a, b, 3 * a * b, a + b]), delimiter=",", header="a,b,p,s", comments="",
               fmt="%.17g")
    assert main(["fit", str(path), "--target", "p,s", "--seed", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["p", "s"] and out["p"][0]["sympy"] == "3*a*b" and out["s"][0]["sympy"] == "a + b"
    saved = tmp_path / "fit.msgpack"
    assert main(["fit", str(path), "--target", "p,s", "--seed", "0", "--save", str(saved)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("p = f(a, b)") and "\ns = f(a, b)" in text
    assert Regressor.load(saved).target_names_ == ["p", "s"]
    assert main(["fit", str(path), "--target", "p,q"]) == 2
    assert "target column 'q' is not in" in capsys.readouterr().err


def test_weights_column_weights_the_fit_and_is_no_input(tmp_path, fixed_candidates, capsys):
    rng = np.random.default_rng(3)
    m, theta = rng.uniform(0.5, 5, 60), rng.uniform(0, 1.5, 60)
    F = 9.81 * m * np.sin(theta)
    F[:10] += 40.0                                                 # ten bad rows, given weight 0
    w = np.r_[np.zeros(10), np.ones(50)]
    path = tmp_path / "weighted.csv"
    np.savetxt(path, np.column_stack([m, theta, w, F]), delimiter=",", header="m,theta,w,F", comments="",
               fmt="%.17g")
    assert main(["fit", str(path), "--target", "F", "--weights", "w", "--seed", "0", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["sympy"] == "9.81*m*sin(theta)" and rows[0]["fvu"] < 1e-20 and "w" not in rows[0]["expression"]
    assert main(["fit", str(path), "--target", "F", "--seed", "0", "--json", "--exclude", "w"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["fvu"] > 1e-3   # unweighted, the bad rows spoil the fit
    assert main(["fit", str(path), "--target", "F", "--weights", "F"]) == 2
    assert "also a --target" in capsys.readouterr().err
