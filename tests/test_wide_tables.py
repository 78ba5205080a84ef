"""``lawfinder fit`` on tables of 4 to 17 input columns when the model reads 17 variables (issue 17 item 3), with a
tiny 17-variable model made in the test (a few seconds of overfitting so that it proposes ``x1 + x4``); a table wider
than the model reads is searched on the columns a random forest ranks first (with a one-line note), and asking for
more columns than the model reads is refused in one line naming the limit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lawfinder.cli import main
from lawfinder.model.checkpoint import save_model
from lawfinder.model.presets import get_preset
from lawfinder.model.tokenizer import get_tokenizer
from lawfinder.model.train import TrainConfig, Trainer
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture


@pytest.fixture(scope="module")
def model17(tmp_path_factory):
    """flash-tiny (17 variables, random start) taught one formula that needs the fourth column: + x1 x4."""
    config = get_preset("flash-tiny")
    assert config.max_variables == 17
    tokenizer = get_tokenizer(config.tokenizer)
    ids = torch.tensor(tokenizer.encode(["+", "x1", "x4"]))
    g = torch.Generator().manual_seed(0)
    b, n, v = 8, 32, config.max_variables
    X = torch.randn(b, n, v, generator=g)
    batch = {"X": X, "y": X[:, :, 0] + X[:, :, 3], "point_mask": torch.ones(b, n, dtype=torch.bool),
             "variable_mask": torch.ones(b, v, dtype=torch.bool), "token_ids": ids.repeat(b, 1)}
    trainer = Trainer.create(config, TrainConfig(lr=3e-3, max_steps=80, warmup=0.05, stable=0.8))
    for _ in range(80):
        trainer.step(batch)
    path = tmp_path_factory.mktemp("model17") / "tiny17.pt"
    save_model(path, trainer.model, dtype=torch.bfloat16)
    return path


def _table(path, columns: int, rows: int = 64):
    rng = np.random.default_rng(columns)
    X = rng.uniform(1.0, 3.0, (rows, columns))
    y = X[:, 0] + X[:, 3]
    names = [f"c{i}" for i in range(columns)]
    lines = [",".join([*names, "y"])] + [",".join(f"{v:.17g}" for v in (*row, t)) for row, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("columns", [4, 9, 17])
def test_fit_reads_every_column_a_17_variable_model_takes(columns, model17, tmp_path, capsys):
    table = _table(tmp_path / f"wide{columns}.csv", columns)
    code = main(["fit", str(table), "--target", "y", "--model", str(model17), "--n-samples", "16", "--seed", "0",
                 "--top", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "c0 + c3" in out or "c3 + c0" in out, out


def _tiny3(tmp_path):
    from lawfinder.model.build import build_model

    path = tmp_path / "tiny3.pt"  # like the CPU-trained model shipped before the GPU recipe
    save_model(path, build_model(get_preset("flash-tiny", max_variables=3)))
    return path


def test_a_table_wider_than_the_model_is_searched_on_the_columns_it_reads(tmp_path, capsys):
    # y = c0 + c3 on 5 columns, a 3-variable model: the search reads the 3 columns a random forest ranks first (c0
    # and c3 among them), the note says so in one line, and the affine baseline finds the law over the full table.
    table = _table(tmp_path / "wide5.csv", 5)
    code = main(["fit", str(table), "--target", "y", "--model", str(_tiny3(tmp_path)), "--n-samples", "4",
                 "--seed", "0", "--top", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    notes = [line for line in captured.err.splitlines() if "reads at most 3" in line]
    assert len(notes) == 1 and "c0" in notes[0] and "c3" in notes[0], captured.err
    import json

    best = json.loads(captured.out)[0]
    assert best["fvu"] < 1e-20 and {"c0", "c3"} <= set(best["expression"].replace("*", " ").split())


@pytest.mark.parametrize("model, columns, limit", [("tiny17", 18, 17), ("3-variable", 4, 3)])
def test_asking_for_more_columns_than_the_model_reads_is_refused_in_one_line(model, columns, limit, model17,
                                                                             tmp_path, capsys):
    path = model17 if model == "tiny17" else _tiny3(tmp_path)
    table = _table(tmp_path / "too_wide.csv", columns)
    code = main(["fit", str(table), "--target", "y", "--model", str(path), "--n-samples", "4", "--seed", "0",
                 "--select-k-features", str(columns)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"select_k_features={columns} but the model reads at most {limit} columns" in err
