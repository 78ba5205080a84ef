"""One growing run: continue the trunk for most of the budget, save it, branch a cool-down, export a candidate.

``grow_run`` knows nothing of the command line or the gate: it takes a budget in seconds, a stop event (set by a
signal handler, or by a test) and a clock, and returns a summary. The trunk is saved every ``save_every_s`` seconds
and when the trunk phase ends, so a killed run loses at most that much; a stopped run (the event) saves the trunk and
returns without a candidate.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .feed import Feed
from .lineage import Lineage, load_trunk, read_lineage, save_trunk
from .recipe import Recipe, cooldown_lr, cooldown_steps, split_budget, trunk_lr

CANDIDATE = "candidate.pt"
SAVE_EVERY_S = 600.0
VALIDATION_SEED = 424242       # a fixed held-out stream: the same batches judge every run's trunk and candidate
VALIDATION_BATCHES = 4


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def new_model(recipe: Recipe, init_from: str | None):
    """A fresh model of the recipe's shape, warm-started from ``init_from`` when given -> (model, origin note)."""
    from ..model.build import build_model
    from ..model.presets import get
    from .warm_start import warm_start

    model = build_model(get(recipe.preset).model_config(**dict(recipe.model)))
    if init_from is None:
        return model, "fresh initialisation"
    return model, warm_start(model, init_from)


def data_config(recipe: Recipe):
    from ..generate.config import parse_override, preset
    from ..model.presets import get

    return preset(get(recipe.preset).data, **dict(parse_override(text) for text in recipe.data_overrides()))


def history_row(record: dict) -> dict:
    """A run's record as a row of the candidate's training history (what the gate's card rows read)."""
    on_gpu = not str(record["device"]).startswith("cpu")
    minutes = record.get("seconds", 0.0) / 60.0
    return {"date": record["date"], "device": record["device"], "preset": "grow-17v", "continued": record["run"] > 1,
            "samples": record["samples"], "flops": record.get("flops", 0.0),
            "gpu_minutes": minutes if on_gpu else 0.0, "cpu_minutes": 0.0 if on_gpu else minutes,
            "final_loss": record.get("candidate_loss") or record.get("trunk_loss"), "status": record["status"]}


def validation_loss(trainer, batches: list) -> float:
    return sum(trainer.evaluate(b) for b in batches) / len(batches)


def grow_run(state_dir: str | Path, run_dir: str | Path, budget_s: float, *, init_from: str | None = None,
             recipe: Recipe | None = None, producers: int = 0, device: str | None = None, seed: int = 0,
             save_every_s: float = SAVE_EVERY_S, stop: threading.Event | None = None,
             report: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> dict:
    """Train the lineage in ``state_dir`` for ``budget_s`` seconds (trunk, then cool-down branch) and write the
    candidate to ``run_dir/candidate.pt``. ``init_from`` and ``recipe`` matter only when the lineage begins here."""
    import torch

    from ..model.checkpoint import save_model
    from ..model.presets import get
    from ..model.train import Trainer, seed_everything
    from ..actors.shipping import flops_per_sample

    started = clock()
    stop = stop or threading.Event()
    lineage = read_lineage(state_dir)
    if lineage is None:
        recipe = recipe or Recipe()
        model, origin = new_model(recipe, init_from)
        lineage = Lineage(recipe, origin=origin)
        report(f"grow: a new lineage in {state_dir}: {origin}")
    else:
        if init_from is not None:
            report(f"grow: {state_dir} already holds a trunk; --init-from applies only to a new lineage")
        model, lineage = load_trunk(state_dir)
        recipe = lineage.recipe
        report(f"grow: continuing the trunk in {state_dir}: {lineage.trunk_steps:,} steps, {lineage.samples:,} "
               f"samples, {len(lineage.runs)} run(s) before this one")
    run_index = len(lineage.runs) + 1
    run_seed = seed + run_index
    seed_everything(run_seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    preset = get(recipe.preset)
    config = preset.train_config(recipe.batch_size, {"lr": recipe.peak_lr, "weight_decay": recipe.weight_decay,
                                                     "max_steps": 10**9, "seed": run_seed})
    trainer = Trainer(model, config, dev)
    per_sample, mean_points, mean_tokens = flops_per_sample(trainer.model, get(recipe.preset).data,
                                                            recipe.data_overrides())
    data = data_config(recipe)
    max_variables = trainer.model_config.max_variables
    base = replace(lineage, runs=list(lineage.runs))
    record = {"run": run_index, "date": _now(), "device": torch.cuda.get_device_name(dev) if dev.type == "cuda"
              else f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})",
              "budget_s": budget_s, "status": "cut off", "trunk_steps": 0, "samples": 0, "cooldown_steps": 0}

    def account(status: str) -> Lineage:
        seconds = clock() - started
        record.update(status=status, seconds=round(seconds, 1), flops=per_sample * record["samples"])
        return replace(base, trunk_steps=base.trunk_steps + record["trunk_steps"],
                       samples=base.samples + record["samples"], flops=base.flops + per_sample * record["samples"],
                       device_seconds=base.device_seconds + seconds, runs=[*base.runs, dict(record)])

    train_s = budget_s - (clock() - started)
    trunk_s, cool_s = split_budget(max(train_s, 1.0), recipe.cooldown_share)
    report(f"grow: run {run_index} on {record['device']}: {trunk_s / 60:.1f} min trunk at lr {recipe.peak_lr:g}, "
           f"then {cool_s / 60:.1f} min cool-down; {per_sample:.3g} FLOPs per sample (~{mean_points:.0f} points, "
           f"~{mean_tokens:.0f} tokens)")
    with Feed(data, VALIDATION_SEED, recipe.batch_size, max_variables) as held_out:
        validation = [held_out.next()[0] for _ in range(VALIDATION_BATCHES)]
    record["trunk_loss_before"] = validation_loss(trainer, validation)

    with Feed(data, run_seed, recipe.batch_size, max_variables, producers) as feed:
        phase_start = last_save = last_report = clock()
        lr = 0.0
        while not stop.is_set() and clock() - phase_start < trunk_s:
            arrays, n = feed.next()
            lr = trunk_lr(record["trunk_steps"], base.trunk_steps + record["trunk_steps"], recipe)
            trainer.step(arrays, lr=lr)
            record["trunk_steps"] += 1
            record["samples"] += n
            if clock() - last_report >= 60.0:
                metrics = trainer.drain_metrics()
                rate = record["samples"] / (clock() - phase_start)
                report(f"grow: trunk step {base.trunk_steps + record['trunk_steps']:,} "
                       f"loss {metrics.get('loss', 0):.3f} "
                       f"lr {lr:.2g} {rate:.1f} samples/s, {(trunk_s - (clock() - phase_start)) / 60:.1f} min left")
                record["train_loss"] = metrics.get("loss")
                last_report = clock()
            if clock() - last_save >= save_every_s:
                save_trunk(state_dir, trainer.model, account("cut off"))
                last_save = clock()
        trunk_seconds = clock() - phase_start
        record["trunk_loss"] = validation_loss(trainer, validation)
        interrupted = stop.is_set()
        save_trunk(state_dir, trainer.model, account("stopped" if interrupted else "trunk saved"))
        report(f"grow: trunk saved ({record['trunk_steps']:,} steps this run, validation loss "
               f"{record['trunk_loss_before']:.3f} -> {record['trunk_loss']:.3f})")
        if interrupted or record["trunk_steps"] == 0:
            return {"lineage": account("stopped"), "candidate": None, "record": record}

        steps = cooldown_steps(cool_s, record["trunk_steps"] / max(trunk_seconds, 1e-9))
        cool_start = clock()
        for i in range(steps):
            if stop.is_set() or clock() - cool_start > 2 * cool_s + 60:
                break
            arrays, n = feed.next()
            trainer.step(arrays, lr=cooldown_lr(i, steps, lr))
            record["cooldown_steps"] += 1
    complete = record["cooldown_steps"] == steps
    record["candidate_loss"] = validation_loss(trainer, validation)
    record["train_loss"] = trainer.drain_metrics().get("loss", record.get("train_loss"))
    lineage_now = account("candidate exported" if complete else "cool-down cut short")
    candidate = Path(run_dir) / CANDIDATE
    candidate.parent.mkdir(parents=True, exist_ok=True)
    history = [history_row(r) for r in lineage_now.runs]
    save_model(candidate, trainer.model, dtype=torch.bfloat16, recipe="lawfinder grow", history=history,
               lineage={k: v for k, v in lineage_now.to_dict().items() if k != "runs"}, run=dict(record))
    save_trunk(state_dir, load_trunk(state_dir)[0], lineage_now)
    report(f"grow: candidate {candidate} after {record['cooldown_steps']} cool-down steps, validation loss "
           f"{record['trunk_loss']:.3f} (trunk) -> {record['candidate_loss']:.3f} (candidate)")
    return {"lineage": lineage_now, "candidate": str(candidate), "record": record}
