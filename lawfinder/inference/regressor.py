"""``lawfinder.Regressor``: the scikit-learn-style estimator users touch first.

``fit`` runs the pipeline of docs/architecture.md: propose skeletons (sample the model, or a user's ``proposer``),
turn multK/divK into free constants, simplify and deduplicate, fit constants (in-process or on the Ray FitterPool),
rank by ``log10(FVU) + parsimony * length``. The constructor only stores its arguments; learned state ends in ``_``.
"""

from __future__ import annotations

import inspect
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .candidates import default_simplifier, prepare_candidates
from .defaults import N_RESTARTS, N_SAMPLES, PARSIMONY
from .equation import Equation
from .fitting import FitConfig, draw_seed
from .parallel import fit_all, resolve_n_jobs
from .ranking import complexity, rank_order, score
from .snapping import snap
from .validate import check_X, check_Xy, check_y

SNAP_TOP = 16  # candidates, best first, whose near-integer constants are tried as integers

Proposer = Callable[[np.ndarray, np.ndarray], Iterable[Sequence[str]]]


class Regressor:
    """Neural symbolic regression: finds formulas ``y = f(X)``.

    model         checkpoint path, preset name with shipped weights, a model object, or None for the shipped model
    n_samples     sequences sampled from the model per fit (Flash-ANSR's ``choices``)
    time_budget   seconds for the whole fit; sampling and fitting stop early and keep what they have
    parsimony     score = log10(max(FVU, eps)) + parsimony * length (Flash-ANSR's lambda, 0.05)
    n_restarts    Levenberg-Marquardt restarts per candidate, each from constants ~ N(0, 5^2)
    temperature, top_k, top_p   softmax sampling; ``beam_width`` switches to beam search
    max_length    longest token sequence sampled; ``batch_size`` sequences decoded at once
    max_points    rows the model reads (a random subset of larger tables); constants are fitted on every row
    n_jobs        constant fitting: None = here, or on Ray when Ray is running; > 1 or -1 = Ray workers
    drop_nan      drop rows with NaN/inf instead of raising
    simplify      simplify candidates with lawfinder.simplipy.simplify before fitting
    proposer      callable ``(X, y) -> token lists`` used instead of the model (for baselines, tests, priors)
    device        torch device for the model
    random_state  seed for points subset, sampling and restarts
    """

    def __init__(self, model: Any = None, n_samples: int = N_SAMPLES, time_budget: float | None = None,
                 parsimony: float = PARSIMONY, n_restarts: int = N_RESTARTS, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, beam_width: int | None = None, max_length: int = 64,
                 batch_size: int = 128, max_points: int = 1024, n_jobs: int | None = None, drop_nan: bool = False,
                 simplify: bool = True, proposer: Proposer | None = None, device: str = "cpu",
                 random_state: int | None = None):
        self.model = model
        self.n_samples = n_samples
        self.time_budget = time_budget
        self.parsimony = parsimony
        self.n_restarts = n_restarts
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.beam_width = beam_width
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_points = max_points
        self.n_jobs = n_jobs
        self.drop_nan = drop_nan
        self.simplify = simplify
        self.proposer = proposer
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------------------------------ scikit-learn protocol
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "Regressor":
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(f"Regressor has no parameter {name!r}; its parameters are {self._param_names()}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = {k: v for k, v in self.get_params().items() if v is not defaults[k].default
                   and not (isinstance(v, (int, float, str)) and v == defaults[k].default)}
        return f"Regressor({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ---------------------------------------------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, feature_names: Sequence[str] | None = None) -> "Regressor":
        """Find and rank formulas for ``y`` over the columns of ``X``; returns ``self``."""
        self._check_params()
        X, y, names = check_Xy(X, y, feature_names, self.drop_nan)
        seed = draw_seed() if self.random_state is None else int(self.random_state)
        deadline = None if self.time_budget is None else time.time() + float(self.time_budget)
        proposer = self.proposer if self.proposer is not None else self._model_proposer(X.shape[1], seed, deadline)
        raw = [list(tokens) for tokens in proposer(X, y)]
        simplifier = default_simplifier() if self.simplify else None
        candidates = prepare_candidates(raw, X.shape[1], simplifier)
        if not candidates:
            raise RuntimeError(f"none of the {len(raw)} proposed sequence(s) is a valid formula over {X.shape[1]} "
                               f"variable(s); sample more (n_samples) or use a trained model")
        config = FitConfig(n_restarts=self.n_restarts)
        results = fit_all(candidates, X, y, config, seed, self.n_jobs, deadline)
        if not results:
            raise RuntimeError("the time budget ran out before any candidate was fitted; raise time_budget")
        if not any(math.isfinite(r.fvu) for r in results):
            raise RuntimeError(f"none of the {len(results)} candidate(s) gives finite values on these data; "
                               f"sample more (n_samples) or use a trained model")
        results = self._snap_best(results, X, y, simplifier, config, seed)
        lengths = [complexity(r.tokens) for r in results]
        order = rank_order([r.fvu for r in results], lengths, self.parsimony)
        self.equations_ = [
            Equation(tuple(results[i].tokens), tuple(results[i].constants), float(results[i].fvu), lengths[i],
                     score(results[i].fvu, lengths[i], self.parsimony), tuple(names))
            for i in order
        ]
        self.best_ = self.equations_[0]
        self.feature_names_in_ = list(names)
        self.n_features_in_ = X.shape[1]
        self.n_candidates_ = {"proposed": len(raw), "distinct": len(candidates), "fitted": len(results)}
        return self

    def _snap_best(self, results: list, X: np.ndarray, y: np.ndarray, simplifier, config: FitConfig,
                   seed: int) -> list:
        """Near-integer constants of the best ``SNAP_TOP`` candidates become literals when that scores no worse."""
        order = rank_order([r.fvu for r in results], [complexity(r.tokens) for r in results], self.parsimony)
        rng = np.random.default_rng(seed)
        results = list(results)
        for i in order[:SNAP_TOP]:
            results[i] = snap(results[i], X, y, self.parsimony, simplifier, config, rng)
        # A snapped form can coincide with another candidate: keep each formula once, at its best fit.
        best: dict[tuple, Any] = {}
        for r in results:
            key = tuple(r.tokens)
            if key not in best or score(r.fvu, len(key), self.parsimony) < score(best[key].fvu, len(key),
                                                                                 self.parsimony):
                best[key] = r
        return list(best.values())

    def _check_params(self) -> None:
        for name in ("n_samples", "n_restarts", "max_length", "batch_size", "max_points"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be a positive number of seconds or None, got {self.time_budget!r}")
        if not (isinstance(self.parsimony, (int, float)) and math.isfinite(self.parsimony) and self.parsimony >= 0):
            raise ValueError(f"parsimony must be a finite number >= 0, got {self.parsimony!r}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature!r}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must lie in (0, 1], got {self.top_p!r}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be a positive integer or None, got {self.top_k!r}")
        if self.beam_width is not None and self.beam_width < 1:
            raise ValueError(f"beam_width must be a positive integer or None, got {self.beam_width!r}")
        resolve_n_jobs(self.n_jobs)

    def _model_proposer(self, n_variables: int, seed: int, deadline: float | None):
        from .proposal import ModelProposer, SamplingConfig, load

        model = load(self.model, self.device)
        limit = int(model.config.max_variables)
        if n_variables > limit:
            raise ValueError(f"X has {n_variables} variables but the model reads at most {limit} "
                             f"(max_variables of its config); select at most {limit} input columns")
        sampling = SamplingConfig(self.n_samples, self.max_length, self.temperature, self.top_k, self.top_p,
                                  self.beam_width, self.batch_size, self.max_points)
        return ModelProposer(model, sampling, seed, deadline)

    # ------------------------------------------------------------------------------------------------ fitted state
    def _fitted(self) -> list[Equation]:
        if not hasattr(self, "equations_"):
            raise ValueError("this Regressor is not fitted yet: call fit(X, y) first")
        return self.equations_

    def _equation(self, index: int | None) -> Equation:
        equations = self._fitted()
        if index is None:
            return self.best_
        if not -len(equations) <= index < len(equations):
            raise ValueError(f"index {index} is out of range: there are {len(equations)} equations")
        return equations[index]

    def predict(self, X: Any, index: int | None = None) -> np.ndarray:
        """Values of the best formula (or ``equations_[index]``) on ``X``."""
        equation = self._equation(index)
        X, _ = check_X(X, self.n_features_in_)
        return equation(X)

    def score(self, X: Any, y: Any, index: int | None = None) -> float:
        """Coefficient of determination R^2 of the best formula (or ``equations_[index]``) on ``(X, y)``."""
        X, _ = check_X(X, self.n_features_in_)
        y = check_y(y, X.shape[0])
        with np.errstate(all="ignore"):
            residual = y - self.predict(X, index)
            return float(1.0 - np.dot(residual, residual) / np.sum((y - y.mean()) ** 2))

    def sympy(self, index: int | None = None):
        """The best formula (or ``equations_[index]``) as a SymPy expression over the feature names."""
        return self._equation(index).sympy()

    def latex(self, index: int | None = None) -> str:
        return self._equation(index).latex()

    def numpy(self, index: int | None = None) -> Equation:
        """A picklable callable ``f(X) -> y`` for the best formula (or ``equations_[index]``)."""
        return self._equation(index)

    # ------------------------------------------------------------------------------------------------- save/load
    def save(self, path: str | Path) -> None:
        """Write parameters and fitted equations to ``path`` (msgpack, written atomically)."""
        from .persist import save_regressor

        save_regressor(self, path)

    @classmethod
    def load(cls, path: str | Path) -> "Regressor":
        """A Regressor with the parameters and fitted equations ``save`` wrote; ValueError for any other file."""
        from .persist import load_regressor

        return load_regressor(cls, path)
