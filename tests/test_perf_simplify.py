"""``lawfinder bench simplify`` on a tiny corpus: the JSON figures, the length count in our vocabulary, and errors."""

from __future__ import annotations

import json

import pytest

from lawfinder.cli import main
from lawfinder.perf.simplify import canonical_length, read_corpus

CORPUS = [
    ["pow", "abs", "+", "x3", "x2", "2"],
    ["exp", "+", "x1", "sin", "sin", "sin", "cos", "<constant>"],
    ["*", "pow", "<constant>", "3", "x1"],
    ["-", "x1", "x1"],
    ["rootn", "*", "x1", "x1", "2"],
]


def test_length_is_counted_in_our_vocabulary():
    assert canonical_length(["pow", "x1", "2"]) == 2  # pow2 x1
    assert canonical_length(["rootn", "x1", "3"]) == 2  # pow1_3 x1
    assert canonical_length(["pow", "x1", "1"]) == 1
    assert canonical_length(["pow", "x1", "7"]) == 3  # no unary spelling
    assert canonical_length(["+", "x1", "x2"]) == 3


def test_bench_writes_its_figures(tmp_path, capsys):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(t) + "\n" for t in CORPUS))
    out = tmp_path / "bench.json"
    assert main(["bench", "simplify", "--corpus", str(corpus), "--out", str(out), "--sympy", "2"]) == 0
    report = json.loads(out.read_text())
    ours = report["lawfinder"]
    assert report["corpus"]["n"] == len(CORPUS)
    assert ours["different"] == 0 and ours["longer"] == 0 and ours["not_idempotent"] == 0
    assert ours["mean_len_ratio"] < 1
    assert ours["timing"]["median_us"] > 0
    assert report["sympy"]["n"] == 2 and report["sympy"]["speedup_at_median"] > 0   # measured, not asserted
    assert "median latency" in capsys.readouterr().out


def test_bad_corpus_lines_are_named(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('["x1"]\n{"not": "a list"}\n')
    with pytest.raises(ValueError, match="line 2"):
        read_corpus(corpus)
    assert main(["bench", "simplify", "--corpus", str(tmp_path / "missing.jsonl"), "--out",
                 str(tmp_path / "o.json")]) == 2


def test_a_missing_reference_venv_is_an_error(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('["x1"]\n')
    code = main(["bench", "simplify", "--corpus", str(corpus), "--out", str(tmp_path / "o.json"), "--no-check",
                 "--reference", str(tmp_path / "no-venv")])
    assert code == 2
