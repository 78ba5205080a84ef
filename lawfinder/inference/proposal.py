"""Proposing skeletons for a data set with a trained model: encode the table, sample (or beam-search) token
sequences, turn them into prefix token lists. Also where ``Regressor(model=...)`` finds its model.

A proposer is any callable ``(X, y) -> iterable of prefix token lists`` over variables ``x1..xd``; ``ModelProposer``
is the one backed by a network. Torch is imported only here, and only when a model is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .defaults import N_SAMPLES

# Trained weights shipped inside the package: ``default.pt`` is what ``Regressor(model=None)`` loads and
# ``<preset>.pt`` what ``Regressor(model="<preset>")`` loads; each a ``lawfinder.model.save_model`` file. ``wide.pt``,
# when shipped, reads the tables that have more columns than ``default.pt`` reads (``pick_model``): the promotion gate
# installs a model there that wins on those tables but not yet on the narrow ones.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "model" / "weights"
SHIPPED_NAME = "default"
WIDE_NAME = "wide"

_HOW_TO_GET_ONE = ("train one with `lawfinder train ...` and pass its checkpoint: Regressor(model=PATH) or "
                   "`lawfinder fit ... --model PATH`")


def shipped_checkpoint(name: str = SHIPPED_NAME) -> Path:
    """The checkpoint shipped in the package for ``name``; ValueError saying how to get one when it is absent."""
    path = SHIPPED_DIR / f"{name}.pt"
    if not path.exists():
        raise ValueError(f"no trained model {name!r} is shipped with this lawfinder installation (looked for {path}); "
                         + _HOW_TO_GET_ONE)
    return path


_READS: dict[tuple[str, int], int] = {}


def reads(path: Path) -> int:
    """How many input columns the model in ``path`` reads (its config's ``max_variables``); cached per file version."""
    from ..model.checkpoint import read_metadata

    key = (str(path), path.stat().st_mtime_ns)
    if key not in _READS:
        _READS[key] = int(read_metadata(path)["model_config"]["max_variables"])
    return _READS[key]


def pick_model(n_variables: int | None, default: Path, wide: Path | None) -> Path:
    """The model of a (default, wide) pair that reads a table of ``n_variables`` columns: ``default`` when it reads
    them (or no wide one is there), else ``wide``. Narrow tables stay with ``default`` even when ``wide`` reads them
    too: the gate installs ``wide`` for the tables ``default`` cannot read, not for the others."""
    if n_variables is None or wide is None or not wide.exists() or reads(default) >= n_variables:
        return default
    return wide


def shipped_for(n_variables: int | None = None) -> Path:
    """The shipped checkpoint that reads a table of ``n_variables`` columns (``pick_model`` over default.pt and
    wide.pt)."""
    return pick_model(n_variables, shipped_checkpoint(), SHIPPED_DIR / f"{WIDE_NAME}.pt")


def resolve_device(device: str | None, cuda_available: Callable[[], bool] | None = None) -> str:
    """``"auto"`` (or None) -> ``"cuda"`` when a CUDA device is there, else ``"cpu"``; any other name as given."""
    if device not in (None, "auto"):
        return str(device)
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    return "cuda" if cuda_available() else "cpu"


def load(spec: Any, device: str = "auto", n_variables: int | None = None):
    """``Regressor.model`` -> a model in eval mode on ``device``.

    ``device="auto"`` puts it on CUDA when one is there (``resolve_device``). ``None`` is the shipped model for a
    table of ``n_variables`` columns (``shipped_for``: default.pt, or wide.pt for tables default.pt cannot read); a
    string is a checkpoint path, or the name of a preset whose trained weights are
    shipped; an object with ``decode``/``encode`` and a ``config`` is used as it is (e.g. ``build_model(...)``).
    """
    device = resolve_device(device)
    path = model_path(spec, n_variables)
    if path is None:
        return spec.eval().to(device) if hasattr(spec, "eval") else spec
    from ..model import load_model

    model, _config = load_model(path, device)
    return model


def model_path(spec: Any, n_variables: int | None = None) -> Path | None:
    """The checkpoint file ``load(spec, ..., n_variables)`` reads; None for a model object (used as it is)."""
    if spec is not None and not isinstance(spec, (str, Path)):
        if not all(hasattr(spec, a) for a in ("encode", "decode", "config")):
            raise ValueError(f"model must be a checkpoint path, a preset name or a model object with encode/decode "
                             f"and config; got {type(spec).__name__}")
        return None
    from ..model import PRESETS

    if spec is None:
        return shipped_for(n_variables)
    if Path(spec).exists():
        return Path(spec)
    if str(spec) in PRESETS:
        return shipped_checkpoint(str(spec))
    raise ValueError(f"model {str(spec)!r} is neither an existing checkpoint path nor a preset name "
                     f"({', '.join(sorted(PRESETS))}); " + _HOW_TO_GET_ONE)


def model_width(spec: Any, n_variables: int | None = None) -> int:
    """How many columns the model ``load(spec, ..., n_variables)`` gives reads, without loading its weights."""
    path = model_path(spec, n_variables)
    return reads(path) if path is not None else int(spec.config.max_variables)


_VARIABLE = re.compile(r"x_?\{?([1-9][0-9]*)\}?\Z")  # x7 (prefix vocabulary) or x_{7} (LaTeX vocabulary)


def banned_ids(tokenizer, n_variables: int) -> list[int]:
    """Token ids that can never be part of a valid candidate for data with ``n_variables`` columns: variables beyond
    the last column, ``<pad>``, ``<bos>`` and ``<unk>``. Sampling never draws them, which only moves their
    probability to tokens that can (the validity filter applied before drawing instead of after)."""
    out = [tokenizer.pad_id, tokenizer.bos_id]
    if "<unk>" in tokenizer.index:
        out.append(tokenizer.index["<unk>"])
    for i, token in enumerate(tokenizer.vocab):
        m = _VARIABLE.match(token)
        if m is not None and int(m.group(1)) > n_variables:
            out.append(i)
    return out


@dataclass(kw_only=True)
class SamplingConfig:
    """How many sequences and how to draw them, by keyword only. ``n_samples`` is per round (a time-budgeted search
    asks again each round); the names are ``Regressor``'s; ``beam_width`` switches from sampling to beam search."""

    n_samples: int = N_SAMPLES
    max_length: int = 64
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    beam_width: int | None = None
    batch_size: int = 128
    max_points: int = 1024  # the model reads at most this many rows; larger tables are subsampled for the encoder


class ModelProposer:
    """Skeletons sampled from ``model`` for one data set; ``deadline`` (``time.time()`` value) stops sampling early."""

    def __init__(self, model, config: SamplingConfig, seed: int, deadline: float | None = None,
                 banned_tokens: Sequence[str] = ()):
        self.model = model
        self.config = config
        self.seed = seed
        self.deadline = deadline
        self.banned_tokens = tuple(banned_tokens)  # operators the user's constraints rule out: never sampled

    def _read(self, X: np.ndarray, y: np.ndarray) -> dict:
        """The model's reading of one table (encoder memory, masks, banned ids), kept for the next call on the same
        arrays: a refinement round completes prefixes on the data the first round encoded."""
        # A table larger than the model reads is subsampled anew each round (the round's seed), as it always was.
        key = (id(X), id(y), X.shape, self.banned_tokens, self.seed if X.shape[0] > self.config.max_points else None)
        if getattr(self, "_reading", None) is not None and self._reading["key"] == key:
            return self._reading
        import torch

        from ..model import get_tokenizer

        cfg = self.config
        rng = np.random.default_rng(self.seed)
        if X.shape[0] > cfg.max_points:
            rows = np.sort(rng.choice(X.shape[0], cfg.max_points, replace=False))
            X, y = X[rows], y[rows]
        if np.abs(X).max() > np.finfo(np.float32).max or np.abs(y).max() > np.finfo(np.float32).max:
            raise ValueError("values beyond the float32 range (about 3.4e38) cannot be read by the model; rescale them")
        device = next(self.model.parameters()).device
        Xt = torch.as_tensor(X, dtype=torch.float32, device=device)[None]
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)[None]
        point_mask = torch.ones(yt.shape, dtype=torch.bool, device=device)
        variable_mask = torch.ones((1, X.shape[1]), dtype=torch.bool, device=device)
        with torch.no_grad():
            memory = self.model.encode(Xt, yt, point_mask, variable_mask)
        memory_mask = self.model.memory_mask(point_mask) if hasattr(self.model, "memory_mask") else None
        tokenizer = get_tokenizer(self.model.config.tokenizer)
        extra = [tokenizer.index[t] for t in self.banned_tokens if t in tokenizer.index]
        banned = torch.tensor(banned_ids(tokenizer, X.shape[1]) + extra, dtype=torch.long, device=device)
        self._reading = {"key": key, "memory": memory, "memory_mask": memory_mask, "tokenizer": tokenizer,
                         "banned": banned, "device": device,
                         "max_len": min(cfg.max_length, self.model.config.max_len - 1)}
        return self._reading

    def __call__(self, X: np.ndarray, y: np.ndarray) -> list[list[str]]:
        import torch

        from .sampling import beam_search, sample

        cfg, r = self.config, self._read(X, y)
        if cfg.beam_width:
            ids = beam_search(self.model, r["memory"], r["memory_mask"], cfg.beam_width, r["max_len"], r["banned"])
        else:
            generator = torch.Generator(device=r["device"]).manual_seed(self.seed)
            ids = sample(self.model, r["memory"], r["memory_mask"], cfg.n_samples, r["max_len"], cfg.temperature,
                         cfg.top_k, cfg.top_p, cfg.batch_size, generator, self.deadline, r["banned"])
        return self._decoded(ids, r["tokenizer"])

    def complete(self, X: np.ndarray, y: np.ndarray, prefixes: Sequence[Sequence[str]], n_each: int) -> list:
        """``n_each`` completions by the model of each prefix (prefix tokens, e.g. the first tokens of a good
        candidate): the model proposes the rest of a formula whose beginning already fits. A prefix the
        vocabulary cannot spell (a number other than its literals becomes ``<constant>``) or that fills the
        length is skipped."""
        import torch

        from ..model.tokenizer import constantify_numbers
        from .sampling import sample

        cfg, r = self.config, self._read(X, y)
        tokenizer = r["tokenizer"]
        if tokenizer.name != "prefix" or n_each < 1:
            return []
        generator = torch.Generator(device=r["device"]).manual_seed(self.seed)
        out: list[list[str]] = []
        for prefix in prefixes:
            try:
                ids = tokenizer.encode(constantify_numbers(list(prefix), tokenizer), add_special=False)
            except ValueError:
                continue
            if not ids or len(ids) >= r["max_len"]:
                continue
            rows = sample(self.model, r["memory"], r["memory_mask"], n_each, r["max_len"], cfg.temperature,
                          cfg.top_k, cfg.top_p, cfg.batch_size, generator, self.deadline, r["banned"], prefix=ids)
            out.extend(self._decoded(rows, tokenizer))
        return out

    @staticmethod
    def _decoded(ids: list[list[int]], tokenizer) -> list[list[str]]:
        from ..simplipy.latex_tokens import parse_latex_tokens

        out = []
        for row in ids:
            tokens = tokenizer.decode(row)
            if tokenizer.name == "latex":
                try:
                    tokens = parse_latex_tokens(tokens)
                except ValueError:
                    continue  # not a well-formed formula: dropped like any invalid sample
            out.append(tokens)
        return out


def baselines(X: np.ndarray, y: np.ndarray) -> list[list[str]]:
    """The formulas a model's search also fits in its first round: a constant, ``C * xj + C`` for each column,
    ``C * x1 + ... + C * xd + C``, and the power laws a log-log fit suggests (``power_law.power_laws``). They cost a
    few fits and make sure the answer is never worse than linear regression on the columns read, and that a product of
    powers is found at any scale of the values: a model trained on exact laws of values of order one may propose
    neither."""
    from .power_law import power_laws

    terms = [["*", "<constant>", f"x{j + 1}"] for j in range(X.shape[1])]
    affine = ["<constant>"]
    for term in reversed(terms):
        affine = ["+", *term, *affine]
    singles = [["+", *term, "<constant>"] for term in terms]
    return [["<constant>"], *singles] + ([affine] if X.shape[1] > 1 else []) + power_laws(X, y)


def in_rounds(proposer: ModelProposer, X: np.ndarray, y: np.ndarray) -> Callable[[int, float | None], list]:
    """``propose(round, deadline)`` for the anytime search: round r samples with seed ``proposer.seed + r``, and
    round 0 also holds the ``baselines``. Any other callable ``(X, y)`` is called as it is every round."""
    if not isinstance(proposer, ModelProposer):
        return lambda round_, deadline: proposer(X, y)
    base = proposer.seed

    def propose(round_: int, deadline: float | None) -> list[list[str]]:
        proposer.seed, proposer.deadline = base + round_, deadline
        sampled = proposer(X, y)
        return baselines(X, y) + sampled if round_ == 0 else sampled

    return propose
