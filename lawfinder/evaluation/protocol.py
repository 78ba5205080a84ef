"""The method protocol the harness drives: a ``Task`` and a ``Budget`` in, a ``Prediction`` out.

A method is anything with a ``name`` and ``fit_predict(task, budget) -> Prediction``. It may read ``task.X`` and
``task.y`` only; ``task.truth`` exists for the planted oracle, which calibrates the harness (it must score 100%).
Every method module (``methods``, ``baselines``) builds on this one and none on another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from ..simplipy import compile as compile_expression
from ..simplipy import normalize


@dataclass(frozen=True)
class Budget:
    """How much search a method may spend on one problem.

    ``value`` is the method's own characteristic knob (as in Flash-ANSR's Table 1): sampled candidates for
    lawfinder, generations for the genetic baselines. ``seconds`` is a wall-clock cap where a method supports one.
    The harness measures the wall time actually spent, so methods are compared on that axis.
    """

    value: int | None = None
    seconds: float | None = None

    def label(self) -> str:
        parts = []
        if self.value is not None:
            parts.append(str(self.value))
        if self.seconds is not None:
            parts.append(f"{self.seconds:g}s")
        return "+".join(parts) or "default"


@dataclass
class Task:
    """One problem: fit data (``X`` float array (n, d), ``y`` (n,)), column names, and the truth (oracles only)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    truth: tuple[str, ...] = ()
    seed: int = 0


@dataclass
class Prediction:
    """What a method returns: prefix tokens with fitted constants as literal numbers (``None`` where the method's
    output could not be read as an expression), and ``predict(X) -> y`` used for every numeric score."""

    tokens: list[str] | None
    predict: Callable[[np.ndarray], np.ndarray]
    text: str = ""
    info: dict = field(default_factory=dict)


class Method(Protocol):
    name: str

    def fit_predict(self, task: Task, budget: Budget) -> Prediction: ...


def prediction_from_tokens(tokens: Sequence[str], text: str = "", **info) -> Prediction:
    """A prediction evaluated by lawfinder's compiler in float64, the same for every method that yields tokens."""
    tokens = normalize(tokens)
    f = compile_expression(tokens)
    return Prediction(tokens=tokens, predict=lambda X: f(np.asarray(X, dtype=np.float64)), text=text, info=info)
