"""One preset record per name: model, training and data together; unknown names fail listing the known ones; the
batch-size rule scales the LR; the data facts written in presets.py match the generator's presets."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from lawfinder.generate.config import PRESETS as DATA_PRESETS
from lawfinder.model.presets import DATA_MAX_POINTS, DATA_MAX_TOKENS, PRESETS, get, scaled_lr


def test_every_preset_names_a_real_data_preset_and_matching_model():
    assert set(DATA_MAX_POINTS) == set(DATA_PRESETS)
    for name, data in DATA_MAX_POINTS.items():
        assert DATA_PRESETS[name].max_points == data
    # Prefix targets are the skeleton's tokens plus <bos> and <eos>; LaTeX targets are bounded by max_len only.
    assert DATA_PRESETS["flash-ansr"].tokenizer == "prefix"
    assert DATA_PRESETS["flash-ansr"].max_skeleton_length + 2 <= DATA_MAX_TOKENS["flash-ansr"]
    assert DATA_MAX_TOKENS["scaling-laws"] >= DATA_PRESETS["scaling-laws"].max_len
    for name, preset in PRESETS.items():
        assert preset.name == name and preset.data in DATA_PRESETS
        assert DATA_PRESETS[preset.data].tokenizer == preset.model.tokenizer
        assert max(preset.train.point_buckets) >= DATA_MAX_POINTS[preset.data]
        assert max(preset.train.token_buckets) >= min(DATA_MAX_TOKENS[preset.data], preset.model.max_len)


def test_unknown_name_is_one_line_listing_the_known_ones():
    with pytest.raises(ValueError) as info:
        get("flash-7M")
    message = str(info.value)
    assert "\n" not in message and "'flash-7M'" in message and all(n in message for n in PRESETS)


def test_batch_size_scales_the_lr_by_the_square_root_rule_unless_lr_is_set():
    preset = get("sl-XS")  # reference batch 32, lr 4.6e-4
    assert preset.train_config().lr == preset.train.lr
    bigger = preset.train_config(batch_size=128)
    assert bigger.batch_size == 128 and bigger.lr == pytest.approx(4.6e-4 * 2)
    assert preset.train_config(batch_size=128, overrides={"lr": 1e-3}).lr == 1e-3
    assert preset.train_config(overrides={"batch_size": 8}).lr == pytest.approx(4.6e-4 / 2)
    assert scaled_lr(1.0, 50, 50) == 1.0 and scaled_lr(1.0, 200, 50) == pytest.approx(math.sqrt(4))
    with pytest.raises(ValueError, match="'momentum'"):
        preset.train_config(overrides={"momentum": 0.9})
    with pytest.raises(ValueError, match="grad_accum"):
        preset.train_config(batch_size=4, overrides={"grad_accum": 8})


def test_reading_presets_does_not_import_torch():
    code = "import sys, lawfinder.model.presets, lawfinder.model; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
