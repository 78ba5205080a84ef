"""``lawfinder.Regressor``: the scikit-learn-style estimator users touch first.

``fit`` runs the pipeline of docs/architecture.md: propose skeletons (sample the model, or a user's ``proposer``),
turn multK/divK into free constants, simplify and deduplicate, fit constants (in-process or on the Ray FitterPool),
rank by ``log10(FVU) + parsimony * length``. The constructor only stores its arguments; learned state ends in ``_``.

It is a scikit-learn estimator (``BaseEstimator``, ``RegressorMixin``; input checked by ``validate``), so it works in
``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``clone``. Reading the result: ``equations_`` (a DataFrame
with the Pareto front marked, ``pareto``), the PySR-style ``repr``, exports to SymPy, LaTeX, torch, jax, and ``plot``.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .candidates import default_simplifier
from .defaults import (EVOLVE_SHARE, EVOLVE_TOP, FINALISTS, FIT_ROWS, LINEAR_LAWS, MODEL_SELECTION, N_RESTARTS,
                       N_SAMPLES, PARSIMONY, REFINE_SHARE, REFINE_SPLICE, REFINE_TOP, RESIDUAL_TERMS, SCREEN_KEEP,
                       SCREEN_MIN, SCREEN_ROWS)
from .equation import Equation
from .feature_selection import widen
from .power_law import factored_target, power_factor, times_factor
from .canonical import SECONDS as CANONICAL_SECONDS, canonical_forms, shown_indices
from .fitting import FitConfig, draw_seed, resolve_n_jobs, substitute
from .law_checks import law_found, span_warning, underdetermined_message
from .ranking import Ranking, complexity, precision_floor
from .pareto import check_model_selection, equations_table, front_text, latex_table, select
from .search import SearchOutcome, search
from .units import describe, unit_levels
from .validate import TooManyVariables, check_fit_data, check_predict_data, check_score_target, split_targets

Proposer = Callable[[np.ndarray, np.ndarray], Iterable[Sequence[str]]]

FULL_TABLE_SEEDS = 16  # the best laws a narrower search found, refitted (and evolved) over the full table
NARROW_SHARE = 0.5     # of a time budget, what the model's search over a too-wide table's chosen columns gets


class Regressor(RegressorMixin, BaseEstimator):
    """Neural symbolic regression: finds formulas ``y = f(X)``.

    model         checkpoint path, preset name with shipped weights, a model object, or None for the shipped model
                  (default.pt; for a table with more columns than it reads, wide.pt when one is shipped)
    n_samples     sequences sampled from the model per round (Flash-ANSR's ``choices``): without a time budget one
                  round, so per fit; with ``time_budget`` every round samples this many again until time runs out
    time_budget   seconds for the whole fit: samples in rounds while time remains (anytime), then the best found
    n_rounds      sampling rounds of ``n_samples`` each (default: one without a time budget, as many as fit in it
                  with one; with both, whichever ends first)
    binary_operators, unary_operators   the operators a formula may use (PySR's names; None: all), e.g.
                  ``["+", "*", "/"]`` and ``["sin", "exp"]``; unknown names are a one-line error listing the known
    maxsize       the most tokens (complexity) a formula may have
    nested_constraints  PySR's: ``{"sin": {"sin": 0, "cos": 0}}`` allows no sin or cos inside a sin
    required_variables  feature names every formula must use
                  A returned formula never breaks these; the model is not let to sample ruled-out operators.
    select_k_features  search over only this many columns, the ones a random forest ranks most informative
                  (PySR's option; required_variables are always kept). None: every column when the model reads
                  them all, else as many as it reads (with a warning naming the ones chosen), or, when y looks like
                  a power of some columns times a law of the others, those others searched on y over the power; so
                  that a table of any width gets an answer. ``selection_mask_`` says which columns the model read
    fit_rows, finalists, screen_min, screen_keep, screen_rows   the search's work on big tables and big rounds:
                  constants fitted on at most ``fit_rows`` rows, the ``finalists`` best scored on every row and
                  snapped, rounds of more than ``screen_min`` candidates screened on ``screen_rows`` rows with only
                  ``screen_keep`` refitted in full (defaults in ``inference/defaults.py``)
    refine_share, refine_top   refinement guided by the model: from the second round on (a time budget or
                  n_rounds > 1), the model also completes the first third and two thirds of the ``refine_top`` best
                  formulas so far, ``refine_share`` x n_samples completions per round (0: off)
    refine_splice  also put the first subtree of each completion in place of the one its formula had there,
                  keeping the rest of the formula (a mutation the model proposes; False: completions only)
    evolve_share, evolve_top   evolution: from the second round on, ``evolve_share`` x n_samples mutations and
                  crossovers of the ``evolve_top`` best formulas so far join each round (``inference/evolve.py``;
                  0: off), so a time-budgeted search keeps finding new candidates until its time is spent
    residual_terms  from the second round on, each of the ``evolve_top`` best formulas (once) plus each of its
                  ``residual_terms`` best terms: those that explain most of what it misses, chosen by least squares
                  among products of two features (powers, roots, sines, exponentials, logarithms of the variables,
                  products and quotients of two, the formula's own subtrees; ``inference/residual_terms.py``; 0: off)
    linear_laws   screens per round, from the second round on: each a sparse regression of a transformed target (y, 1/y,
                  log|y|, y^2, y / f and (y / f)^2 for one of the best formulas or a variable f, and the rational
                  form y = N - y D) over products of features, whose selections become candidates; the screens are
                  queued, so more time reaches more of them (``inference/linear_laws.py``; 0: off)
    warm_start    a second ``fit`` on the same data goes on from the first one's candidates and random stream
                  (PySR's, scikit-learn's meaning): ``fit`` with n_rounds=1 twice finds what one fit with n_rounds=2
                  does; on other data it starts afresh (with a warning)
    parsimony     score = log10(max(FVU, floor)) + parsimony * length (Flash-ANSR's lambda, 0.05; the floor is
                  float64 epsilon, or what rounding y leaves when y is float32 data: ranking.precision_floor)
    n_restarts    Levenberg-Marquardt restarts per candidate, each from constants ~ N(0, 5^2)
    temperature, top_k, top_p   softmax sampling; ``beam_width`` switches to beam search
    max_length    longest token sequence sampled; ``batch_size`` sequences decoded at once
    max_points    rows the model reads (a random subset of larger tables); constants are fitted on every row
    n_jobs        constant fitting: None or -1 = every core (Ray when running, else worker processes), 1 = here
    drop_nan      drop rows with NaN/inf instead of raising
    simplify      simplify candidates with lawfinder.simplipy.simplify before fitting
    proposer      callable ``(X, y) -> token lists`` used instead of the model (for baselines, tests, priors)
    device        torch device for the model; "auto" = CUDA when there, else CPU
    random_state  seed for points subset, sampling and restarts (None: a fresh one, kept in ``random_state_``)
    model_selection  which equation ``predict`` uses: "best" (lowest log10(FVU) + parsimony * complexity,
                  Flash-ANSR's ranking), "accuracy" (lowest FVU) or "score" (highest PySR score on the Pareto front)
    verbose       show a progress bar on stderr while fitting (only when stderr is a terminal)

    Fitted attributes: ``equations_`` (DataFrame: complexity, loss = FVU, score = PySR's, higher is better,
    objective, pareto, equation, sympy, latex; best ranked first), ``candidates_`` (the same as ``Equation``
    objects), ``best_`` (the chosen one), ``best_index_``, ``n_features_in_``, ``feature_names_in_`` (ndarray of
    names, when X was a DataFrame or ``feature_names`` were given), ``n_candidates_``, ``random_state_``,
    ``fitted_on_`` (where constants were fitted: "here", "processes", "ray").
    """

    def __init__(self, model: Any = None, n_samples: int = N_SAMPLES, time_budget: float | None = None,
                 parsimony: float = PARSIMONY, n_restarts: int = N_RESTARTS, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, beam_width: int | None = None, max_length: int = 64,
                 batch_size: int = 128, max_points: int = 1024, n_jobs: int | None = None, drop_nan: bool = False,
                 simplify: bool = True, proposer: Proposer | None = None, device: str = "auto",
                 random_state: int | None = None, model_selection: str = MODEL_SELECTION, verbose: bool = False,
                 n_rounds: int | None = None, warm_start: bool = False, binary_operators: Sequence[str] | None = None,
                 unary_operators: Sequence[str] | None = None, maxsize: int | None = None,
                 nested_constraints: dict | None = None, required_variables: Sequence[str] | None = None,
                 fit_rows: int = FIT_ROWS, finalists: int = FINALISTS, screen_min: int = SCREEN_MIN,
                 screen_keep: int = SCREEN_KEEP, screen_rows: int = SCREEN_ROWS, refine_share: float = REFINE_SHARE,
                 refine_top: int = REFINE_TOP, refine_splice: bool = REFINE_SPLICE,
                 select_k_features: int | None = None, evolve_share: float = EVOLVE_SHARE,
                 evolve_top: int = EVOLVE_TOP, residual_terms: int = RESIDUAL_TERMS,
                 linear_laws: int = LINEAR_LAWS):
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
        self.model_selection = model_selection
        self.verbose = verbose
        self.n_rounds = n_rounds
        self.warm_start = warm_start
        self.binary_operators = binary_operators
        self.unary_operators = unary_operators
        self.maxsize = maxsize
        self.nested_constraints = nested_constraints
        self.required_variables = required_variables
        self.fit_rows = fit_rows
        self.finalists = finalists
        self.screen_min = screen_min
        self.screen_keep = screen_keep
        self.screen_rows = screen_rows
        self.refine_share = refine_share
        self.refine_top = refine_top
        self.refine_splice = refine_splice
        self.select_k_features = select_k_features
        self.evolve_share = evolve_share
        self.evolve_top = evolve_top
        self.residual_terms = residual_terms
        self.linear_laws = linear_laws

    # ------------------------------------------------------------------------------------------ scikit-learn protocol
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y with k columns: k laws, as PySR fits one per column
        return tags

    @classmethod
    def _param_names(cls) -> list[str]:
        return sorted(cls._get_param_names())

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        """The parameters, as scikit-learn prints them; once fitted, also the Pareto front with the chosen equation
        marked ``>>>>`` (as PySR prints its regressor)."""
        text = super().__repr__(N_CHAR_MAX)
        if not hasattr(self, "candidates_"):
            return text
        if self._targets():
            return "\n".join(f"{text}.equations_[{j}] ({name}) =\n{front_text(e.candidates_, e.best_index_)}"
                             for j, (name, e) in enumerate(zip(self.target_names_, self.estimators_)))
        return f"{text}.equations_ =\n{front_text(self.candidates_, self.best_index_)}"

    def _targets(self) -> list["Regressor"] | None:
        """The per-target Regressors of a fit on several targets, else None."""
        return getattr(self, "estimators_", None)

    # ---------------------------------------------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, feature_names: Sequence[str] | None = None, X_units: Sequence[str] | None = None,
            y_units: str | None = None, sample_weight: Any = None) -> "Regressor":
        """Find and rank formulas for ``y`` over the columns of ``X``; returns ``self``. ``feature_names`` name the
        columns of an array (a DataFrame's own column names are used otherwise). With units (SI strings such as
        ``"m/s^2"``, ``inference/units.py``), dimensionally consistent formulas rank before the rest.
        ``sample_weight`` (one per row, >= 0, e.g. 1/sigma^2 for known uncertainties) makes the constant fits
        weighted least squares and the FVU (so the ranking) weighted; rows of weight 0 are left out."""
        from ..progress import bar

        self._check_params()
        self.__dict__.pop("estimators_", None)
        self.__dict__.pop("target_names_", None)
        targets = split_targets(y)
        if targets is not None:
            return self._fit_targets(X, targets, feature_names, X_units, y_units, sample_weight)
        X, y, names, w = check_fit_data(self, X, y, feature_names, self.drop_nan, sample_weight)
        constraints = self._constraints(names)  # an unknown operator or variable is named against every column
        self._names_from_frame = feature_names is None and hasattr(self, "feature_names_in_")
        resume, seed = self._resumed(X, y, names, w)
        started = time.time()  # the time budget covers everything, loading the model included
        warning = span_warning(X, y, names)
        if warning:
            warnings.warn(warning, stacklevel=2)
        columns, plan = self._columns(X, y, w, names, seed, constraints.active)
        self.selection_mask_ = None if columns is None else np.isin(np.arange(X.shape[1]), columns)
        # The search reads the chosen columns (all of them, or ``columns``, for NARROW_SHARE of a time budget); its
        # formulas are mapped back onto the full table (``widen``) and a search over every column joins them (the
        # baselines, the narrow search's best, then evolution). With a power-law ``plan`` it searches the law of the
        # other columns on y over the power, and those laws times the power seed the full table's search.
        read = X if columns is None else X[:, list(columns)]
        read_y = y if plan is None else factored_target(X, y, *plan)
        read_constraints = constraints if columns is None else self._constraints([names[i] for i in columns])
        accept, read_accept = _acceptor(constraints), _acceptor(read_constraints)
        with bar(total=1, desc="searching formulas", unit="search", show=bool(self.verbose)) as progress:
            simplifier = default_simplifier() if self.simplify else None
            propose, refine = self._round_proposer(read, read_y, seed, read_constraints)
            budget = self.time_budget
            if columns is not None and budget is not None:  # the rest: the full table's own search
                spent = time.time() - started               # (loading the model counts to neither share)
                budget = spent + max(0.0, budget - spent) * NARROW_SHARE
            read_ranking = self._ranking(read_y, w)
            try:
                outcome = search(propose, read, read_y, simplifier,
                                 self._fit_config(read_ranking), read_ranking, seed, self.n_jobs, budget,
                                 started, self.n_rounds, resume, w, read_accept, settings=self._search_config(),
                                 refine=refine, evolve=self._evolver(read.shape[1], read_constraints),
                                 terms=self._terms(read_constraints), laws=self._laws(seed, read_constraints))
            except RuntimeError:
                if columns is None:
                    raise
                outcome = SearchOutcome([])   # nothing within its share: the full table's search still answers
            self._search_state = (_fingerprint(X, y, names, w), seed, outcome.state)
            results = list(outcome.results)
            if columns is not None:
                seeds = self._best_over(results, columns, plan, read_ranking)
                results = [] if plan is not None else [replace(r, tokens=widen(r.tokens, columns)) for r in results]
                results = _best_fits(results + self._full_table_search(X, y, w, seed, simplifier, constraints,
                                                                       started, seeds))
            # Snapping and simplifying the finalists can write another form: every kept formula keeps the constraints.
            results = [r for r in results if accept is None or accept(r.tokens)]
            if not results and not constraints.active:
                raise RuntimeError("the time budget ran out before any candidate was fitted; raise time_budget")
            if not results:
                raise RuntimeError("no candidate keeps the constraints (binary_operators, unary_operators, maxsize, "
                                   "nested_constraints, required_variables); sample more, give more time, or loosen "
                                   "them")
            progress.update()
        raws: dict = {}
        ranking = self._ranking(y, w)
        if self.simplify:  # the formulas a user sees, in their shortest form that gives the same values (bounded)
            until = time.time() + CANONICAL_SECONDS if self.time_budget is None else started + self.time_budget
            results, raws = canonical_forms(results, shown_indices(results, ranking), X, until, accept)
        lengths = [complexity(r.tokens) for r in results]
        order = ranking.order(results)
        levels = None
        if X_units is not None or y_units is not None:
            levels = unit_levels([r.tokens for r in results], X_units, y_units, X.shape[1])
        # Stable: by score within each group. A formula worse than the mean never ranks above one that is a law.
        order = sorted(order, key=lambda i: (not law_found(results[i].fvu), 0 if levels is None else levels[i]))
        # Candidates without finite values on these data (log of negatives, overflow) are not equations of them.
        self.candidates_ = [
            Equation(tuple(results[i].tokens), tuple(results[i].constants), float(results[i].fvu), lengths[i],
                     ranking.score(results[i].fvu, lengths[i]), tuple(names), X.shape[0],
                     tuple(substitute(raws[i].tokens, raws[i].constants)) if i in raws else ())
            for i in order if math.isfinite(results[i].fvu)
        ]
        self._choose()
        self.random_state_ = seed
        self.n_candidates_ = {"proposed": outcome.proposed, "distinct": outcome.distinct, "fitted": outcome.fitted,
                              "skipped": outcome.skipped, "rounds": outcome.rounds}
        self.fitted_on_ = sorted(outcome.fitted_on)  # where constants were fitted: "here", "processes", "ray"
        self.found_ = law_found(self.best_.fvu) and not self.best_.underdetermined
        if self.best_.underdetermined:
            warnings.warn(underdetermined_message(self.best_.expression, X.shape[0], len(self.best_.constants)),
                          stacklevel=2)
        self.units_ = None if levels is None else describe(
            unit_levels([self.best_.skeleton], X_units, y_units, X.shape[1])[0], X_units, y_units, names)
        return self

    def _columns(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, names: Sequence[str], seed: int,
                 constrained: bool) -> tuple[tuple[int, ...] | None, tuple | None]:
        """(the columns the search reads, or None for all of them; a power-law plan or None). A table wider than the
        model reads is narrowed to the columns a random forest ranks first (``select_k_features``), unless y looks
        like a power of some columns times a law of as many others as the model reads (``power_law.power_factor``;
        not with required variables or operator constraints): then the model reads those others."""
        from .feature_selection import select_columns

        n_columns, k = X.shape[1], self.select_k_features
        limit = None if self.proposer is not None else self._model_width(n_columns)
        if k is None and (limit is None or n_columns <= limit):
            return None, None
        if k is not None and limit is not None and k > limit:
            raise TooManyVariables(f"select_k_features={k} but the model reads at most {limit} columns")
        if k is not None and k >= n_columns:
            return None, None
        note = f"X has {n_columns} columns but the model reads at most {limit}: "
        if k is None and not self.required_variables and not constrained:
            plan = power_factor(X, y, limit)
            if plan is not None and np.all(np.isfinite(factored_target(X, y, *plan))):
                rest = tuple(j for j in range(n_columns) if j not in plan[0])
                warnings.warn(note + f"y looks like a power of ({', '.join(names[j] for j in plan[0])}) times a law "
                              f"of ({', '.join(names[j] for j in rest)}); searching that law on y over the power, "
                              f"besides the affine and power-law formulas of every column", stacklevel=3)
                return rest, plan
        required = [list(names).index(v) for v in (self.required_variables or ())]
        columns = select_columns(X, y, k or limit, w, required, seed)
        if k is None:
            warnings.warn(note + f"searching over the {limit} a random forest ranks most informative "
                          f"({', '.join(names[i] for i in columns)}); pass select_k_features to choose how many, "
                          f"or a model that reads more", stacklevel=3)
        return columns, None

    def _best_over(self, found: list, columns: tuple[int, ...], plan: tuple | None,
                   ranking: Ranking) -> list[list[str]]:
        """The ``FULL_TABLE_SEEDS`` best formulas a search over ``columns`` found (ranked), as skeletons over the full
        table: widened, and times the power of a power-law ``plan`` (whose search was of y over the power)."""
        order = ranking.order(found)
        widened = (widen(found[i].tokens, columns) for i in order[:FULL_TABLE_SEEDS])
        if plan is None:
            return list(widened)
        composed = (times_factor(tokens, *plan) for tokens in widened)
        return [tokens for tokens in composed if tokens is not None]

    def _full_table_search(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, seed: int, simplifier,
                           constraints, started: float, seeds: Sequence[Sequence[str]] = ()) -> list:
        """A search over every column of a table the model read only part of: its first round fits the
        ``baselines`` (affine, power laws) and the ``seeds`` (the narrower search's best, over the full table), so
        that a law of all the columns can still be found and the answer is never worse than linear regression on all
        of them; with a time budget, evolution (``evolve_share``) then changes the best of them, over every column,
        until the budget is spent."""
        from .proposal import baselines

        accept = _acceptor(constraints)
        first = baselines(X, y) + [list(t) for t in seeds]
        evolve = None if self.time_budget is None else self._evolver(X.shape[1], constraints)
        ranking = self._ranking(y, w)
        try:
            outcome = search(lambda round_, deadline: first if round_ == 0 else [], X, y, simplifier,
                             self._fit_config(ranking), ranking, seed,
                             1 if evolve is None else self.n_jobs, self.time_budget, started,
                             1 if evolve is None else None, None, w, accept, settings=self._search_config(),
                             evolve=evolve, terms=None if evolve is None else self._terms(constraints),
                             laws=None if evolve is None else self._laws(seed, constraints))
        except RuntimeError:  # the constraints rule every baseline out, or no time was left: the model's formulas
            return []         # stand alone (fit names the problem when there are none either)
        return list(outcome.results)

    def _ranking(self, y: np.ndarray, w: np.ndarray | None) -> Ranking:
        """How a search on target ``y`` ranks its candidates: this parsimony, and the FVU floor of ``y``'s precision."""
        return Ranking(self.parsimony, precision_floor(y, w))

    def _fit_config(self, ranking: Ranking) -> FitConfig:
        """The constant fit's settings: the restarts stop once a fit reaches the ranking's floor (none can beat it)."""
        return FitConfig(n_restarts=self.n_restarts, exact_fvu=ranking.floor)

    def _model_width(self, n_columns: int) -> int:
        from .proposal import model_width

        return model_width(self.model, n_columns)

    def _resumed(self, X: np.ndarray, y: np.ndarray, names: Sequence[str], w: np.ndarray | None = None):
        """(search state to go on from or None, seed): with ``warm_start`` and a previous fit on the same data, that
        fit's state and seed; else a fresh start (the given random_state, or a new seed)."""
        previous = getattr(self, "_search_state", None) if self.warm_start else None
        if previous is not None:
            if previous[0] == _fingerprint(X, y, names, w):
                return previous[2], previous[1]
            warnings.warn("warm_start: these are not the data of the previous fit; starting afresh", stacklevel=3)
        return None, draw_seed() if self.random_state is None else int(self.random_state)

    def _fit_targets(self, X: Any, targets: list[tuple[str, Any]], feature_names, X_units, y_units,
                     sample_weight: Any = None) -> "Regressor":
        """One law per target column, each by a clone of this Regressor with the same seed and an equal share of
        the time budget; the fitted attributes become lists, one entry per target."""
        from sklearn.base import clone

        if y_units is not None and (isinstance(y_units, str) or len(y_units) != len(targets)):
            raise ValueError(f"y_units must give one unit per target ({len(targets)}), got {y_units!r}")
        seed = draw_seed() if self.random_state is None else int(self.random_state)
        budget = None if self.time_budget is None else self.time_budget / len(targets)
        previous = getattr(self, "_previous_targets", None) if self.warm_start else None
        if previous is None or len(previous) != len(targets):
            previous = [None] * len(targets)
        else:
            seed = previous[0].random_state_
        subs = []
        for j, (name, column) in enumerate(targets):
            sub = previous[j] or clone(self)
            sub.set_params(**{**self.get_params(), "random_state": seed, "time_budget": budget})
            try:
                sub.fit(X, column, feature_names=feature_names, X_units=X_units,
                        y_units=None if y_units is None else y_units[j], sample_weight=sample_weight)
            except ValueError as error:
                raise ValueError(f"target {name!r}: {error}") from None
            subs.append(sub)
        self._adopt_targets(subs, [name for name, _ in targets])
        self._previous_targets = subs
        self.random_state_ = seed
        return self

    def _adopt_targets(self, subs: list["Regressor"], names: list[str]) -> None:
        """Take fitted per-target Regressors as this one's fit: ``estimators_``, ``target_names_``, and every fitted
        attribute as a list with one entry per target."""
        first = subs[0]
        self.estimators_, self.target_names_ = subs, list(names)
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        self._names_from_frame = first._names_from_frame
        for attr in ("candidates_", "best_", "best_index_", "found_", "n_candidates_", "units_", "selection_mask_"):
            setattr(self, attr, [getattr(sub, attr, None) for sub in subs])

    def _choose(self) -> None:
        """``best_`` and ``best_index_`` from ``candidates_`` and ``model_selection``."""
        self.best_index_ = select(self.candidates_, self.model_selection)
        self.best_ = self.candidates_[self.best_index_]

    def _check_params(self) -> None:
        for name in ("n_samples", "n_restarts", "max_length", "batch_size", "max_points"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("residual_terms", "linear_laws"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.n_rounds is not None and (not isinstance(self.n_rounds, (int, np.integer)) or self.n_rounds < 1):
            raise ValueError(f"n_rounds must be a positive integer or None, got {self.n_rounds!r}")
        for name in ("refine_share", "evolve_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
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
        k = self.select_k_features
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
            raise ValueError(f"select_k_features must be a positive integer or None, got {k!r}")
        resolve_n_jobs(self.n_jobs)
        check_model_selection(self.model_selection)
        self._search_config()  # a bad fit_rows, finalists or screen setting is named here

    def _search_config(self):
        from .search import SearchConfig

        return SearchConfig(self.fit_rows, self.finalists, self.screen_min, self.screen_keep, self.screen_rows,
                            self.refine_top, self.refine_splice, self.evolve_top)

    def _constraints(self, names: Sequence[str]):
        from .constraints import Constraints

        return Constraints.from_params(self.binary_operators, self.unary_operators, self.maxsize,
                                       self.nested_constraints, self.required_variables, names)

    def _round_proposer(self, X: np.ndarray, y: np.ndarray, seed: int, constraints=None):
        """``(propose(round, deadline), refine)`` for ``search``: the user's proposer as it is (no refinement), or the
        model, reseeded (and never sampling an operator the constraints rule out), whose ``refine(prefixes,
        deadline)`` completes the best formulas' prefixes with ``refine_share`` of ``n_samples`` per round."""
        if self.proposer is not None:
            return (lambda round_, deadline: self.proposer(X, y)), None
        from .proposal import ModelProposer, in_rounds

        proposer = self._model_proposer(X.shape[1], seed, None)
        if constraints is not None and isinstance(proposer, ModelProposer):
            proposer.banned_tokens = tuple(constraints.banned_tokens())
        if not isinstance(proposer, ModelProposer) or self.refine_share <= 0 or self.beam_width:
            return in_rounds(proposer, X, y), None

        def refine(prefixes, deadline):
            n_each = max(1, round(self.refine_share * self.n_samples / max(1, len(prefixes))))
            return proposer.complete(X, y, prefixes, n_each)

        return in_rounds(proposer, X, y), refine

    def _evolver(self, n_variables: int, constraints=None):
        """``evolve(parents, rng)`` for ``search``: ``evolve_share`` x n_samples children per round, written only with
        what the constraints allow; None when evolution is off or the user's proposer stands in for the model."""
        from .evolve import Vocabulary, offspring

        n = round(self.evolve_share * self.n_samples)
        if self.proposer is not None or n < 1:
            return None
        vocab = Vocabulary(n_variables, constraints.allows if constraints is not None and constraints.active else None)
        return lambda parents, rng: offspring(parents, n, vocab, rng)

    def _terms(self, constraints=None):
        """``terms(parents, X, y, w)`` for ``search``: each parent plus its ``residual_terms`` best terms, written only
        with what the constraints allow; None when off or when the user's proposer stands in for the model."""
        from .residual_terms import term_children

        if self.proposer is not None or self.residual_terms < 1:
            return None
        allows = constraints.allows if constraints is not None and constraints.active else None
        return lambda parents, X, y, w: term_children(parents, X, y, w, self.residual_terms, allows)

    def _laws(self, seed: int, constraints=None):
        """A fresh ``laws`` queue for one ``search`` (``linear_laws.LinearLaws``), written only with what the
        constraints allow; None when off or when the user's proposer stands in for the model."""
        from .linear_laws import LinearLaws

        if self.proposer is not None or self.linear_laws < 1:
            return None
        allows = constraints.allows if constraints is not None and constraints.active else None
        return LinearLaws(self.linear_laws, allows, seed)

    def _model_proposer(self, n_variables: int, seed: int, deadline: float | None):
        from .proposal import ModelProposer, SamplingConfig, load

        model = load(self.model, self.device, n_variables)
        limit = int(model.config.max_variables)
        if n_variables > limit:
            raise TooManyVariables(f"X has {n_variables} variables but the model reads at most {limit} "
                             f"(max_variables of its config); select at most {limit} input columns")
        sampling = SamplingConfig(n_samples=self.n_samples, max_length=self.max_length, temperature=self.temperature,
                                  top_k=self.top_k, top_p=self.top_p, beam_width=self.beam_width,
                                  batch_size=self.batch_size, max_points=self.max_points)
        return ModelProposer(model, sampling, seed, deadline)

    # ------------------------------------------------------------------------------------------------ fitted state
    def _equation(self, index: int | None) -> Equation:
        check_is_fitted(self, "candidates_")
        if index is None:
            return self.best_
        equations = self.candidates_
        if not isinstance(index, (int, np.integer)) or not -len(equations) <= index < len(equations):
            raise ValueError(f"index {index!r} is out of range: there are {len(equations)} equations")
        return equations[index]

    @property
    def equations_(self):
        """Every fitted equation, best ranked first, as a pandas DataFrame (a list of dicts without pandas):
        complexity, loss (FVU), score (PySR's, higher is better; NaN off the Pareto front), objective
        (log10(FVU) + parsimony * complexity, lower is better), pareto, equation, sympy, latex, underdetermined.
        After a fit on several targets: a list of such tables, one per target."""
        check_is_fitted(self, "candidates_")
        if self._targets():
            return [sub.equations_ for sub in self._targets()]
        # SymPy and LaTeX for every row take ~2 ms each: built once per fit, a copy handed out each time.
        cached = getattr(self, "_equations_table", None)
        if cached is None or cached[0] is not self.candidates_:
            cached = self._equations_table = (self.candidates_, equations_table(self.candidates_))
        table = cached[1]
        return table.copy() if hasattr(table, "copy") else list(table)

    def predict(self, X: Any, index: int | None = None) -> np.ndarray:
        """Values of the chosen formula (or row ``index`` of ``equations_``) on ``X``; a DataFrame's columns are
        matched by name. After a fit on several targets: (n, k), one column per target."""
        if self._targets():
            return np.column_stack([sub.predict(X, index) for sub in self._targets()])
        equation = self._equation(index)
        X = check_predict_data(self, X, getattr(self, "_names_from_frame", False))
        with np.errstate(all="ignore"):
            return np.asarray(equation(X), dtype=np.float64)

    def score(self, X: Any, y: Any, index: int | None = None, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of the chosen formula (or row ``index``) on ``(X, y)``; after a fit on
        several targets, the mean over them (scikit-learn's ``uniform_average``)."""
        from sklearn.metrics import r2_score

        prediction = self.predict(X, index)
        if self._targets():
            y = np.asarray(y, dtype=np.float64)
            if y.shape != prediction.shape:
                raise ValueError(f"y has shape {y.shape} but the fit has {prediction.shape[1]} targets for "
                                 f"{prediction.shape[0]} rows")
            if not np.all(np.isfinite(prediction)):
                return -math.inf
            return float(r2_score(y, prediction, sample_weight=sample_weight, multioutput="uniform_average"))
        y = check_score_target(y, prediction.shape[0])
        if not np.all(np.isfinite(prediction)):
            return -math.inf  # a formula undefined on some rows explains nothing there
        return float(r2_score(y, prediction, sample_weight=sample_weight))

    def sympy(self, index: int | None = None):
        """The chosen formula (or row ``index``) as a SymPy expression over the feature names (a list of them, one per
        target, after a fit on several)."""
        if self._targets():
            return [sub.sympy(index) for sub in self._targets()]
        return self._equation(index).sympy()

    def latex(self, index: int | None = None, precision: int = 3) -> str:
        """LaTeX of the chosen formula (or row ``index``), constants to ``precision`` significant digits (a list,
        one per target, after a fit on several)."""
        if self._targets():
            return [sub.latex(index, precision) for sub in self._targets()]
        return self._equation(index).latex(precision)

    def latex_table(self, precision: int = 3) -> str:
        """The Pareto front as a LaTeX table (equation, complexity, FVU), simplest first (a list, one per target,
        after a fit on several)."""
        check_is_fitted(self, "candidates_")
        if self._targets():
            return [sub.latex_table(precision) for sub in self._targets()]
        return latex_table(self.candidates_, precision)

    def numpy(self, index: int | None = None) -> Equation:
        """A picklable callable ``f(X) -> y`` for the chosen formula (or row ``index``); a list after a fit on
        several targets."""
        if self._targets():
            return [sub.numpy(index) for sub in self._targets()]
        return self._equation(index)

    def pytorch(self, index: int | None = None):
        """The chosen formula (or row ``index``) as a ``torch.nn.Module`` with its constants as parameters; a list
        after a fit on several targets."""
        if self._targets():
            return [sub.pytorch(index) for sub in self._targets()]
        return self._equation(index).pytorch()

    def jax(self, index: int | None = None) -> dict:
        """``{"callable": f, "parameters": constants}`` for jax (``f(X, parameters)``, jit-able); needs jax. A list
        after a fit on several targets."""
        if self._targets():
            return [sub.jax(index) for sub in self._targets()]
        try:
            return self._equation(index).jax()
        except ImportError:
            raise ImportError("Regressor.jax() needs jax: pip install jax") from None

    def plot(self, X: Any, y: Any, path: str | Path | None = None, index: int | None = None):
        """Predicted against observed values and the Pareto front (complexity vs FVU) with the chosen equation
        marked; written to ``path`` when given. Returns the matplotlib figure (needs the ``plots`` extra)."""
        from .plots import plot_fit

        if self._targets():
            raise ValueError(f"plot draws one law: after a fit on {len(self._targets())} targets, plot one with "
                             f"model.estimators_[j].plot(X, y[:, j], path)")
        equation = self._equation(index)
        prediction = self.predict(X, index)
        observed = check_score_target(y, prediction.shape[0])
        return plot_fit(self.candidates_, self.candidates_.index(equation), observed, prediction, path)

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


def _best_fits(results: list) -> list:
    """Each formula once, at its lowest FVU (the full table's search refits the narrower search's best)."""
    best: dict = {}
    for r in results:
        key = tuple(r.tokens)
        if key not in best or r.fvu < best[key].fvu:
            best[key] = r
    return list(best.values())


def _acceptor(constraints) -> Callable[[Sequence[str]], bool] | None:
    """``accept(tokens)`` for the search: whether a formula keeps the user's constraints; None without any."""
    return (lambda tokens: constraints.violation(tokens) is None) if constraints.active else None


def _fingerprint(X: np.ndarray, y: np.ndarray, names: Sequence[str], w: np.ndarray | None = None) -> str:
    """Identifies a fit's data (and weights), so that ``warm_start`` goes on only from a fit on the same table."""
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    digest.update(b"" if w is None else np.ascontiguousarray(w).tobytes())
    digest.update("\x00".join(names).encode())
    return digest.hexdigest()
