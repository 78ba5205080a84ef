"""The promotion gate: its rule on made-up records (equal never promotes, one lucky problem is not enough, fewer
R² > 0.99 blocks), the atomic bf16 replacement, the rows it appends to the model card, and the command end to end on
two problems with tiny models."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

from lawfinder.cli import main
from lawfinder.evaluation.promote import GATE_MARK, LEASE_MARK, Side, Verdict, decide, decide_wide, \
    paired_bootstrap, replace_shipped
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
    # The same model on both sides (the affine and power-law baselines may recover a problem for either): equal.
    recovered = re.search(r"^recovered\s+(\d)/2\s+(\d)/2$", out, re.M)
    assert code == 0 and "KEPT the shipped model" in out and recovered and recovered[1] == recovered[2]
    assert old.read_bytes() == before
    text = card.read_text()
    gate_row = text[:text.index(GATE_MARK)].rstrip().splitlines()[-1]
    lease_row = text[:text.index(LEASE_MARK)].rstrip().splitlines()[-1]
    assert "| 10 | 2 eq × 4 samples |" in gate_row and "kept shipped" in gate_row
    assert lease_row.startswith("| d | cpu | flash-tiny | fresh | 10 / 10 |") and lease_row.endswith("| no |")


def wide_and_narrow(label: str, narrow: list[int], wide: list[int]) -> Side:
    records = [{"equation": f"N{i}", "excluded": False, "recovered_val": bool(r), "accurate_val": bool(r),
                "variables": 2} for i, r in enumerate(narrow)]
    records += [{"equation": f"W{i}", "excluded": False, "recovered_val": bool(r), "accurate_val": bool(r),
                 "variables": 6} for i, r in enumerate(wide)]
    return Side(label, Path(label), records)


def test_a_wide_model_cannot_buy_its_promotion_with_narrow_losses():
    # +14 wide problems (better overall with P ~ 1), but 4 of the shipped model's narrow recoveries lost: rejected.
    new = wide_and_narrow("new", [1] * 6 + [0] * 4 + [0] * 66, [1] * 14 + [0] * 25)
    old = wide_and_narrow("old", [1] * 10 + [0] * 66, [0] * 39)
    verdict = decide(new, old)
    assert not verdict.promote and "equations of <= 3 variables" in verdict.reason
    assert verdict.p_better >= 0.9 and verdict.p_narrow_worse > 0.9 and verdict.narrow_delta == pytest.approx(-100 * 4 / 76)


def test_a_model_that_wins_only_on_wide_tables_is_judged_again_as_the_wide_model():
    # The candidate of the test above: rejected as the one model, promoted as the pair's wide model, where the shipped
    # pair keeps its own narrow results.
    new = wide_and_narrow("new", [1] * 6 + [0] * 4 + [0] * 66, [1] * 14 + [0] * 25)
    old = wide_and_narrow("old", [1] * 10 + [0] * 66, [0] * 39)
    assert not decide(new, old).promote
    verdict = decide_wide(new, old, narrow_limit=3)
    assert verdict.promote and "+14 problems recovered" in verdict.reason and verdict.narrow_delta == 0
    # Against a shipped wide model that already recovers as many of the wide ones: nothing to gain.
    old_pair = wide_and_narrow("old", [1] * 10 + [0] * 66, [1] * 14 + [0] * 25)
    assert not decide_wide(new, old_pair, narrow_limit=3).promote


def test_narrow_losses_within_noise_do_not_block_a_clear_gain():
    # The same +8 wide, and on the narrow ones two lost and two others gained: promoted.
    new = wide_and_narrow("new", [0, 0, 1, 1] + [1] * 8 + [0] * 64, [1] * 8 + [0] * 31)
    old = wide_and_narrow("old", [1, 1, 0, 0] + [1] * 8 + [0] * 64, [0] * 39)
    verdict = decide(new, old)
    assert verdict.promote and "narrow equations +0" in verdict.reason and verdict.p_narrow_worse < 0.9


def test_paired_bootstrap_of_a_clear_difference():
    mean, low, high, p = paired_bootstrap([1, 1, 1, 0, 1, 1], [0, 0, 0, 0, 1, 1])
    assert mean == pytest.approx(0.5) and 0 < low < mean < high <= 1 and 0.95 < p < 1.0


def test_the_timed_gate_runs_a_model_narrower_than_the_tables(tmp_path, capsys):
    narrow, wide = tmp_path / "narrow.pt", tmp_path / "wide.pt"
    torch.manual_seed(3)
    save_model(narrow, build_model(get_preset("flash-tiny", max_variables=1)), dtype=torch.bfloat16)
    save_model(wide, build_model(get_preset("flash-tiny")), dtype=torch.bfloat16)
    code = main(["bench", "promote", str(wide), "--against", str(narrow), "--equations", "3", "--seconds", "1",
                 "--no-card"])
    captured = capsys.readouterr()
    assert code == 0 and "3 FastSRB problems (3 eq × 1 s" in captured.out
    # A 1-variable model reads the column a random forest ranks first of each wider table: scored, not an error.
    assert "[shipped] 1/3" in captured.err and "error" not in captured.err
    assert "<= 3 variables" in captured.out and "KEPT the shipped model" in captured.out


def test_the_command_promotes_a_winner_atomically_and_says_so(tmp_path, capsys, monkeypatch):
    from lawfinder.evaluation import promote

    card = tmp_path / "card.md"
    shutil.copy(REPO / "docs" / "model-card.md", card)
    new, old = tmp_path / "new.pt", tmp_path / "old.pt"
    torch.manual_seed(4)
    save_model(new, build_model(get_preset("flash-tiny")), history=[{"date": "d", "device": "cpu", "preset": "p",
                                                                      "samples": 10, "flops": 1.0}])
    save_model(old, build_model(get_preset("flash-tiny", max_variables=3)))

    def measured(new_side, old_side, *args, **kwargs):   # the measurement stood in for: the candidate wins clearly
        new_side.records[:] = wide_and_narrow("n", [1] * 10 + [0] * 66, [1] * 14 + [0] * 25).records
        old_side.records[:] = wide_and_narrow("o", [1] * 10 + [0] * 66, [0] * 39).records
        for side in (new_side, old_side):
            for record in side.records:
                hit = record["recovered_val"]
                record.update(seconds=0.1, dataset=0, success=True, recovered_fit=hit, fvu_val=0.0 if hit else 1.0,
                              fvu_fit=0.0 if hit else 1.0, symbolic=False, length_ratio=1.0, truth_length=3)

    monkeypatch.setattr(promote, "measure", measured)
    assert main(["bench", "promote", str(new), "--against", str(old), "--card", str(card), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "PROMOTED: wrote" in out and "narrow equations +0" in out
    assert load_model(old)[1] == get_preset("flash-tiny")           # the shipped file now holds the candidate
    assert read_metadata(old)["extra"]["promoted"]["from"] == "new.pt"
    text = card.read_text()
    assert "**promoted**" in text[:text.index(GATE_MARK)].rstrip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.md", "new.pt", "old.pt"]   # no temporary left


def _stand_in(narrow_new, wide_new, narrow_old, wide_old):
    def measured(new_side, old_side, *args, **kwargs):
        new_side.records[:] = wide_and_narrow("n", narrow_new, wide_new).records
        old_side.records[:] = wide_and_narrow("o", narrow_old, wide_old).records
        for side in (new_side, old_side):
            for record in side.records:
                hit = record["recovered_val"]
                record.update(seconds=0.1, dataset=0, success=True, recovered_fit=hit, fvu_val=0.0 if hit else 1.0,
                              fvu_fit=0.0 if hit else 1.0, symbolic=False, length_ratio=1.0, truth_length=3)
    return measured


def test_the_gate_installs_a_wide_model_then_retires_it_when_one_model_wins_everywhere(tmp_path, capsys, monkeypatch):
    from lawfinder.evaluation import promote

    card = tmp_path / "card.md"
    shutil.copy(REPO / "docs" / "model-card.md", card)
    new, old, wide = tmp_path / "new.pt", tmp_path / "old.pt", tmp_path / "wide.pt"
    torch.manual_seed(5)
    save_model(new, build_model(get_preset("flash-tiny")))
    save_model(old, build_model(get_preset("flash-tiny", max_variables=3)))
    before = old.read_bytes()
    # Better on the wide tables, worse on the narrow ones: not the one model, but the pair's wide one.
    monkeypatch.setattr(promote, "measure", _stand_in([1] * 6 + [0] * 70, [1] * 14 + [0] * 25, [1] * 10 + [0] * 66,
                                                      [0] * 39))
    args = ["bench", "promote", str(new), "--against", str(old), "--wide", str(wide), "--card", str(card), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "PROMOTED as the wide model: wrote" in out and "as the wide model (the shipped pair" in out
    assert "as the wide model: not promoted" not in out
    assert old.read_bytes() == before and load_model(wide)[1] == get_preset("flash-tiny")
    assert "**promoted as wide.pt**" in card.read_text()
    # A candidate no better on the wide tables than the wide model now shipped: neither verdict promotes it.
    monkeypatch.setattr(promote, "measure", _stand_in([1] * 6 + [0] * 70, [1] * 14 + [0] * 25, [1] * 10 + [0] * 66,
                                                      [1] * 14 + [0] * 25))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "KEPT the shipped model" in out and "as the wide model: not promoted — it recovers" in out
    # Next run: a candidate better on every table replaces default and the pair becomes one model again.
    monkeypatch.setattr(promote, "measure", _stand_in([1] * 12 + [0] * 64, [1] * 20 + [0] * 19, [1] * 10 + [0] * 66,
                                                      [1] * 14 + [0] * 25))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "PROMOTED: wrote" in out and f"retired {wide}" in out
    assert load_model(old)[1] == get_preset("flash-tiny") and not wide.exists()


def test_the_pair_routes_each_table_to_the_model_that_reads_it(tmp_path):
    from lawfinder.inference.proposal import pick_model, reads

    narrow, wide = tmp_path / "default.pt", tmp_path / "wide.pt"
    save_model(narrow, build_model(get_preset("flash-tiny", max_variables=2)))
    assert pick_model(5, narrow, wide) == narrow        # no wide model shipped: default (which then says it can't)
    save_model(wide, build_model(get_preset("flash-tiny")))
    assert reads(narrow) == 2 and reads(wide) == 17
    assert [pick_model(n, narrow, wide) for n in (1, 2, 3, 17)] == [narrow, narrow, wide, wide]
    assert pick_model(None, narrow, wide) == narrow
