"""Training: a tiny model overfits one batch on CPU, checkpoints resume bit for bit, files are written atomically and
foreign files are refused, schedules and AdamCPR behave, the FLOP estimate is checked, the bench command runs."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

from lawfinder.cli import main
from lawfinder.model.build import build_model
from lawfinder.model.checkpoint import load_model, save_model
from lawfinder.model.config import TrainConfig
from lawfinder.model.flops import check_flops, estimate_flops, linear_parameters
from lawfinder.model.layers import RMSNorm
from lawfinder.model.optim import make_optimizer
from lawfinder.model.schedule import learning_rate
from lawfinder.model.presets import PRESETS, get_preset
from lawfinder.model.train import Trainer, load_checkpoint
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture


def make_batch(cfg, b=6, n=16, length=12, seed=0):
    """Random data and token rows <bos> .. <eos> <pad>..; some padded points and variables."""
    g = torch.Generator().manual_seed(seed)
    v = cfg.max_variables
    tokens = torch.randint(3, cfg.vocab_size, (b, length), generator=g)
    tokens[:, 0] = 1
    for row in range(b):
        end = length - 1 - row % 3
        tokens[row, end] = 2
        tokens[row, end + 1:] = 0
    point_mask = torch.ones(b, n, dtype=torch.bool)
    point_mask[0, n // 2:] = False
    variable_mask = torch.ones(b, v, dtype=torch.bool)
    variable_mask[1, -1] = False
    return {"X": torch.randn(b, n, v, generator=g), "y": torch.randn(b, n, generator=g), "point_mask": point_mask,
            "variable_mask": variable_mask, "token_ids": tokens}


@pytest.mark.parametrize("preset", ["flash-tiny", "sl-tiny"])
def test_tiny_model_overfits_one_batch(preset):
    cfg = get_preset(preset)
    trainer = Trainer.create(cfg, TrainConfig(lr=3e-3, max_steps=120, warmup=0.05, stable=0.8))
    batch = make_batch(cfg)
    first = trainer.evaluate(batch)
    for _ in range(120):
        trainer.step(batch)
    last = trainer.evaluate(batch)
    assert first > 3.0 and last < 0.05
    # Greedy teacher-forced predictions reproduce every target token.
    model = trainer.model.eval()
    with torch.no_grad():
        logits = model(batch["X"], batch["y"], batch["point_mask"], batch["variable_mask"], batch["token_ids"][:, :-1])
    targets = batch["token_ids"][:, 1:]
    real = targets != 0
    assert torch.equal(logits.argmax(-1)[real], targets[real])


def test_step_accepts_numpy_batches_and_reports():
    cfg = get_preset("flash-tiny")
    trainer = Trainer.create(cfg, TrainConfig(max_steps=10))
    batch = {k: v.numpy() for k, v in make_batch(cfg).items()}
    out = trainer.step(batch)
    assert set(out) == {"loss", "lr", "grad_norm"} and trainer.step_count == 1
    assert out["lr"] == pytest.approx(TrainConfig(max_steps=10).lr_at(0))
    with pytest.raises(ValueError, match="token_ids"):
        trainer.step({k: batch[k] for k in ("X", "y", "point_mask", "variable_mask")})


def _params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("optimizer", ["adamw", "adamcpr"])
def test_resume_is_bit_for_bit(tmp_path, optimizer):
    # Dropout and input noise on, so the RNG state matters; CPR with a kappa from the start, so its state matters.
    cfg = get_preset("flash-tiny", dropout=0.1, input_noise=0.1)
    tc = TrainConfig(lr=1e-3, max_steps=12, warmup=0.25, stable=0.25, optimizer=optimizer, cpr_kappa_init="dependent",
                     cpr_kappa_param=0.9, seed=3)
    batches = [make_batch(cfg, seed=s) for s in range(6)]

    straight = Trainer.create(cfg, tc)
    straight_losses = [float(straight.step(b)["loss"]) for b in batches]

    first = Trainer.create(cfg, tc)
    resumed_losses = [float(first.step(b)["loss"]) for b in batches[:3]]
    path = tmp_path / "run" / "ckpt.pt"
    first.save_checkpoint(path, data_position={"producer": [3, 7], "epoch": 0})
    torch.rand(1000), np.random.rand(10)  # move the RNGs on: the checkpoint must bring them back
    del first
    second = load_checkpoint(path)
    assert second.step_count == 3 and second.data_position == {"producer": [3, 7], "epoch": 0}
    resumed_losses += [float(second.step(b)["loss"]) for b in batches[3:]]

    assert resumed_losses == straight_losses
    after, expected = _params(second.model), _params(straight.model)
    assert all(torch.equal(after[k], expected[k]) for k in expected)
    assert os.listdir(path.parent) == ["ckpt.pt"]  # the temp file was renamed, not left behind


def test_overwrite_is_atomic_and_load_model_matches(tmp_path):
    cfg = get_preset("sl-tiny")
    trainer = Trainer.create(cfg, TrainConfig(max_steps=5, precision="fp32"))  # evaluates as load_model's model does
    batch = make_batch(cfg)
    path = tmp_path / "ckpt.pt"
    trainer.save_checkpoint(path)
    trainer.step(batch)
    trainer.save_checkpoint(path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]
    model, config = load_model(path)
    assert config == cfg and not model.training
    assert trainer.evaluate(batch) == pytest.approx(float(model.loss(batch).detach()), rel=1e-6)

    small = tmp_path / "weights.pt"
    save_model(small, trainer.model, dtype=torch.bfloat16)
    model16, _ = load_model(small)
    assert float(model16.loss(batch)) == pytest.approx(float(model.loss(batch)), rel=0.05)
    with pytest.raises(ValueError, match="weights only"):
        load_checkpoint(small)


def test_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(256))
    plain = tmp_path / "plain.pt"
    torch.save({"weight": torch.zeros(3)}, plain)
    pickled = tmp_path / "pickled.pt"
    with open(pickled, "wb") as handle:
        pickle.dump({"meta": os.getcwd}, handle)
    for path in (junk, plain, pickled):
        with pytest.raises(ValueError, match="not a readable lawfinder checkpoint"):
            load_model(path)
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "missing.pt")


def test_wsd_and_cosine_schedules():
    lr = [learning_rate(s, 100, 1.0, "wsd", 0.1, 0.7) for s in range(100)]
    assert lr[0] == pytest.approx(0.1) and lr[9] == 1.0
    assert all(v == 1.0 for v in lr[10:80])
    assert lr[80] == 1.0 and lr[90] == pytest.approx(0.5) and 0 < lr[99] < 0.06
    assert all(a >= b for a, b in zip(lr[80:], lr[81:]))
    cos = [learning_rate(s, 100, 2.0, "cosine", 0.05, min_ratio=0.1) for s in range(101)]
    assert cos[4] == 2.0 and cos[5] == 2.0 and cos[100] == pytest.approx(0.2)
    assert cos[52] == pytest.approx(1.1, abs=0.05)
    with pytest.raises(ValueError, match="schedule"):
        learning_rate(0, 10, 1.0, "step")
    with pytest.raises(ValueError, match="warmup"):
        TrainConfig(warmup=0.5, stable=0.6)


def test_train_presets_follow_the_papers():
    train = {name: preset.train for name, preset in PRESETS.items()}
    assert train["flash-3M"].lr == 1e-4 and train["flash-3M"].betas == (0.9, 0.95)
    assert train["flash-1B"].lr_at(750_000 - 1) == pytest.approx(3e-5)
    assert train["flash-1B"].lr_at(3_000_000 - 1) == pytest.approx(3e-5)
    assert train["flash-1B"].lr_at(3_500_000) == pytest.approx(1.5e-5)
    assert train["sl-XS"].optimizer == "adamcpr" and train["sl-XS"].betas == (0.9, 0.98)
    assert TrainConfig.from_dict(train["flash-1B"].to_dict()) == train["flash-1B"]


def _cpr_run(kappa_factor: float, steps: int = 60) -> tuple[float, float, bool]:
    """Zero loss gradient, so Adam moves nothing and only the CPR constraint can change the weights."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(32, 96), RMSNorm(96))
    optimizer = make_optimizer(module, TrainConfig(optimizer="adamcpr", cpr_kappa_init="dependent",
                                                   cpr_kappa_param=kappa_factor, lr=1e-3))
    weight, gain = module[0].weight, module[1].weight
    start, gain_start = weight.detach().pow(2).sum().item(), gain.detach().clone()
    for _ in range(steps):
        optimizer.zero_grad()
        (0.0 * sum(p.sum() for p in module.parameters())).backward()
        optimizer.step()
    return start, weight.detach().pow(2).sum().item(), torch.equal(gain.detach(), gain_start)


def test_adamcpr_constrains_only_violating_weights():
    """CPR bounds ||W||² by kappa (here a factor times its initial value): a bound already met changes nothing, a
    violated one pulls the norm down; norm gains are never constrained."""
    start, end, gain_kept = _cpr_run(kappa_factor=1.5)
    assert end == start and gain_kept
    start, end, gain_kept = _cpr_run(kappa_factor=0.5)
    assert end < 0.55 * start and gain_kept


def test_flop_estimate_against_torch_count():
    assert estimate_flops(10, 20, 3, 4) == 6 * (10 * 3 + 20 * 4)
    for preset, low, high in (("sl-tiny", 0.8, 1.3), ("flash-tiny", 0.2, 1.5)):
        trainer = Trainer.create(get_preset(preset), TrainConfig(max_steps=1))
        check = check_flops(trainer.model, make_batch(trainer.model_config))
        assert 0 < check.n_enc < sum(p.numel() for p in trainer.model.encoder.parameters())
        assert check.n_dec == linear_parameters(trainer.model.decoder)
        assert low < check.ratio < high, (preset, check.ratio)


def test_bench_train_step_cli(tmp_path, capsys):
    out = tmp_path / "ts.json"
    lines = tmp_path / "ts.jsonl"
    code = main(["bench", "train-step", "--preset", "flash-tiny,sl-tiny", "--batch-size", "2", "--n-points", "16",
                 "--steps", "1", "--warmup", "0", "--compile", "off", "--out", str(out), "--jsonl", str(lines)])
    assert code == 0
    data = json.loads(out.read_text())
    assert [r["preset"] for r in data["results"]] == ["flash-tiny", "sl-tiny"]
    for row in data["results"]:
        assert row["compile"] is False
        for key in ("samples_per_s", "tokens_per_s", "achieved_flops_per_s", "mfu", "flops_ratio_measured_over_6ND",
                    "peak_memory_mib"):
            assert row[key] > 0
    assert [json.loads(line)["preset"] for line in lines.read_text().splitlines()] == ["flash-tiny", "sl-tiny"]
    table = capsys.readouterr().out
    assert "samples/s" in table and "sl-tiny" in table and "matmul peak" in table
    assert main(["bench", "train-step", "--preset", "flash-9M", "--batch-size", "2"]) == 2


def test_bench_train_step_measures_a_shape_given_by_overrides(tmp_path, capsys):
    out = tmp_path / "ts.json"
    code = main(["bench", "train-step", "--preset", "flash-tiny", "--set-model", "max_variables=5",
                 "--set-model", "d_model=48", "--batch-size", "2", "--n-points", "8", "--steps", "1", "--warmup", "0",
                 "--compile", "off", "--out", str(out)])
    assert code == 0
    row = json.loads(out.read_text())["results"][0]
    wide = build_model(get_preset("flash-tiny", max_variables=5, d_model=48))
    assert row["n_variables"] == 5 and row["parameters"] == sum(p.numel() for p in wide.parameters())
    assert main(["bench", "train-step", "--preset", "flash-tiny", "--set-model", "width=3"]) == 2
    assert "--set-model" in capsys.readouterr().err


def test_precision_picks_the_autocast_dtype(monkeypatch):
    from lawfinder.model import train

    monkeypatch.setattr(train, "cpu_has_bf16_tiles", lambda: True)
    assert train.autocast_for("auto", "cpu") is torch.bfloat16 and train.autocast_for("auto", "cuda") is torch.bfloat16
    assert train.autocast_for("fp32", "cpu") is None and train.autocast_for("fp32", "cuda") is None
    monkeypatch.setattr(train, "cpu_has_bf16_tiles", lambda: False)
    assert train.autocast_for("auto", "cpu") is None and train.autocast_for("bf16", "cpu") is torch.bfloat16
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp16")


def _linear_output_dtypes(trainer, batch) -> set:
    seen = set()
    handles = [m.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
               for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
    trainer.step(batch)
    for h in handles:
        h.remove()
    return seen


def test_bf16_step_on_a_cpu_follows_the_fp32_step():
    # Same seed, same batch: the bf16 step really runs its linear layers in bf16 and lands where fp32 lands, to
    # bf16's precision; parameters stay fp32.
    cfg = get_preset("flash-tiny", input_noise=0.0)
    batch = make_batch(cfg)
    runs = {p: Trainer.create(cfg, TrainConfig(lr=1e-3, max_steps=10, precision=p)) for p in ("fp32", "bf16")}
    assert _linear_output_dtypes(runs["fp32"], batch) == {torch.float32}
    assert _linear_output_dtypes(runs["bf16"], batch) == {torch.bfloat16}
    losses = {p: float(t.step(batch)["loss"]) for p, t in runs.items()}
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=2e-2)
    a, b = _params(runs["fp32"].model), _params(runs["bf16"].model)
    assert all(b[k].dtype == a[k].dtype for k in a)
    moved = sum(float((a[k] - b[k]).abs().max()) for k in a if a[k].is_floating_point())
    assert moved < 0.05 * len(a)


def test_attention_under_cpu_autocast_runs_in_fp32():
    from lawfinder.model.layers import attend

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 5, 8, generator=g) for _ in range(3))
    plain = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = attend(q.bfloat16(), k.bfloat16(), v.bfloat16(), is_causal=True)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, plain, atol=3e-2, rtol=3e-2)


def test_bench_train_step_measures_both_precisions(tmp_path):
    out = tmp_path / "ts.json"
    assert main(["bench", "train-step", "--preset", "flash-tiny", "--batch-size", "2", "--n-points", "8", "--steps",
                 "1", "--warmup", "0", "--compile", "off", "--precision", "both", "--device", "cpu",
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [r["precision"] for r in data["results"]] == ["fp32", "bf16 autocast"]
    assert {p["dtype"] for p in data["matmul_peaks"]} == {"float32", "bfloat16"}
    assert [r["matmul_peak"]["dtype"] for r in data["results"]] == ["float32", "bfloat16"]
