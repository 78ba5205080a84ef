"""Every paper preset's parameter count is within 10 % of the paper's figure, and PRESETS.md says the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from lawfinder.model import PRESETS, build_model, get_preset
from lawfinder.model.build import count_parameters
from lawfinder.model.config import PAPER_PARAMETERS, ModelConfig

DOC = Path(__file__).resolve().parents[1] / "lawfinder" / "model" / "PRESETS.md"


def counts(name: str) -> tuple[int, int, int]:
    with torch.device("meta"):  # shapes only: the 1B model costs no memory
        model = build_model(PRESETS[name].model)
    return count_parameters(model), count_parameters(model.encoder), count_parameters(model.decoder)


def test_every_paper_size_has_a_preset():
    assert set(PAPER_PARAMETERS) == {"flash-3M", "flash-20M", "flash-120M", "flash-1B",
                                     "sl-XS", "sl-S", "sl-M", "sl-L", "sl-XL"}
    assert set(PAPER_PARAMETERS) < set(PRESETS) and {"flash-tiny", "sl-tiny"} < set(PRESETS)


@pytest.mark.parametrize("name", sorted(PAPER_PARAMETERS))
def test_parameter_count_matches_paper(name):
    total, encoder, decoder = counts(name)
    paper_total, paper_encoder, paper_decoder = PAPER_PARAMETERS[name]
    assert abs(total / paper_total - 1) < 0.10
    if paper_encoder is not None:
        assert abs(encoder / paper_encoder - 1) < 0.10
        assert abs(decoder / paper_decoder - 1) < 0.10


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_docs_table_lists_the_real_counts(name):
    row = next((line for line in DOC.read_text().splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"{name} missing from PRESETS.md"
    cells = [c.strip() for c in row.strip("|").split("|")]
    total, encoder, decoder = counts(name)
    assert cells[7] == f"{total / 1e6:.2f}M"
    assert cells[8] == f"{encoder / 1e6:.2f}M / {decoder / 1e6:.2f}M"
    if name in PAPER_PARAMETERS:
        assert float(re.sub("M$", "", cells[9])) * 1e6 == pytest.approx(PAPER_PARAMETERS[name][0])


def test_preset_overrides_and_errors():
    assert get_preset("flash-3M", dropout=0.0).dropout == 0.0
    with pytest.raises(ValueError, match="unknown model preset 'flash-7M'; known: flash-3M, "):
        get_preset("flash-7M")
    with pytest.raises(ValueError, match="'width'"):
        get_preset("flash-3M", width=3)
    with pytest.raises(ValueError, match="n_heads"):
        ModelConfig(d_model=100, n_heads=3)
    with pytest.raises(ValueError, match="kind"):
        ModelConfig(kind="graph")
    assert ModelConfig.from_dict(PRESETS["sl-M"].model.to_dict()) == PRESETS["sl-M"].model
