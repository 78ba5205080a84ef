"""``Generator``: the sample pipeline skeleton → simplify → tokens → constants → points → evaluate → decontaminate →
Arrow batch, with counters and per-stage timings. (Decontamination comes after the data: both are filters on the
skeleton, so the order does not change which samples come out, and a third of the skeletons fail on their data.)

One instance per worker; ``(seed, worker_index, stream)`` picks its random stream (see ``streams``). Samples whose
values are non-finite or beyond ``max_abs_value`` are redrawn (new constants and points, same n) up to
``max_data_tries`` times and otherwise dropped with their skeleton, so no such value ever reaches a batch.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
import pyarrow as pa

from ..model.tokenizer import constantify_numbers, get_tokenizer
from ..simplipy.latex_tokens import latex_tokens
from ..simplipy.operators import CONSTANT
from ..simplipy.tokens import is_variable, substitute_constants, variable_index
from .config import GeneratorConfig
from .decontaminate import Decontaminator, default_simplify
from ..simplipy.interpret import evaluate
from .schema import build_batch
from .skeleton import SkeletonSampler
from .streams import UniformPool, generators
from .data_kernels import all_within, probe_verdicts, sample_arrays
from .support_points import draw_block, draw_points, sample_n_points

STAGES = ("skeleton", "simplify", "decontaminate", "data", "evaluate", "tokenize", "arrow")
PROBE = 32  # points evaluated before the rest of a draw (see Generator._draw_data)
FIRST_BLOCK = 4  # draws probed in the first pass (Flash-ANSR's own limit is 4 draws); the rest in a second one
REASONS = ("simplify_error", "non_finite_token", "too_long", "contaminated", "untokenizable", "target_too_long",
           "non_finite_screen", "non_finite_data")
DATA_REASONS = ("non_finite_screen", "non_finite_data")  # counted once per data chain, the others once per skeleton


@dataclass
class GeneratorStats:
    attempts: int = 0  # skeletons drawn
    chains: int = 0  # data chains run: one per skeleton that reaches its data, datasets_per_skeleton at most
    samples: int = 0  # samples emitted
    data_draws: int = 0  # (constants, points) draws evaluated (on a probe of their points at least)
    # Draws a one-at-a-time loop would have used: up to and including the first good one. Blocks of draws are
    # probed in one evaluation, so data_draws also counts the draws of a block after its first good one.
    draws_needed: int = 0
    # Draws evaluated on all their points, not only a probe: the rest of a draw whose probe passed (a draw of n <=
    # PROBE points is whole in its probe and is not counted).
    full_draws: int = 0
    screens: int = 0  # early-rejection screens run (see GeneratorConfig.screen_points)
    screen_points: int = 0  # points of those screens' draws (not counted in data_draws)
    # The evaluation work itself: numpy passes over a chain's data (a probe block, or the rest of one draw), the
    # points (columns) they evaluated, and the points of the samples emitted, so the work reads in units of the
    # draws a sample keeps.
    evaluations: int = 0
    points_evaluated: int = 0
    sample_points: int = 0
    # Time of the data and evaluate stages spent on data chains that gave no sample (rejected on their data).
    rejected_chain_seconds: float = 0.0
    rejected: dict = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    seconds: dict = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def as_dict(self) -> dict:
        return {"attempts": self.attempts, "chains": self.chains, "samples": self.samples,
                "data_draws": self.data_draws, "draws_needed": self.draws_needed, "full_draws": self.full_draws,
                "screens": self.screens, "screen_points": self.screen_points, "evaluations": self.evaluations,
                "points_evaluated": self.points_evaluated, "sample_points": self.sample_points,
                "rejected_chain_seconds": self.rejected_chain_seconds, "rejected": dict(self.rejected),
                "seconds": dict(self.seconds)}

    def merge(self, other: dict) -> None:
        self.attempts += other["attempts"]
        self.chains += other.get("chains", 0)
        self.samples += other["samples"]
        self.data_draws += other["data_draws"]
        self.draws_needed += other.get("draws_needed", 0)
        self.full_draws += other.get("full_draws", 0)
        self.screens += other.get("screens", 0)
        self.screen_points += other.get("screen_points", 0)
        for name in ("evaluations", "points_evaluated", "sample_points", "rejected_chain_seconds"):
            setattr(self, name, getattr(self, name) + other.get(name, 0))
        for k, v in other["rejected"].items():
            self.rejected[k] = self.rejected.get(k, 0) + v
        for k, v in other["seconds"].items():
            self.seconds[k] = self.seconds.get(k, 0.0) + v


def resolve_simplify() -> Callable[[list[str]], list[str]]:
    simplify = default_simplify()
    if simplify is None:
        raise ImportError("GeneratorConfig.simplify=True needs lawfinder.simplipy.simplify, which is not "
                          "available; set simplify=False to generate unsimplified skeletons")
    # Random skeletons almost never repeat: the whole-expression cache would only cost time (measured +2 %
    # samples/s without it).
    return partial(simplify, cache=False)


_NON_FINITE = frozenset({"inf", "-inf", "nan", 'float("inf")', 'float("-inf")', 'float("nan")'})


@dataclass
class _SkeletonJob:
    """One skeleton and what its data chains share (see ``GeneratorConfig.datasets_per_skeleton``)."""

    skeleton: list[str]
    fixed_constants: np.ndarray | None
    ids: list[int] | None  # prefix targets are known before the data; LaTeX ones need the constants
    variables: np.ndarray  # zero-based indices of the variables used, ascending: row j of the inputs is variables[j]
    program: list[str]
    n_const: int
    chains_left: int
    contaminated: bool | None = None  # asked once, after the first chain that gives data


@dataclass
class _Sample:
    skeleton: list[str]
    constants: np.ndarray
    variables: np.ndarray
    x: np.ndarray
    y: np.ndarray
    token_ids: list[int]


class Generator:
    """Draws training samples from ``config``'s prior; ``sample_batch(B)`` returns a ``pyarrow.RecordBatch``.

    ``decontaminator``: the held-out set; when None, the shipped FastSRB index if ``config.decontaminate``.
    """

    def __init__(self, config: GeneratorConfig, seed: int = 0, worker_index: int = 0, stream: int = 0,
                 decontaminator: Decontaminator | None = None):
        self.config = config
        skeleton_rng, data_rng = generators(seed, worker_index, stream, 2)
        self.uniform = UniformPool(skeleton_rng)
        self.rng = data_rng
        self.tokenizer = get_tokenizer(config.tokenizer)
        self.simplify = resolve_simplify() if config.simplify else None
        if decontaminator is None and config.decontaminate:
            decontaminator = Decontaminator.fastsrb()
        self.decontaminator = decontaminator  # one passed in is used even where config.decontaminate is False
        self.stats = GeneratorStats()
        self._job: _SkeletonJob | None = None
        if config.kind == "prior":
            self._sampler = SkeletonSampler(config)
            self._next_skeleton = self._prior_skeleton
        else:
            from .exhaustive import ExhaustiveSource  # builds or loads the base set only when asked for

            self._source = ExhaustiveSource(config, self.rng, simplify=self.simplify,
                                            decontaminator=self.decontaminator, stats=self.stats)
            self._next_skeleton = self._source.next_skeleton

    def reset_stats(self) -> None:
        """Zero the counters in place (benchmarks drop their warm-up)."""
        GeneratorStats.__init__(self.stats)

    # ------------------------------------------------------------------------------------------------ skeletons
    def _reject(self, reason: str) -> None:
        self.stats.rejected[reason] += 1

    def _prior_skeleton(self) -> tuple[list[str], np.ndarray | None]:
        """A simplified, in-vocabulary skeleton (constants are drawn later, so None; ``sample`` decontaminates)."""
        seconds = self.stats.seconds
        while True:
            self.stats.attempts += 1
            t0 = time.perf_counter()
            tokens = self._sampler.sample(self.uniform)
            t1 = time.perf_counter()
            seconds["skeleton"] += t1 - t0
            if self.simplify is not None:
                try:
                    tokens = self.simplify(tokens)
                except (ValueError, ArithmeticError, RecursionError):
                    self._reject("simplify_error")
                    continue
                finally:
                    seconds["simplify"] += time.perf_counter() - t1
            if not _NON_FINITE.isdisjoint(tokens):
                self._reject("non_finite_token")
                continue
            if self.config.tokenizer == "prefix":
                # Literals the vocabulary lacks (2, 0.5) become free constants, as Flash-ANSR's targets treat them.
                tokens = constantify_numbers(tokens, self.tokenizer)
            if len(tokens) > self.config.max_skeleton_length:
                self._reject("too_long")
                continue
            if self.config.relabel_variables:
                tokens = relabel_variables(tokens)
            return tokens, None

    def _contaminated(self, skeleton: list[str]) -> bool:
        """Is this prior skeleton held out? Asked only once its data is drawn: a deterministic filter and the random
        data filter select the same samples in either order, and a third of all skeletons fail on their data, so
        checking last skips their decontamination. (The exhaustive source checks its base set itself.)"""
        if self.decontaminator is None or self.config.kind != "prior":
            return False
        t0 = time.perf_counter()
        contaminated = self.decontaminator.is_contaminated(skeleton)
        self.stats.seconds["decontaminate"] += time.perf_counter() - t0
        if contaminated:
            self._reject("contaminated")
        return contaminated

    # ------------------------------------------------------------------------------------------------ samples
    def _target_ids(self, skeleton: list[str], constants: np.ndarray | None) -> list[int] | None:
        try:
            if self.config.tokenizer == "latex":
                ids = self.tokenizer.encode(latex_tokens(substitute_constants(skeleton, constants)))
            else:
                ids = self.tokenizer.encode(skeleton)
        except ValueError:
            self._reject("untokenizable")
            return None
        if len(ids) > self.config.max_len:
            self._reject("target_too_long")
            return None
        return ids

    def sample(self) -> _Sample:
        config, seconds = self.config, self.stats.seconds
        while True:
            job = self._job
            if job is None or job.chains_left == 0:
                job = self._job = self._next_job()
                if job is None:
                    continue
            job.chains_left -= 1
            self.stats.chains += 1
            n = sample_n_points(config, self.rng)
            spent = seconds["data"] + seconds["evaluate"]
            drawn = self._draw_data(job.program, job.fixed_constants, job.n_const, n, job.variables.size)
            if not isinstance(drawn, tuple):
                self.stats.rejected_chain_seconds += seconds["data"] + seconds["evaluate"] - spent
                self._reject(drawn)
                continue
            if job.contaminated is None:
                job.contaminated = self._contaminated(job.skeleton)
            if job.contaminated:
                job.chains_left = 0
                continue
            constants, X, y = drawn
            ids = job.ids
            if config.tokenizer == "latex":
                t0 = time.perf_counter()
                ids = self._target_ids(job.skeleton, constants)
                seconds["tokenize"] += time.perf_counter() - t0
                if ids is None:
                    continue
            self.stats.samples += 1
            self.stats.sample_points += n
            return _Sample(job.skeleton, constants, job.variables, X, y, ids)

    def _next_job(self) -> "_SkeletonJob | None":
        """The next skeleton with what its data chains share, or None when its target cannot be tokenized."""
        skeleton, fixed_constants = self._next_skeleton()
        ids = None
        if self.config.tokenizer != "latex":
            t0 = time.perf_counter()
            ids = self._target_ids(skeleton, None)
            self.stats.seconds["tokenize"] += time.perf_counter() - t0
            if ids is None:
                return None
        variables, program = input_program(skeleton)
        return _SkeletonJob(skeleton=skeleton, fixed_constants=fixed_constants, ids=ids, variables=variables,
                            program=program, n_const=skeleton.count(CONSTANT),
                            chains_left=self.config.datasets_per_skeleton)

    def _draw_data(self, program: list[str], fixed_constants, n_const: int, n: int, d: int):
        """(constants, float32 X (n, d), float32 y) with every |y| <= max_abs_value, or the rejection reason:
        "non_finite_screen" (dropped early) or "non_finite_data" (after ``max_data_tries`` draws).

        A draw is first judged on a probe of its first ``PROBE`` points: points are i.i.d., so a failing probe means
        a failing draw. One numpy pass over the skeleton evaluates the probes of draws 1-4 (Flash-ANSR's own limit)
        and the early-rejection screen side by side; the draws are then used in order, exactly as a one-at-a-time
        loop would: draw 1 if it is good, else the screen decides whether the skeleton is worth more draws, then
        draws 2-4, then the remaining draws in a second pass. Evaluation costs about 10 µs per call whether it sees
        32 points or 200 (numpy's per-call overhead), so one wide pass replaces the three to four narrow ones
        (draw 1, screen, draws 2-4, ...) that a skeleton failing draw 1 used to need."""
        probe = min(n, PROBE)
        tries = self.config.max_data_tries
        first = min(tries, FIRST_BLOCK)
        screen = self._screen_points() if tries > 1 else 0
        drawn, screen_ok = self._draw_block(program, fixed_constants, n_const, n, d, first, probe, screen)
        if drawn is not None:
            return drawn
        if not screen_ok:
            return "non_finite_screen"
        if tries > first:
            drawn, _ = self._draw_block(program, fixed_constants, n_const, n, d, tries - first, probe)
        return "non_finite_data" if drawn is None else drawn

    def _screen_points(self) -> int:
        """Draws of the early-rejection screen (0: off). ``screen_points`` fresh draws (constants and input
        intervals) of ``screen_points_per_draw`` points each (six by default): a draw needs every point finite, so a
        skeleton whose screen draws are (almost) never finite has (almost) no chance in the draws left."""
        config = self.config
        if config.screen_min_finite == 0 or config.point_distribution != "intervals":
            return 0
        return config.screen_points

    def _draw_block(self, program, fixed_constants, n_const: int, n: int, d: int, tries: int, probe: int,
                    screen: int = 0):
        """Probe ``tries`` draws (and ``screen`` screen draws of ``min(screen_points_per_draw, n)`` points each) in
        one evaluation; returns (the first good draw with all ``n`` points, or None; whether the screen passed).
        Draws after the first are used only when the screen passed."""
        config, rng, stats = self.config, self.rng, self.stats
        seconds = stats.seconds
        width = min(config.screen_points_per_draw, n)
        t0 = time.perf_counter()
        constants, per_point, params, X = draw_block(config, rng, d, n_const, tries, probe, screen, width,
                                                     fixed_constants)
        t1 = time.perf_counter()
        y = evaluate(program, X, per_point)
        stats.evaluations += 1
        stats.points_evaluated += X.shape[1]
        good_tries, finite_screen = probe_verdicts(y, tries, probe, config.max_abs_value, width)
        screen_ok = True
        if screen:
            screen_ok = finite_screen >= config.screen_min_finite
            stats.screens += 1
            stats.screen_points += screen * width
        seconds["data"] += t1 - t0
        seconds["evaluate"] += time.perf_counter() - t1
        stats.data_draws += tries
        for i in good_tries:
            if i > 0 and not screen_ok:
                break
            X_rest = y_rest = None
            if n > probe:
                t2 = time.perf_counter()
                X_rest = draw_points(config, rng, params, n - probe, i)
                t3 = time.perf_counter()
                y_rest = evaluate(program, X_rest, list(constants[i]))
                stats.full_draws += 1
                stats.evaluations += 1
                stats.points_evaluated += n - probe
                finite = all_within(y_rest, config.max_abs_value)
                seconds["data"] += t3 - t2
                seconds["evaluate"] += time.perf_counter() - t3
                if not finite:
                    continue
            # A one-at-a-time loop would have used draws 1..i+1 of this block.
            stats.draws_needed += i + 1
            x_i, y_i = sample_arrays(X, i * probe, probe, y, X_rest, y_rest)
            return (np.array(constants[i], dtype=np.float64), x_i, y_i), screen_ok
        # A one-at-a-time loop drops the skeleton right after draw 1 when the screen fails, else tries them all.
        stats.draws_needed += tries if screen_ok else 1
        return None, screen_ok

    def sample_batch(self, batch_size: int | None = None) -> pa.RecordBatch:
        """``batch_size`` (default ``config.batch_size``) samples as one RecordBatch of ``BATCH_SCHEMA``."""
        batch_size = self.config.batch_size if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        with fewer_collections():
            samples = [self.sample() for _ in range(batch_size)]
        t0 = time.perf_counter()
        batch = build_batch([s.x for s in samples], [s.y for s in samples], [s.variables for s in samples],
                            [s.token_ids for s in samples], [s.constants for s in samples],
                            [" ".join(s.skeleton) for s in samples], tokenizer=self.config.tokenizer,
                            max_variables=self.config.max_variables)
        self.stats.seconds["arrow"] += time.perf_counter() - t0
        return batch


# Young-generation threshold while a batch is drawn. The simplifier's memo holds tens of thousands of small tuples,
# which Python's cyclic garbage collector re-traverses on every older-generation collection: measured (perf) about
# 30 % of generation time in gc_collect_main and its visitors at the default of 700, and those collections never
# found a cycle. At 50,000: 2,221 -> 2,680 samples/s on one core. Reference counting frees everything as before.
GC_THRESHOLD = (50_000, 20, 100)
# A producer process does nothing but draw batches, and there the collector never found a cycle (0 objects collected
# in 34,304 samples, in all three generations). So a producer raises the young-generation threshold for its whole
# life: most memo entries are then freed by a memo clear (reference counting) before any collection visits them,
# and no collection is forced when a batch ends. Measured: +6 % samples/s over the per-batch threshold alone.
PRODUCER_GC_THRESHOLD = (1_000_000, 100, 1000)


@contextmanager
def fewer_collections(threshold: tuple[int, int, int] = GC_THRESHOLD):
    """Run the block with rarer cyclic garbage collections (process-wide; thresholds already higher are kept, and the
    old ones come back after)."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(old, threshold)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


# Entries the simplifier's memo of simplified nodes keeps in a producer before it is emptied. Random skeletons
# rarely share subtrees, so a big memo is mostly cost (inserting, then freeing it all at a clear): at 300, simplify
# takes 60 instead of 66 us per generated skeleton and the generator gives +5 % samples/s (3,166 vs 3,012, three
# alternating 15 s runs on one core). Outputs never depend on the memo (40,000 skeletons compared at limits 0, 100,
# 300, 1,000 and 50,000). The simplifier's own default stays 50,000: expressions that do share subtrees, as in the
# shared SimpliPy corpus, are faster with it (median 23.7 vs 27.4 us).
PRODUCER_MEMO_LIMIT = 300


def _simplifier_engine():
    """The process-wide simplifier engine, or None where the simplifier is not installed."""
    try:
        from ..simplipy.simplify import engine
    except ImportError:
        return None
    return engine()


def configure_producer() -> None:
    """Set this process up for a long-running producer: the garbage collector (``PRODUCER_GC_THRESHOLD``) and the
    simplifier's memo size (``PRODUCER_MEMO_LIMIT``). Call it only in a process that does nothing but draw batches
    (a Producer actor): the settings are process-wide and stay. ``producer_process`` is the scoped form."""
    gc.set_threshold(*PRODUCER_GC_THRESHOLD)
    engine = _simplifier_engine()
    if engine is not None:
        engine.memo_limit = PRODUCER_MEMO_LIMIT


@contextmanager
def producer_process():
    """Run the block with a producer's settings (see ``configure_producer``), and restore the old ones after: for a
    command or benchmark worker that produces for a while inside a process that may do other things."""
    engine = _simplifier_engine()
    old_limit = None if engine is None else engine.memo_limit
    with fewer_collections(PRODUCER_GC_THRESHOLD):
        if engine is not None:
            engine.memo_limit = PRODUCER_MEMO_LIMIT
        try:
            yield
        finally:
            if engine is not None:
                engine.memo_limit = old_limit


def input_program(skeleton: list[str]) -> tuple[np.ndarray, list[str]]:
    """(the zero-based indices of the variables ``skeleton`` uses, ascending; the skeleton with each of them renamed
    to its row of a (d, n) input block: the j-th used variable becomes ``x{j+1}``)."""
    used = sorted([t for t in set(skeleton) if is_variable(t)], key=variable_index)
    rows = {t: f"x{i + 1}" for i, t in enumerate(used)}
    return np.array([variable_index(t) for t in used], dtype=np.int8), [rows.get(t, t) for t in skeleton]


def relabel_variables(tokens: list[str]) -> list[str]:
    """Rename variables x1..xd in order of first appearance."""
    names: dict[str, str] = {}
    out = []
    for t in tokens:
        if is_variable(t):
            t = names.setdefault(t, f"x{len(names) + 1}")
        out.append(t)
    return out


__all__ = ["DATA_REASONS", "Generator", "GeneratorStats", "REASONS", "STAGES", "configure_producer",
           "fewer_collections", "input_program", "relabel_variables", "substitute_constants"]
