"""The fast training step's pieces on CPU: shape buckets, padding that leaves the loss unchanged, gradient
accumulation equal to one big batch, device-side metrics, and our AdamCPR against the authors' pytorch-cpr."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from lawfinder.model.config import TrainConfig
from lawfinder.model.optim import AdamCPR, make_optimizer
from lawfinder.model.presets import get_preset
from lawfinder.model.shapes import bucket_size, linear_buckets
from lawfinder.model.train import Trainer, pad_batch, split_batch
from tests.test_model_train import make_batch
from tests.torch_threads import one_thread  # noqa: F401 - autouse fixture


def test_buckets_are_few_fixed_sizes_covering_every_size():
    assert linear_buckets(1024) == (256, 512, 768, 1024)
    assert linear_buckets(128) == (32, 64, 96, 128)
    assert linear_buckets(64) == (16, 32, 48, 64)
    assert linear_buckets(10, 4) == (8, 16)  # rounded to multiples of 8, duplicates merged
    buckets = linear_buckets(1024)
    for size in range(0, 1100, 7):
        padded = bucket_size(size, buckets)
        assert padded >= size and padded % 8 == 0
        assert padded in buckets or (size > 1024 and padded - size < 8)
    assert {bucket_size(s, buckets) for s in range(1, 1025)} == set(buckets)
    assert bucket_size(13, ()) == 16
    with pytest.raises(ValueError):
        bucket_size(-1, buckets)


@pytest.mark.parametrize("preset", ["flash-tiny", "sl-tiny"])
def test_padding_to_a_bucket_does_not_change_the_loss(preset):
    cfg = get_preset(preset)
    trainer = Trainer.create(cfg, TrainConfig(max_steps=1))
    batch = make_batch(cfg, n=13, length=11)
    padded = pad_batch(batch, 24, 32)
    assert padded["X"].shape[1] == 24 and padded["token_ids"].shape[1] == 32
    assert not padded["point_mask"][:, 13:].any() and (padded["token_ids"][:, 11:] == 0).all()
    assert trainer.evaluate(padded) == pytest.approx(trainer.evaluate(batch), rel=1e-5, abs=1e-6)
    with pytest.raises(ValueError, match="cannot pad"):
        pad_batch(batch, 8, 32)


def _gradients(trainer: Trainer, batch) -> tuple[float, dict]:
    trainer.optimizer.zero_grad(set_to_none=True)
    loss = float(trainer.accumulate_gradients(batch))
    return loss, {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("preset", ["flash-tiny", "sl-tiny"])
def test_accumulated_micro_batches_give_the_big_batch_gradient(preset):
    cfg = get_preset(preset)  # tiny presets: no dropout or input noise, so both passes see the same model
    batch = make_batch(cfg, b=7, length=12)  # rows end at different lengths: micro-batches hold unequal targets
    # fp32: the test checks the arithmetic of the weighting to 1e-4, which bf16 autocast (the default on an AMX CPU)
    # would blur.
    whole_loss, whole = _gradients(Trainer.create(cfg, TrainConfig(max_steps=1, batch_size=7, precision="fp32")),
                                   batch)
    for k in (2, 3):
        assert len(split_batch(batch, k)) == k
        loss, grads = _gradients(Trainer.create(cfg, TrainConfig(max_steps=1, batch_size=7, grad_accum=k,
                                                                 precision="fp32")), batch)
        assert loss == pytest.approx(whole_loss, rel=1e-5)
        assert grads.keys() == whole.keys()
        for name in whole:
            torch.testing.assert_close(grads[name], whole[name], rtol=1e-4, atol=1e-6)


def test_step_keeps_metrics_on_the_device_until_drained():
    cfg = get_preset("flash-tiny")
    trainer = Trainer.create(cfg, TrainConfig(max_steps=10))
    assert trainer.drain_metrics() == {"steps": 0}
    losses = [float(trainer.step(make_batch(cfg, seed=s))["loss"]) for s in range(3)]
    drained = trainer.drain_metrics()
    assert drained["steps"] == 3 and drained["loss"] == pytest.approx(sum(losses) / 3) and drained["grad_norm"] > 0
    assert trainer.drain_metrics() == {"steps": 0}
    assert not trainer.compiled and not trainer.bucketed  # CPU default: eager, exact shapes


def _reference_and_ours(kappa_init: str, kappa_param: float, reg_step_size: int = 4):
    from pytorch_cpr import AdamCPR as Reference

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    twin = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    twin.load_state_dict(model.state_dict())

    def groups(m):
        return [{"params": [m[0].weight, m[2].weight], "regularize": True},
                {"params": [m[0].bias, m[2].bias], "regularize": False}]

    # foreach=True: the reference's multi-tensor path, the one that runs on CUDA.
    reference = Reference(groups(model), lr=3e-2, betas=(0.9, 0.98), kappa_init_method=kappa_init,
                          kappa_init_param=kappa_param, reg_step_size=reg_step_size, foreach=True)
    ours = AdamCPR(groups(twin), lr=3e-2, betas=(0.9, 0.98), kappa_init=kappa_init, kappa_param=kappa_param,
                   reg_step_size=reg_step_size)
    return model, reference, twin, ours


# pytorch-cpr 0.3.1 calls torch._utils.is_compiling, deprecated since torch 2.13.
@pytest.mark.filterwarnings("ignore:.*is_compiling.*:UserWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize("kappa_init, kappa_param", [("warm_start", 5), ("dependent", 0.8), ("uniform", 1.0),
                                                     ("inflection_point", 1000)])
def test_adamcpr_matches_pytorch_cpr_step_by_step(kappa_init, kappa_param):
    from lawfinder.model.optim import HIGH_KAPPA

    model, reference, twin, ours = _reference_and_ours(kappa_init, kappa_param, reg_step_size=5)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(64, 6, generator=g), torch.randn(64, 3, generator=g)
    constrained = 0
    for step in range(120):
        lr = 3e-2 * (1 - step / 240)  # the trainer sets the LR every step
        for opt in (reference, ours):
            for group in opt.param_groups:
                group["lr"] = lr
        for m, opt in ((model, reference), (twin, ours)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(m(x), 5 * y).backward()  # large targets: the weights grow
            opt.step()
        for p, q in zip(model.parameters(), twin.parameters()):
            torch.testing.assert_close(q, p, rtol=1e-6, atol=1e-7, msg=f"{kappa_init} step {step}")
        constrained += sum(float(ours.state[q]["lagmul"]) > 0 for q in (twin[0].weight, twin[2].weight))
    for p, q in ((model[0].weight, twin[0].weight), (model[2].weight, twin[2].weight)):
        torch.testing.assert_close(ours.state[q]["kappa"].reshape(()), reference.state[p]["kappa"].reshape(()))
        assert float(ours.state[q]["kappa"]) < HIGH_KAPPA  # every bound got set (inflection point found)
    assert constrained > 0  # the constraint acted, so the comparison covers it


def test_adamcpr_presets_use_ours_and_it_resumes_from_its_state_dict():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
    optimizer = make_optimizer(model, TrainConfig(optimizer="adamcpr", cpr_kappa_init="warm_start",
                                                  cpr_kappa_param=2))
    assert isinstance(optimizer, AdamCPR)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).square().sum().backward()
        optimizer.step()
    state = optimizer.state_dict()
    again = make_optimizer(model, TrainConfig(optimizer="adamcpr", cpr_kappa_init="warm_start", cpr_kappa_param=2))
    again.load_state_dict(state)
    assert [g["cpr_step"] for g in again.param_groups] == [3, 3]
    assert float(again.state[model[0].weight]["kappa"]) > 0
    with pytest.raises(ValueError, match="cpr_kappa_init"):
        TrainConfig(optimizer="adamcpr", cpr_kappa_init="magic")


def test_compiled_step_traces_once_per_bucket_and_matches_eager(monkeypatch):
    """The compile path on CPU with dynamo's eager backend (tracing, no code generation: seconds, not minutes):
    batches of different sizes in one bucket reuse one graph, and the padded compiled loss equals the eager one."""
    import torch._dynamo.utils

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: compile_(fn, backend="eager", dynamic=kw.get("dynamic")))
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    cfg = get_preset("flash-tiny")
    base = TrainConfig(max_steps=10, point_buckets=(64, 256), token_buckets=(32,), precision="fp32")  # to 1e-5
    compiled = Trainer.create(cfg, replace(base, compile=True, grad_accum=2))
    eager = Trainer.create(cfg, replace(base, compile=False, grad_accum=2))
    assert compiled.compiled and compiled.bucketed and not eager.bucketed
    for seed, (n, length) in enumerate([(13, 11), (200, 20), (90, 30), (250, 12)]):
        batch = make_batch(cfg, b=6, n=n, length=length, seed=seed)
        assert float(compiled.step(batch)["loss"]) == pytest.approx(float(eager.step(batch)["loss"]), rel=1e-5)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 2  # buckets 64 and 256 points, 32 tokens
    torch._dynamo.reset()
