"""The methods that need no extra package: lawfinder's own Regressor, the skeleton oracle, a planted perfect
predictor (returns the true formula) and a constant predictor (returns the mean); ``make_method`` picks any method,
the GP baselines included, by name. The protocol they follow is ``protocol.py``.
"""

from __future__ import annotations

import numpy as np

from ..simplipy.tokens import format_number
from .metrics import skeleton
from .protocol import Budget, Method, Prediction, Task, prediction_from_tokens

__all__ = [
    "ConstantMethod", "DEFAULT_BUDGETS", "METHOD_NAMES", "ORACLE_NAMES", "PlantedMethod", "RegressorMethod",
    "SkeletonOracleMethod", "make_method",
]


class PlantedMethod:
    """Returns the true formula with its true constants: a perfect predictor. It calibrates the harness: it must
    score 100% wherever the data can be scored at all (see the float32 ceiling in the results)."""

    name = "planted"

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        if not task.truth:
            raise ValueError("the planted method needs task.truth")
        return prediction_from_tokens(task.truth, text="truth")


class ConstantMethod:
    """Predicts the mean of the fit targets everywhere: FVU about 1, so it must score 0%."""

    name = "constant"

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        mean = float(np.mean(np.asarray(task.y, dtype=np.float64)))
        return prediction_from_tokens([format_number(mean)], text=repr(mean))


def _tokens_of(equation) -> list[str] | None:
    """Prefix tokens from a Regressor result entry (an object with ``tokens`` or a dict with "tokens")."""
    if equation is None:
        return None
    tokens = equation.get("tokens") if isinstance(equation, dict) else getattr(equation, "tokens", None)
    return list(tokens) if tokens is not None else None


class RegressorMethod:
    """lawfinder's pretrained model through ``lawfinder.Regressor``: ``budget.value`` samples, ``budget.seconds``
    time budget; predictions come from the Regressor's own ``predict``."""

    def __init__(self, model: str | None = None, name: str = "lawfinder", **options):
        self.model = model
        self.name = name
        self.options = options

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        return self._fit(task, budget)

    def _fit(self, task: Task, budget: Budget, **extra) -> Prediction:
        from ..inference import Regressor  # noqa: PLC0415 - imports the inference stack only when this method runs

        kwargs = {**self.options, **extra}
        if self.model is not None:
            kwargs["model"] = self.model
        if budget.value is not None:
            kwargs["n_samples"] = budget.value
        if budget.seconds is not None:
            kwargs["time_budget"] = budget.seconds
        regressor = Regressor(random_state=task.seed, **kwargs)
        regressor.fit(task.X, task.y, feature_names=task.feature_names)
        best = getattr(regressor, "best_", None)
        text = getattr(best, "expression", None) or str(best)
        return Prediction(tokens=_tokens_of(best), predict=regressor.predict, text=text)


class SkeletonOracleMethod(RegressorMethod):
    """lawfinder's constant fitting and ranking fed the true skeleton (numbers masked, constant subtrees folded)
    instead of model samples: what the pipeline recovers when the model proposes the right form, i.e. the ceiling
    that constant fitting sets for any model. Needs no trained model."""

    def __init__(self, **options):
        super().__init__(name="skeleton-oracle", **options)

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        if not task.truth:
            raise ValueError("the skeleton oracle needs task.truth")
        form = skeleton(task.truth)
        return self._fit(task, Budget(None, budget.seconds), proposer=lambda X, y: [form])


METHOD_NAMES = ("lawfinder", "pyoperon", "gplearn", "skeleton-oracle", "planted", "constant")
ORACLE_NAMES = ("skeleton-oracle", "planted", "constant")  # read task.truth, or ignore the data: no search budget
# Budget when a run names none: Flash-ANSR's default 32 samples; a short GP search for the baselines.
DEFAULT_BUDGETS = {"lawfinder": 32, "pyoperon": 25, "gplearn": 10, "skeleton-oracle": None, "planted": None,
                   "constant": None}


def make_method(name: str, model: str | None = None, device: str = "auto", n_jobs: int | None = None,
                options: dict | None = None) -> Method:
    """A method by name (see ``METHOD_NAMES``); the GP baselines raise ``ValueError`` naming the missing extra.
    ``device``, ``n_jobs`` and ``options`` (any other ``Regressor`` argument, e.g. ``refine_share``) go to
    lawfinder's Regressor (the model's device; processes fitting constants)."""
    if name == "planted":
        return PlantedMethod()
    if name == "constant":
        return ConstantMethod()
    if name == "lawfinder":
        return RegressorMethod(model=model, device=device, n_jobs=n_jobs, **(options or {}))
    if name == "skeleton-oracle":
        return SkeletonOracleMethod(n_jobs=n_jobs)
    if name in ("pyoperon", "gplearn"):
        from .baselines import GplearnMethod, OperonMethod  # noqa: PLC0415 - keeps the extras optional

        return OperonMethod() if name == "pyoperon" else GplearnMethod()
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHOD_NAMES)}")
