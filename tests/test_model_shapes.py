"""Model shapes and masks: padding points or variables never changes real outputs; the KV cache reproduces a full
decode; inputs are checked where they enter; the bit and mantissa/exponent encodings are exact."""

from __future__ import annotations

import math
import struct

import pytest
import torch

from lawfinder.model import build_model
from lawfinder.model.presets import get_preset
from lawfinder.model.layers import RMSSetNorm
from lawfinder.model.set_encoder import float_bits
from lawfinder.model.table_encoder import mantissa_exponent
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture

KINDS = ["flash-tiny", "sl-tiny"]


def make_inputs(cfg, b=3, n=12, v=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = v or cfg.max_variables
    X = torch.randn(b, n, v, generator=g) * 3
    y = torch.randn(b, n, generator=g)
    point_mask = torch.ones(b, n, dtype=torch.bool)
    point_mask[0, n // 2:] = False
    point_mask[2, 1:] = False  # a single real point
    variable_mask = torch.ones(b, v, dtype=torch.bool)
    variable_mask[1, -1] = False
    tokens = torch.randint(3, cfg.vocab_size, (b, 7), generator=g)
    tokens[:, 0] = 1
    return X, y, point_mask, variable_mask, tokens


def real_logits(model, X, y, pm, vm, tokens):
    memory = model.encode(X, y, pm, vm)
    return model.decode(tokens, memory, model.memory_mask(pm))[0]


@pytest.fixture(params=KINDS)
def model(request):
    torch.manual_seed(0)
    return build_model(get_preset(request.param, max_variables=3)).eval()


def test_shapes(model):
    cfg = model.config
    X, y, pm, vm, tokens = make_inputs(cfg)
    memory = model.encode(X, y, pm, vm)
    expected_m = cfg.n_seeds if cfg.kind == "set" else X.shape[1]
    assert memory.shape == (3, expected_m, cfg.d_model)
    logits, cache = model.decode(tokens, memory, model.memory_mask(pm))
    assert logits.shape == (3, 7, cfg.vocab_size) and cache["length"] == 7
    assert torch.isfinite(logits).all()


def test_garbage_in_padding_changes_nothing(model):
    X, y, pm, vm, tokens = make_inputs(model.config)
    reference = real_logits(model, X, y, pm, vm, tokens)
    X2, y2 = X.clone(), y.clone()
    X2[~pm] = float("nan")
    y2[~pm] = float("inf")
    X2[1, :, -1] = 1e30  # the masked variable of sample 1
    assert torch.equal(real_logits(model, X2, y2, pm, vm, tokens), reference)


def test_extra_padded_points_and_variables_change_nothing(model):
    X, y, pm, vm, tokens = make_inputs(model.config, v=2)
    reference = real_logits(model, X, y, pm, vm, tokens)
    b, n, _ = X.shape
    Xp = torch.cat([torch.cat([X, torch.randn(b, n, 1)], -1), torch.randn(b, 9, 3)], 1)
    yp = torch.cat([y, torch.randn(b, 9)], 1)
    pmp = torch.cat([pm, torch.zeros(b, 9, dtype=torch.bool)], 1)
    vmp = torch.cat([vm, torch.zeros(b, 1, dtype=torch.bool)], 1)
    torch.testing.assert_close(real_logits(model, Xp, yp, pmp, vmp, tokens), reference, rtol=1e-5, atol=1e-5)


def test_batch_rows_are_independent(model):
    X, y, pm, vm, tokens = make_inputs(model.config)
    full = real_logits(model, X, y, pm, vm, tokens)
    one = real_logits(model, X[1:2], y[1:2], pm[1:2], vm[1:2], tokens[1:2])
    torch.testing.assert_close(one, full[1:2], rtol=1e-5, atol=1e-5)


def test_padding_invariance_holds_in_training_mode_without_dropout(model):
    """Input noise and dropout aside, train mode uses the same masks (the tiny presets have neither)."""
    model.train()
    X, y, pm, vm, tokens = make_inputs(model.config)
    reference = real_logits(model, X, y, pm, vm, tokens)
    X2 = X.clone()
    X2[~pm] = 7.0
    assert torch.equal(real_logits(model, X2, y, pm, vm, tokens), reference)


def test_kv_cache_matches_full_decode(model):
    X, y, pm, vm, tokens = make_inputs(model.config)
    memory = model.encode(X, y, pm, vm)
    mask = model.memory_mask(pm)
    full, _ = model.decode(tokens, memory, mask)
    pieces, cache = [], None
    for chunk in (tokens[:, :3], tokens[:, 3:4], tokens[:, 4:6], tokens[:, 6:]):
        logits, cache = model.decode(chunk, memory, mask, cache)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, 1), full, rtol=1e-5, atol=1e-5)
    assert cache["length"] == tokens.shape[1]


def test_one_memory_many_samples(model):
    X, y, pm, vm, tokens = make_inputs(model.config)
    memory = model.encode(X[:1], y[:1], pm[:1], vm[:1])
    shared, _ = model.decode(tokens, memory, model.memory_mask(pm[:1]))
    repeated, _ = model.decode(tokens, memory.expand(3, -1, -1), model.memory_mask(pm[:1].expand(3, -1)))
    torch.testing.assert_close(shared, repeated)


def test_decoding_past_max_len_is_an_error():
    model = build_model(get_preset("flash-tiny", max_len=8)).eval()
    X, y, pm, vm, _ = make_inputs(model.config)
    memory = model.encode(X, y, pm, vm)
    with pytest.raises(ValueError, match="max_len=8"):
        model.decode(torch.ones(3, 9, dtype=torch.long), memory)


@pytest.mark.parametrize("change, message", [
    (lambda X, y, pm, vm: (X[0], y, pm, vm), "X must be"),
    (lambda X, y, pm, vm: (torch.cat([X, X], -1), y, pm, torch.cat([vm, vm], -1)), "at most max_variables=3"),
    (lambda X, y, pm, vm: (X, y[:, :-1], pm, vm), "y must have shape"),
    (lambda X, y, pm, vm: (X, y, pm.float(), vm), "point_mask must be a bool"),
    (lambda X, y, pm, vm: (X, y, pm, vm[:, :1]), "variable_mask must have shape"),
])
def test_bad_inputs_are_named(model, change, message):
    X, y, pm, vm, _ = make_inputs(model.config)
    with pytest.raises(ValueError, match=message):
        model.encode(*change(X, y, pm, vm))


def test_loss_names_missing_batch_keys(model):
    with pytest.raises(ValueError, match="token_ids"):
        model.loss({"X": None, "y": None, "point_mask": None, "variable_mask": None})


def test_float_bits_is_ieee754_sign_first():
    values = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.4e38, float("inf"), 1e-45])
    bits = float_bits(values)
    for value, row in zip(values.tolist(), bits):
        (as_int,) = struct.unpack(">I", struct.pack(">f", value))
        expected = [1.0 if (as_int >> (31 - i)) & 1 else -1.0 for i in range(32)]
        assert row.tolist() == expected


def test_mantissa_exponent():
    values = torch.tensor([0.0, 1.0, -1.0, 10.0, 999.0, -0.00123, 1e-30, 6.02e23, float("nan")])
    m, e = mantissa_exponent(values, max_exponent=40)
    for v, mm, ee in zip(values.tolist(), m.tolist(), e.tolist()):
        if v == 0 or math.isnan(v):
            assert (mm, ee) == (0.0, 0)
        else:
            assert 1 <= abs(mm) < 10 and math.isclose(mm * 10.0**ee, v, rel_tol=1e-6)
    assert mantissa_exponent(torch.tensor([1e30]), max_exponent=5)[1].item() == 5


def test_rms_set_norm_ignores_padded_points():
    norm = RMSSetNorm(4)
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = norm(x, mask)
    assert torch.equal(norm(x[:1, :3], None), out[:1, :3])
    assert torch.equal(out[0, 3:], torch.zeros(2, 4))
    per_set_rms = out[0, :3].pow(2).mean().sqrt()
    assert math.isclose(per_set_rms.item(), 1.0, rel_tol=1e-4)
