"""Scoring a trained model on the sweep's fixed held-out problems, as the scaling-laws paper does: validation loss
(teacher-forced cross entropy), and per problem 128 sampled formulas of which the one with the best R² on the
problem's points is the prediction; Acc_R2>0.99 counts predictions with R² > 0.99, Acc_solved those that equal the
true formula, integer constants included, after simplification.

The held-out set is drawn once from the training generator's preset on its own seed and stored as an Arrow file in
the sweep directory, so every run (and a resumed sweep) is scored on the same problems.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..evaluation.metrics import fvu as fvu_of
from ..simplipy.interpret import evaluate as evaluate_tokens
from .config import EvalSpec
from .records import write_atomic

HELDOUT_FILE = "heldout.arrow"
HELDOUT_META = "heldout.json"
R2_THRESHOLD = 0.99
# A prediction this close numerically (FVU) but spelled differently after simplify is checked with SymPy.
SYMPY_GATE_FVU = 1e-10


# ------------------------------------------------------------------------------------------------ the held-out set
def data_config(name: str, overrides: Sequence[tuple[str, object]]):
    from ..generate.config import preset

    return preset(name, **dict(overrides))


def make_heldout(directory: str | Path, data: str, overrides: Sequence, spec: EvalSpec) -> Path:
    """Draw the held-out problems once (``spec.seed``) into ``directory/heldout.arrow``; reuse them afterwards.

    A file made with other settings is an error rather than silently replaced: runs scored on different problems
    must not land on one curve."""
    from ..generate.generator import Generator
    from ..generate.schema import write_ipc

    directory = Path(directory)
    path, meta_path = directory / HELDOUT_FILE, directory / HELDOUT_META
    meta = {"data": data, "overrides": [list(p) for p in overrides], "problems": spec.problems, "seed": spec.seed}
    if path.exists() and meta_path.exists():
        found = json.loads(meta_path.read_text(encoding="utf-8"))
        if found != meta:
            raise ValueError(f"{path} was drawn with {found}, but the config asks for {meta}; use a new sweep "
                             f"directory ('out') or delete the held-out files to redraw them")
        return path
    generator = Generator(data_config(data, overrides), seed=spec.seed)
    write_ipc(path, [generator.sample_batch(spec.problems)])
    write_atomic(meta_path, json.dumps(meta, indent=1))
    return path


def load_heldout(path: str | Path):
    """The held-out problems as one RecordBatch."""
    import pyarrow as pa

    from ..generate.schema import read_ipc

    batches = read_ipc(path)
    if not batches:
        raise ValueError(f"held-out file {path} holds no problems")
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def mean_decoder_tokens(batch) -> float:
    """Mean decoder input length (target ids without the last): D_out of the FLOPs rule."""
    n_tokens = batch.column("n_tokens").to_numpy(zero_copy_only=False).astype(np.float64)
    return float(np.mean(n_tokens - 1))


# ------------------------------------------------------------------------------------------------ pure scoring
def r2_scores(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R² = 1 − FVU of each candidate on columns ``X`` (d, n) against ``y`` (n,); -inf where it cannot be evaluated."""
    out = np.full(len(candidates), -math.inf)
    with np.errstate(all="ignore"):
        for i, tokens in enumerate(candidates):
            try:
                prediction = evaluate_tokens(tokens, X)
                out[i] = 1.0 - fvu_of(y, prediction)
            except (ValueError, IndexError, ArithmeticError, RecursionError):
                continue
    return out


def best_candidate(candidates: Sequence[Sequence[str]], X: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """(index, R²) of the best candidate; the first (most often sampled comes first after dedupe) wins a tie.
    (-1, -inf) when there is none."""
    if not candidates:
        return -1, -math.inf
    scores = r2_scores(candidates, X, y)
    i = int(np.argmax(scores))
    return i, float(scores[i])


def exact_match(predicted: Sequence[str], truth: Sequence[str],
                simplify: Callable[[list[str]], list[str]] | None = None) -> bool:
    """Same formula, integer constants included: identical tokens, or identical after ``simplify``."""
    predicted, truth = list(predicted), list(truth)
    if predicted == truth:
        return True
    if simplify is None:
        return False
    try:
        return simplify(predicted) == simplify(truth)
    except (ValueError, ArithmeticError, RecursionError):
        return False


def sympy_equal(predicted: Sequence[str], truth: Sequence[str]) -> bool:
    """SymPy's verdict that the two formulas are one function (simplify of the difference is 0)."""
    import sympy

    from ..simplipy import to_sympy

    try:
        return sympy.simplify(to_sympy(list(predicted)) - to_sympy(list(truth))) == 0
    except Exception:  # noqa: BLE001 - SymPy raises many kinds on odd input; undecided counts as no match
        return False


def dedupe(sequences: Sequence[Sequence[str]]) -> list[list[str]]:
    """Distinct sequences, most frequent first (ties in first-seen order)."""
    counts: dict[tuple[str, ...], int] = {}
    for s in sequences:
        key = tuple(s)
        counts[key] = counts.get(key, 0) + 1
    return [list(k) for k, _ in sorted(counts.items(), key=lambda kv: -kv[1])]


# ------------------------------------------------------------------------------------------------ model scoring
def validation_loss(model, arrays: dict, chunk: int = 64, device="cpu") -> float:
    """Token-weighted mean next-token cross entropy over all held-out targets."""
    import torch

    from ..model.tokenizer import Tokenizer
    from ..model.train import to_tensors

    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, arrays["y"].shape[0], chunk):
            part = to_tensors({k: v[start:start + chunk] for k, v in arrays.items()}, device)
            n = int((part["token_ids"][:, 1:] != Tokenizer.pad_id).sum())
            total += float(model.loss(part)) * n
            tokens += n
    return total / tokens


def evaluate_model(model, batch, spec: EvalSpec, simplify: Callable | None = None, seed: int = 0) -> dict:
    """Validation loss, Acc_solved and Acc_R2>0.99 of ``model`` on the held-out ``batch`` (see module docstring)."""
    import torch

    from ..generate.schema import batch_to_arrays
    from ..inference.proposal import banned_ids
    from ..inference.sampling import sample
    from ..model.tokenizer import get_tokenizer
    from ..simplipy.latex_tokens import parse_latex_tokens

    started = time.perf_counter()
    config = model.config
    model.eval()
    device = next(model.parameters()).device
    arrays = batch_to_arrays(batch, max_variables=config.max_variables)
    loss = validation_loss(model, arrays, device=device)
    tokenizer = get_tokenizer(config.tokenizer)
    banned = torch.tensor(banned_ids(tokenizer, config.max_variables), dtype=torch.long, device=device)
    max_len = min(spec.max_len, config.max_len - 1)

    def to_prefix(ids) -> list[str] | None:
        tokens = tokenizer.decode(ids)
        if tokenizer.name != "latex":
            return tokens
        try:
            return parse_latex_tokens(tokens)
        except ValueError:
            return None

    solved = accurate = by_sympy = valid = 0
    r2_best = []
    for i in range(arrays["y"].shape[0]):
        truth = to_prefix(arrays["token_ids"][i][1:])
        X, y, point_mask, variable_mask = (torch.from_numpy(arrays[k][i:i + 1]).to(device)
                                           for k in ("X", "y", "point_mask", "variable_mask"))
        with torch.no_grad():
            memory = model.encode(X, y, point_mask, variable_mask)
        generator = torch.Generator(device=device).manual_seed(seed * 1_000_003 + i)
        ids = sample(model, memory, model.memory_mask(point_mask), spec.samples, max_len, spec.temperature,
                     generator=generator, banned=banned)
        parsed = [p for p in (to_prefix(row) for row in ids) if p is not None]
        valid += len(parsed)
        candidates = dedupe(parsed)
        n = int(arrays["point_mask"][i].sum())
        columns = arrays["X"][i, :n].T.astype(np.float64)  # (d, n): row j is x{j+1}, the model's column order
        target = arrays["y"][i, :n].astype(np.float64)
        index, r2 = best_candidate(candidates, columns, target)
        r2_best.append(r2)
        accurate += r2 > R2_THRESHOLD
        if index < 0 or truth is None:
            continue
        if exact_match(candidates[index], truth, simplify):
            solved += 1
        elif spec.sympy_check and 1.0 - r2 <= SYMPY_GATE_FVU and sympy_equal(candidates[index], truth):
            solved += 1
            by_sympy += 1
    n_problems = arrays["y"].shape[0]
    finite = [r for r in r2_best if math.isfinite(r)]
    return {"loss": loss, "acc_solved": solved / n_problems, "acc_r2": accurate / n_problems,
            "n_problems": n_problems, "solved": solved, "accurate": accurate, "solved_by_sympy": by_sympy,
            "valid_share": valid / (n_problems * spec.samples),
            "median_best_r2": float(np.median(finite)) if finite else None,
            "eval_seconds": time.perf_counter() - started, "eval": asdict(spec)}
