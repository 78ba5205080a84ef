"""The promotion gate: its rule on made-up records (equal never promotes, one lucky problem is not enough, fewer
R² > 0.99 blocks), the atomic bf16 replacement, the rows it appends to the model card, and the command end to end on
two problems with tiny models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from lawfinder.cli import main
from lawfinder.evaluation.promote import GATE_MARK, LEASE_MARK, Side, Verdict, decide, paired_bootstrap, \
    replace_shipped
from lawfinder.model.build import build_model
from lawfinder.model.checkpoint import load_model, read_metadata, save_model
from lawfinder.model.presets import get_preset
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[1]


def side(label: str, recovered: list[bool], accurate: list[bool] | None = None) -> Side:
    accurate = recovered if accurate is None else accurate
    return Side(label, Path(label), [{"equation": f"E{i}", "excluded": False, "recovered_val": r, "accurate_val": a}
                                     for i, (r, a) in enumerate(zip(recovered, accurate))])


@pytest.mark.parametrize("new, old, promote, reason", [
    ([1, 1, 0, 0] + [0] * 19, [1, 1, 0, 0] + [0] * 19, False, "not more"),
    ([1, 1, 1, 0] + [0] * 19, [1, 1, 0, 0] + [0] * 19, False, "below 0.9"),
    ([1, 1, 1, 1, 1, 0] + [0] * 17, [1, 1, 0, 0, 0, 0] + [0] * 17, True, "+3 problems recovered"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 0] + [0] * 13, [1, 1, 0, 1, 1, 0, 1, 0, 0, 1] + [0] * 13, False, "below 0.9"),
])
def test_the_rule(new, old, promote, reason):
    verdict = decide(side("new", list(map(bool, new))), side("old", list(map(bool, old))))
    assert verdict.promote == promote and reason in verdict.reason


def test_fewer_accurate_fits_block_promotion():
    new = side("new", [True] * 6 + [False] * 17, [True] * 6 + [False] * 17)
    old = side("old", [False] * 23, [True] * 8 + [False] * 15)
    verdict = decide(new, old)
    assert not verdict.promote and "R² > 0.99 on fewer" in verdict.reason


def test_paired_bootstrap_of_identical_results_is_zero():
    assert paired_bootstrap([1, 0, 1], [1, 0, 1]) == (0.0, 0.0, 0.0, 0.0)


def test_replacement_is_bf16_atomic_and_keeps_the_history(tmp_path):
    new, target = tmp_path / "new.pt", tmp_path / "default.pt"
    torch.manual_seed(1)
    model = build_model(get_preset("flash-tiny"))
    save_model(new, model, history=[{"samples": 7}])
    save_model(target, build_model(get_preset("flash-tiny", max_variables=3)))
    replace_shipped(new, target, Verdict(True, "test", 1.0, 0.0, 2.0, 1.0), "2026-11-30")
    loaded, config = load_model(target)
    assert config == get_preset("flash-tiny")
    assert all(torch.equal(loaded.state_dict()[k], v.to(torch.bfloat16).float())
               for k, v in model.state_dict().items() if v.is_floating_point())
    extra = read_metadata(target)["extra"]
    assert extra["history"] == [{"samples": 7}] and extra["promoted"]["from"] == "new.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.pt", "new.pt"]


def test_the_command_measures_both_in_turn_and_appends_its_rows(tmp_path, capsys):
    card = tmp_path / "card.md"
    shutil.copy(REPO / "docs" / "model-card.md", card)
    new, old = tmp_path / "new.pt", tmp_path / "old.pt"
    torch.manual_seed(2)
    save_model(new, build_model(get_preset("flash-tiny")), dtype=torch.bfloat16,
               history=[{"date": "d", "device": "cpu", "preset": "flash-tiny", "samples": 10, "flops": 5.0,
                         "gpu_minutes": 0.5, "final_loss": 3.0, "continued": False}])
    shutil.copy(new, old)
    before = old.read_bytes()
    code = main(["bench", "promote", str(new), "--against", str(old), "--equations", "2", "--budget", "4",
                 "--card", str(card), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "KEPT the shipped model" in out and "recovered           0/2" in out
    assert old.read_bytes() == before
    text = card.read_text()
    gate_row = text[:text.index(GATE_MARK)].rstrip().splitlines()[-1]
    lease_row = text[:text.index(LEASE_MARK)].rstrip().splitlines()[-1]
    assert "| 10 | 2 eq × 4 samples |" in gate_row and "kept shipped" in gate_row
    assert lease_row.startswith("| d | cpu | flash-tiny | fresh | 10 / 10 |") and lease_row.endswith("| no |")
