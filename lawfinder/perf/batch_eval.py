"""``lawfinder bench batch-eval``: would evaluating the data of many skeletons together, with fewer numpy calls, beat
evaluating each skeleton on its own (issue 21, item 3)? The answer decides how the generator evaluates.

The batched evaluator here is level-synchronous: every leaf and every operator node of every skeleton in a batch owns
a row of one register array; operators of equal height (longest path down to a leaf) are applied together, one
gather of their operand rows, one numpy call and one scatter of the results for each (height, operator) pair. For
64 generated skeletons that is ~190 ufunc calls instead of ~800, but every operand now moves through fancy indexing
and the schedule is built in Python. The benchmark times both ways on the same skeletons, points and per-point
constants (the shape of the generator's first pass: draws 1-4 and the screen side by side), splits the batched time
into schedule and numpy work, and checks that both give the same values bit for bit.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from typing import Sequence

import numpy as np

from ..atomic import write_text
from ..simplipy.interpret import evaluate
from ..simplipy.operators import ARITY, CONSTANT, derived
from ..simplipy.tokens import is_variable, number_value, variable_index

_FUNCTIONS = derived(lambda ops: {op.name: op.numpy for op in ops})
_ARITY = ARITY


def schedule(programs: Sequence[Sequence[str]], n_variables: Sequence[int]) -> tuple:
    """Rows and groups for ``level_synchronous``: (leaf rows as (skeleton, "x"|"c", index) or ("n", value), the
    operator groups {(height, op): (operand rows a, operand rows b, output rows)}, the root row of each skeleton)."""
    leaves: list[tuple] = []
    numbers: dict[float, int] = {}
    nodes: list[tuple] = []  # (height, op, a, b) with rows of leaves or ("op", node index)
    roots: list = []
    for s, (program, d) in enumerate(zip(programs, n_variables)):
        variables = len(leaves)
        leaves.extend((s, "x", j) for j in range(d))
        n_constants = program.count(CONSTANT)
        constants = len(leaves)
        leaves.extend((s, "c", j) for j in range(n_constants))
        c = n_constants
        stack: list[tuple[int, object]] = []  # (height, row or ("op", index))
        for token in reversed(program):
            arity = _ARITY.get(token)
            if arity is None:
                if token == CONSTANT:
                    c -= 1
                    stack.append((0, constants + c))
                elif is_variable(token):
                    stack.append((0, variables + variable_index(token)))
                else:
                    value = number_value(token)
                    if value not in numbers:
                        numbers[value] = len(leaves)
                        leaves.append(("n", value))
                    stack.append((0, numbers[value]))
                continue
            ha, a = stack.pop()
            hb, b = stack.pop() if arity == 2 else (0, None)
            height = max(ha, hb) + 1
            nodes.append((height, token, a, b))
            stack.append((height, ("op", len(nodes) - 1)))
        roots.append(stack[0][1])
    first_op = len(leaves)

    def row(ref) -> int:
        return first_op + ref[1] if isinstance(ref, tuple) else ref

    groups: dict[tuple[int, str], tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for i, (height, op, a, b) in enumerate(nodes):
        group = groups[(height, op)]
        group[0].append(row(a))
        group[1].append(row(b) if b is not None else 0)
        group[2].append(first_op + i)
    ordered = {key: tuple(np.asarray(rows, dtype=np.intp) for rows in groups[key]) for key in sorted(groups)}
    return leaves, ordered, [row(r) for r in roots], first_op + len(nodes)


def level_synchronous(programs: Sequence[Sequence[str]], columns: Sequence[np.ndarray],
                      constants: Sequence[Sequence[np.ndarray]], timings: dict | None = None) -> list[np.ndarray]:
    """The value of each program on its own columns (d_i, P) and per-point constants (each (P,)), all P equal."""
    started = time.perf_counter()
    leaves, groups, roots, n_rows = schedule(programs, [c.shape[0] for c in columns])
    points = columns[0].shape[1]
    blocks = []
    for leaf in leaves:
        if leaf[0] == "n":
            blocks.append(np.full(points, leaf[1]))
        else:
            s, kind, j = leaf
            blocks.append(columns[s][j] if kind == "x" else np.broadcast_to(constants[s][j], (points,)))
    scheduled = time.perf_counter()
    R = np.empty((n_rows, points))
    R[:len(blocks)] = blocks
    with np.errstate(all="ignore"):
        for (_, op), (a, b, out) in groups.items():
            f = _FUNCTIONS[op]
            R[out] = f(R[a]) if _ARITY[op] == 1 else f(R[a], R[b])
    values = [R[r] for r in roots]
    if timings is not None:
        timings["schedule"] = timings.get("schedule", 0.0) + scheduled - started
        timings["numpy"] = timings.get("numpy", 0.0) + time.perf_counter() - scheduled
        timings["calls"] = timings.get("calls", 0) + len(groups)
    return values


def _batches(batch_size: int, n_batches: int, points: int, seed: int) -> list[list[tuple]]:
    from ..generate.config import preset
    from ..generate.generator import Generator, input_program

    generator = Generator(preset("flash-ansr", decontaminate=False), seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        batch = []
        for _ in range(batch_size):
            skeleton = generator.sample().skeleton  # an accepted skeleton (simplified, in the vocabulary)
            variables, program = input_program(skeleton)
            X = rng.uniform(-5.0, 5.0, (max(1, variables.size), points))
            batch.append((program, X, [rng.normal(0.0, 5.0, points) for _ in range(program.count(CONSTANT))]))
        out.append(batch)
    return out


def run(batch_size: int = 64, points: int = 192, n_batches: int = 20, seed: int = 0) -> dict:
    batches = _batches(batch_size, n_batches, points, seed)
    n = batch_size * n_batches
    for batch in batches:  # agreement, and a warm-up of both paths
        batched = level_synchronous(*zip(*batch))
        for (program, X, constants), y in zip(batch, batched):
            if not np.array_equal(evaluate(program, X, constants), y, equal_nan=True):
                raise AssertionError(f"the batched evaluator disagrees on {' '.join(program)}")
    calls = sum(sum(1 for t in p if t in _ARITY) for batch in batches for p, _, _ in batch)
    t0 = time.perf_counter()
    for batch in batches:
        for program, X, constants in batch:
            evaluate(program, X, constants)
    one = time.perf_counter() - t0
    timings: dict = {}
    t0 = time.perf_counter()
    for batch in batches:
        level_synchronous(*zip(*batch), timings=timings)
    together = time.perf_counter() - t0
    return {"batch_size": batch_size, "points": points, "skeletons": n,
            "one_at_a_time_us": one / n * 1e6, "ufunc_calls_per_batch_one_at_a_time": calls / n_batches,
            "batched_us": together / n * 1e6, "batched_schedule_us": timings["schedule"] / n * 1e6,
            "batched_numpy_us": timings["numpy"] / n * 1e6,
            "ufunc_calls_per_batch_batched": timings["calls"] / n_batches}


def format_report(r: dict) -> str:
    return "\n".join([
        f"evaluating generated skeletons: {r['skeletons']} in batches of {r['batch_size']}, {r['points']} points each",
        f"  one at a time (the generator's way)   {r['one_at_a_time_us']:7.1f} us per skeleton   "
        f"{r['ufunc_calls_per_batch_one_at_a_time']:6.0f} ufunc calls per batch",
        f"  level-synchronous batch               {r['batched_us']:7.1f} us per skeleton   "
        f"{r['ufunc_calls_per_batch_batched']:6.0f} ufunc calls per batch",
        f"    of which building the schedule      {r['batched_schedule_us']:7.1f} us",
        f"    of which numpy (gather, op, scatter){r['batched_numpy_us']:7.1f} us",
        "  both give the same values bit for bit",
    ])


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch-eval", help="one skeleton at a time vs many skeletons per numpy call (issue 21)")
    p.add_argument("--batch-size", type=int, default=64, help="skeletons evaluated together")
    p.add_argument("--points", type=int, default=192, help="points per skeleton (the generator's first pass: 192)")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the figures as JSON here")
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    for name in ("batch_size", "points", "batches"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    report = run(args.batch_size, args.points, args.batches, args.seed)
    print(format_report(report))
    if args.out:
        write_text(args.out, json.dumps(report, indent=2))
    return 0
