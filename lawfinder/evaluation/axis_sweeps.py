"""Sweeps over Flash-ANSR's three scaling axes, each a list of run points driven through the same harness: compute
budget per method, relative noise on the fit targets (0, 0.1%, 1%, 10%), and sparsity (8 ... 512 fit points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .bootstrap import N_RESAMPLES
from .datasets import Dataset, FastSRBConfig, Generated, add_noise, generate, load_equations, select, sparsify
from .harness import RunSpec, evaluate, summarize
from .protocol import Budget, Method

SWEEPS = ("budget", "noise", "sparsity")
NOISE_LEVELS = (0.0, 0.001, 0.01, 0.1)
SPARSITY_POINTS = (8, 16, 32, 64, 128, 256, 512)


@dataclass
class Selection:
    """Which datasets a run scores: equation ids (or an even ``subset``), the first ``datasets`` per equation, and
    whether the five excluded equations are scored (always reported apart)."""

    ids: list[str] | None = None
    subset: int | None = None
    datasets: int | None = None
    include_excluded: bool | None = None  # None: yes for a full run, no for a subset or explicit ids

    def resolve(self, config: FastSRBConfig) -> tuple[Generated, list[Dataset]]:
        equations = load_equations()
        include = self.include_excluded
        if include is None:
            include = self.ids is None and self.subset is None
        chosen = select(equations, ids=self.ids, subset=self.subset, include_excluded=include)
        generated = generate(config, keep=[e.id for e in chosen])
        order = {e.id: i for i, e in enumerate(chosen)}
        datasets = [d for d in generated.datasets if self.datasets is None or d.index < self.datasets]
        datasets.sort(key=lambda d: (order[d.equation.id], d.index))
        return generated, datasets


def specs_for(sweep: str, methods: Sequence[str], budgets: dict[str, list[Budget]], precision: str,
              noise_levels: Sequence[float] = NOISE_LEVELS, points: Sequence[int] = SPARSITY_POINTS,
              n_fit: int = 512) -> list[RunSpec]:
    """The run points of one sweep. Noise and sparsity sweeps use each method's last (largest) budget."""
    if sweep not in SWEEPS:
        raise ValueError(f"unknown sweep {sweep!r}; choose one of {', '.join(SWEEPS)}")
    specs = []
    for method in methods:
        if sweep == "budget":
            specs += [RunSpec(method, b, precision, 0.0, n_fit) for b in budgets[method]]
        elif sweep == "noise":
            specs += [RunSpec(method, budgets[method][-1], precision, float(level), n_fit) for level in noise_levels]
        else:
            specs += [RunSpec(method, budgets[method][-1], precision, 0.0, int(n)) for n in points]
    return specs


@dataclass
class SweepResult:
    sweep: str
    config: FastSRBConfig
    runs: list[dict] = field(default_factory=list)
    noise_free: list[str] = field(default_factory=list)  # equations Flash-ANSR's noise leaves untouched


def run_sweep(sweep: str, specs: Sequence[RunSpec], methods: dict[str, Method], config: FastSRBConfig,
              selection: Selection, simplify=None, n_resamples: int = N_RESAMPLES, seed: int = 0,
              std_float64: bool = False,
              progress: Callable[[RunSpec, int, int, dict], None] | None = None) -> SweepResult:
    """Evaluate every spec on the selected datasets; each run keeps its records and its bootstrap summary."""
    generated, base = selection.resolve(config)
    result = SweepResult(sweep=sweep, config=config)
    result.noise_free = sorted({d.equation.id for d in base if d.stream_index in generated.constant_fit})
    for spec in specs:
        datasets = base
        if spec.n_fit != config.n_fit:
            datasets = sparsify(datasets, spec.n_fit)
        if spec.noise:
            datasets = add_noise(datasets, spec.noise, seed=config.seed, constant_fit=generated.constant_fit,
                                 std_float64=std_float64)
        hook = None if progress is None else (lambda i, n, record, spec=spec: progress(spec, i, n, record))
        records = evaluate(methods[spec.method], datasets, spec.budget, simplify=simplify, seed=seed, progress=hook)
        result.runs.append({**spec.as_dict(), "summary": summarize(records, n_resamples=n_resamples, seed=seed),
                            "records": records})
    return result
