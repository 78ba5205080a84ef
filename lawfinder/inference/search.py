"""The search behind ``Regressor.fit``: propose, simplify, dedupe, fit, rank, snap; in rounds while time remains.

Without a time budget it is one round of ``n_samples`` proposals. With one (``Regressor(time_budget=S)``,
``lawfinder fit --time-budget S``) it is anytime: round after round of fresh samples (a new seed each), keeping only
skeletons not seen before, until the time is spent; then the best found is returned. Every phase honours the
deadline: sampling and fitting stop starting work when it passes, and the last phase (finalists scored on every row,
then snapped) has ``FINAL_SHARE`` of the budget kept for it and checks the clock between candidates.

Fit only what can win: a candidate whose length alone already scores worse than the best so far (even an exact fit
scores ``log10(floor) + parsimony * length``, ``ranking.Ranking``) is not fitted; rounds with many candidates are
screened first with cheap fits (``SCREEN``, on ``screen_rows`` rows) and only the best ``screen_keep`` get the full
restarts.

Bounded work on big tables: constants are fitted on at most ``fit_rows`` rows (a random subsample) and the
``finalists`` best are then scored on all rows, so a million-row table costs a few finalist evaluations more than a
small one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .candidates import prepare_candidates
from .defaults import (EVOLVE_TOP, FINALISTS, FIT_ROWS, REFINE_SPLICE, REFINE_TOP, SCREEN_KEEP, SCREEN_MIN,
                       SCREEN_ROWS)
from .fitting import (FitConfig, FitResult, backend, effective_rows, fit_all, fvu_at, keeps_fit, normalized_weights,
                      snap, subsample, weighted_var)
from .ranking import Ranking
from ..simplipy import CONSTANT
from ..simplipy.tokens import subtree_end

FINAL_SHARE = 0.05    # share of a time budget kept for scoring and snapping the finalists
SCREEN = FitConfig(n_restarts=2, scan_rounds=1)
SCALE_RANGE = (1e-4, 1e4)  # y with an RMS outside this: every candidate gets an outer scale constant


def with_scale(candidates: list[list[str]], y: np.ndarray) -> list[list[str]]:
    """When y is far from 1 in magnitude (6.674e-11 * m1 * m2 / r^2), candidates without any constant become
    ``C * candidate``, so a skeleton of the right form reaches any magnitude (one exact linear solve). Candidates with
    constants keep their form: the fitting reaches any magnitude for those already."""
    peak = float(np.max(np.abs(y)))
    rms = peak * float(np.sqrt(np.mean(np.square(y / peak)))) if 0 < peak < np.inf else peak  # no overflow
    if SCALE_RANGE[0] <= rms <= SCALE_RANGE[1]:
        return candidates
    return [c if CONSTANT in c else ["*", CONSTANT, *c] for c in candidates]


@dataclass(frozen=True)
class SearchConfig:
    """How much work the search spends on big tables and big rounds (defaults in ``defaults.py``; the Regressor
    takes each as an argument of the same name, so GridSearchCV can tune them)."""
    fit_rows: int = FIT_ROWS          # constants are fitted on at most this many rows
    finalists: int = FINALISTS        # best candidates scored on every row and tried with integer constants
    screen_min: int = SCREEN_MIN      # a round with more new candidates than this is screened first
    screen_keep: int = SCREEN_KEEP    # ... and only this many of them get the full restarts
    screen_rows: int = SCREEN_ROWS    # rows the screening fits see
    refine_top: int = REFINE_TOP      # the best formulas whose prefixes the model completes (with a refiner)
    refine_splice: bool = REFINE_SPLICE  # also splice each completion's first new subtree into its formula
    evolve_top: int = EVOLVE_TOP      # the best formulas whose mutations and crossovers join each round (with evolve)

    def __post_init__(self):
        for name in ("fit_rows", "finalists", "screen_min", "screen_keep", "screen_rows", "refine_top", "evolve_top"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.refine_splice, (bool, np.bool_)):
            raise ValueError(f"refine_splice must be True or False, got {self.refine_splice!r}")


@dataclass
class SearchState:
    """What a search has found so far, so that a later call can go on from it (``Regressor(warm_start=True)``):
    the skeletons already proposed, each formula at its best fit, and the counts."""
    seen: set = field(default_factory=set)
    by_formula: dict = field(default_factory=dict)
    rounds: int = 0
    proposed: int = 0
    distinct: int = 0
    fitted: int = 0
    skipped: int = 0


@dataclass
class SearchOutcome:
    results: list[FitResult]            # distinct formulas, each at its best fit; FVU on every row for finalists
    proposed: int = 0
    distinct: int = 0
    fitted: int = 0
    rounds: int = 0
    skipped: int = 0                    # dominated by length before fitting
    refused: int = 0                    # broke the user's constraints (this call)
    log: list[str] = field(default_factory=list)
    state: SearchState | None = None    # to go on from (the counts above are totals over every call)
    fitted_on: set = field(default_factory=set)   # where this call's rounds fitted constants: here, processes, ray


def best_formulas(by_formula: dict, ranking: Ranking, top: int) -> list[FitResult]:
    """The ``top`` best-scoring formulas with finite values, best first."""
    return sorted((r for r in by_formula.values() if math.isfinite(r.fvu)), key=ranking.of)[:top]


def refine_cuts(ranked: Sequence[FitResult]) -> list[tuple[list[str], list[str]]]:
    """``(prefix, formula)`` pairs: the formulas of ``ranked`` (the best so far, best first: ``best_formulas``), each
    cut after a third and after two thirds of its tokens (each prefix at least one token and short of the whole),
    each prefix once (from the best formula that has it). The prefixes are what the model is asked to complete in a
    refinement round; the formulas are where ``spliced`` puts the completions' new subtrees."""
    out: list[tuple[list[str], list[str]]] = []
    for r in ranked:
        n = len(r.tokens)
        for cut in sorted({max(1, n // 3), max(1, (2 * n) // 3)}):
            prefix = list(r.tokens[:cut])
            if cut < n and all(prefix != p for p, _ in out):
                out.append((prefix, list(r.tokens)))
    return out


def _begins_with(tokens: Sequence[str], prefix: Sequence[str]) -> bool:
    """Whether ``tokens`` starts with ``prefix`` as the model wrote it (numbers it cannot spell became constants)."""
    return len(tokens) > len(prefix) and all(a == b or a == CONSTANT for a, b in zip(tokens, prefix))


def spliced(completions: Sequence[Sequence[str]], cuts: Sequence[tuple[list[str], list[str]]]) -> list[list[str]]:
    """Mutations guided by the model: for each completion of a prefix, the subtree the model wrote where the prefix
    ends, put in place of the subtree the formula had there, the rest of the formula kept. Completion alone rewrites
    everything after the cut; the splice changes one subtree and keeps a good formula's later terms. A completion is
    matched to the longest prefix it begins with; one whose subtree is unfinished gives nothing."""
    out = []
    by_length = sorted(cuts, key=lambda cut: -len(cut[0]))
    for completion in completions:
        for prefix, formula in by_length:
            if _begins_with(completion, prefix):
                new_end, old_end = subtree_end(completion, len(prefix)), subtree_end(formula, len(prefix))
                if new_end is not None and old_end is not None:
                    out.append([*formula[:len(prefix)], *completion[len(prefix):new_end], *formula[old_end:]])
                break
    return out


def rescored(r: FitResult, X: np.ndarray, y: np.ndarray, var_y: float, w: np.ndarray | None = None) -> FitResult:
    """``r`` with its FVU measured on ``(X, y)`` at its fitted constants (no refit)."""
    with np.errstate(all="ignore"):
        return FitResult(r.tokens, r.constants, fvu_at(r.tokens, r.constants, X, y, var_y, w), r.n_restarts)


def _fit_round(candidates: list[list[str]], X: np.ndarray, y: np.ndarray, config: FitConfig, seed: int,
               n_jobs: int | None, deadline: float | None, ranking: Ranking,
               w: np.ndarray | None = None, settings: SearchConfig = SearchConfig()) -> list[FitResult]:
    if len(candidates) <= settings.screen_min:
        return fit_all(candidates, X, y, config, seed, n_jobs, deadline, w)
    # Screening: two restarts on screen_rows rows, then every screened fit scored on all fit rows (no refit).
    Xs, ys, ws = subsample(X, y, settings.screen_rows, np.random.default_rng(seed), w)
    if not np.var(ys) > 0:
        Xs, ys, ws = X, y, w
    var_y = weighted_var(y, w)
    screened = [rescored(r, X, y, var_y, w) for r in fit_all(candidates, Xs, ys, SCREEN, seed, n_jobs, deadline, ws)]
    order = ranking.order(screened)
    keep = [screened[i].tokens for i in order[:settings.screen_keep]]
    full = {tuple(r.tokens): r for r in fit_all(keep, X, y, config, seed, n_jobs, deadline, w)}
    return [full[key] if (key := tuple(r.tokens)) in full and full[key].fvu <= r.fvu else r for r in screened]


def search(propose: Callable[[int, float | None], list[list[str]]], X: np.ndarray, y: np.ndarray,
           simplifier: Callable | None, config: FitConfig, ranking: Ranking, seed: int, n_jobs: int | None = None,
           time_budget: float | None = None, started: float | None = None, rounds: int | None = None,
           resume: SearchState | None = None, w: np.ndarray | None = None,
           accept: Callable[[list[str]], bool] | None = None,
           settings: SearchConfig | None = None,
           refine: Callable[[list[list[str]], float | None], list[list[str]]] | None = None,
           evolve: Callable[[list[list[str]], np.random.Generator], list[list[str]]] | None = None,
           terms: Callable[[list[FitResult], np.ndarray, np.ndarray, np.ndarray | None], list[list[str]]] | None = None,
           laws: Callable[[list[FitResult], np.ndarray, np.ndarray, np.ndarray | None], list[list[str]]] | None = None
           ) -> SearchOutcome:
    """Run the search; ``propose(round, deadline)`` returns raw token lists (a new draw each round).

    ``time_budget`` counts from ``started`` (a ``time.time()`` value; default now). ``rounds`` caps the rounds of
    this call (default: one without a time budget, as many as the time allows with one). ``resume`` goes on from an
    earlier call's ``outcome.state`` on the same data: its formulas compete, its skeletons are not fitted again and
    the rounds (and so the proposals' and fits' seeds) continue where it stopped. ``w`` (n,) positive row weights
    make every fit and FVU weighted; ``accept`` (the user's constraints) drops candidates before they are fitted;
    ``settings`` bound the work on big tables and rounds (``SearchConfig``); ``ranking`` orders the candidates
    (parsimony and the FVU floor of these data: ``ranking.precision_floor``). ``refine(prefixes, deadline)`` (the
    model completing the prefixes of the best formulas so far, ``refine_cuts``) adds to every round after the
    first, sharing its deadline; so does ``evolve(parents, rng)`` (children of the ``settings.evolve_top`` best
    formulas so far, best first: ``evolve.offspring``), whose rounds never run dry while time remains; and
    ``terms(parents, X, y, w)`` (each of those best formulas not extended before plus the terms that best explain its
    residual on the fit rows: ``residual_terms.term_children``). ``laws(parents, X, y, w)`` (a
    ``linear_laws.LinearLaws``: the next few screens of its queue, sparse regressions on transformed targets, some
    divided by those best formulas) adds to every round after the first, like them.
    Raises RuntimeError when nothing could be fitted (no valid candidate, or the time
    ran out first)."""
    start = time.time() if started is None else started
    deadline = None if time_budget is None else start + time_budget
    work_deadline = None if time_budget is None else start + time_budget * (1.0 - FINAL_SHARE)
    rng = np.random.default_rng(seed)
    settings = settings or SearchConfig()
    w = normalized_weights(w, y.shape[0])
    Xf, yf, wf = subsample(X, y, settings.fit_rows, rng, w)
    state = resume or SearchState()
    out = SearchOutcome([], state.proposed, state.distinct, state.fitted, state.rounds, state.skipped)
    seen: set[tuple[str, ...]] = set(state.seen)
    by_formula: dict[tuple[str, ...], FitResult] = dict(state.by_formula)
    first_round = out.rounds
    extended: set[tuple[str, ...]] = set()   # formulas whose residual terms were already proposed
    while True:
        raw = [list(t) for t in propose(out.rounds, work_deadline)]
        # The best formulas so far, ranked once per round for both ways of going on from them.
        goes_on = out.rounds > 0 and bool(by_formula) and (refine is not None or evolve is not None
                                                           or terms is not None or laws is not None)
        ranked = best_formulas(by_formula, ranking, max(settings.refine_top, settings.evolve_top)) if goes_on else []
        if refine is not None and ranked:
            cuts = refine_cuts(ranked[:settings.refine_top])
            completions = [list(t) for t in refine([p for p, _ in cuts], work_deadline)] if cuts else []
            raw += completions + (spliced(completions, cuts) if settings.refine_splice else [])
        if evolve is not None and ranked:
            parents = [r.tokens for r in ranked[:settings.evolve_top]]
            raw += [list(t) for t in evolve(parents, np.random.default_rng([abs(int(seed)), out.rounds]))]
        if terms is not None and ranked:
            fresh = [r for r in ranked[:settings.evolve_top] if tuple(r.tokens) not in extended]
            extended.update(tuple(r.tokens) for r in fresh)
            raw += [list(t) for t in terms(fresh, Xf, yf, wf)] if fresh else []
        if laws is not None and goes_on:
            raw += [list(t) for t in laws(ranked[:settings.evolve_top], Xf, yf, wf)]
        out.rounds += 1
        out.proposed += len(raw)
        prepared = [c for c in with_scale(prepare_candidates(raw, X.shape[1], simplifier), y) if tuple(c) not in seen]
        candidates = [c for c in prepared if accept is None or accept(c)]
        out.refused += len(prepared) - len(candidates)
        seen.update(tuple(c) for c in candidates)
        out.distinct += len(candidates)
        limit = ranking.longest_that_can_win(min(map(ranking.of, by_formula.values()), default=math.inf))
        worth = [c for c in candidates if len(c) < limit]
        out.skipped += len(candidates) - len(worth)
        # Shorter first: an early exact fit makes every longer candidate dominated.
        worth.sort(key=len)
        if worth:
            out.fitted_on.add(backend(n_jobs, len(worth) if len(worth) <= settings.screen_min else
                                      settings.screen_keep))
        fitted = _fit_round(worth, Xf, yf, config, seed + out.rounds - 1, n_jobs, work_deadline, ranking, wf,
                            settings)
        out.fitted += len(fitted)
        for r in fitted:
            key = tuple(r.tokens)
            if key not in by_formula or r.fvu < by_formula[key].fvu:
                by_formula[key] = r
        done = out.rounds - first_round
        # A round with nothing new ends the search, unless evolution can still write new children next round or
        # screens of linear laws are left.
        dry = not candidates and (evolve is None or not by_formula) and not getattr(laws, "pending", False)
        if (rounds is not None and done >= rounds) or (rounds is None and time_budget is None) or dry \
                or (time_budget is not None and time.time() >= work_deadline):
            break
    out.state = SearchState(seen, dict(by_formula), out.rounds, out.proposed, out.distinct, out.fitted, out.skipped)
    results = list(by_formula.values())
    if not results:
        if out.distinct == 0 and out.refused:
            raise RuntimeError(f"no candidate keeps the constraints (binary_operators, unary_operators, maxsize, "
                               f"nested_constraints, required_variables): all {out.refused} broke them; sample more, "
                               f"give more time, or loosen them")
        if out.distinct == 0:
            raise RuntimeError(f"none of the {out.proposed} proposed sequence(s) is a valid formula over "
                               f"{X.shape[1]} variable(s); sample more (n_samples) or use a trained model")
        raise RuntimeError("the time budget ran out before any candidate was fitted; raise time_budget")
    if not any(math.isfinite(r.fvu) for r in results):
        raise RuntimeError(f"none of the {len(results)} candidate(s) gives finite values on these data; "
                           f"sample more (n_samples) or use a trained model")
    out.results = finalize(results, X, y, Xf is not X, simplifier, config, ranking, seed, deadline, w, settings)
    return out


def finalize(results: list[FitResult], X: np.ndarray, y: np.ndarray, rescore: bool, simplifier: Callable | None,
             config: FitConfig, ranking: Ranking, seed: int, deadline: float | None,
             w: np.ndarray | None = None, settings: SearchConfig = SearchConfig()) -> list[FitResult]:
    """The ``settings.finalists`` best: FVU on every row (when fitted on a subsample), then constants snapped to the
    simple values they stand for when the data cannot tell the difference (``fitting.snapping``). Each formula kept
    once, at its best fit."""
    order = ranking.order(results)
    results = list(results)
    var_y = weighted_var(y, w)
    rng = np.random.default_rng(seed)
    for i in order[:settings.finalists]:
        if deadline is not None and time.time() > deadline:
            break
        r = results[i]
        if rescore:
            r = rescored(r, X, y, var_y, w)
        # Snapping refits on at most fit_rows rows, and is scored there; rescored below when needed.
        Xs, ys, ws = subsample(X, y, settings.fit_rows, rng, w) if rescore else (X, y, w)
        snapped = snap(r, Xs, ys, ranking, simplifier, config, rng, ws, deadline)
        if snapped is not r and rescore:
            snapped = rescored(snapped, X, y, var_y, w)
            if not keeps_fit(r, snapped, ranking, effective_rows(y.shape[0], w)):
                snapped = r
        results[i] = snapped
    best: dict[tuple, FitResult] = {}
    for r in results:
        key = tuple(r.tokens)
        if key not in best or ranking.of(r) < ranking.of(best[key]):
            best[key] = r
    return list(best.values())
