"""Saving fitted Regressors as msgpack (never pickle: a results file may come from anywhere) and writing any output
file atomically, so a crash never leaves half a file behind.

The file holds a format tag and version, the estimator's plain parameters, the feature names and every equation
(skeleton, constants, FVU, complexity, score). A model object or proposer is not saved: a loaded Regressor predicts
from its equations and, to refit, uses the checkpoint path it was given or the shipped model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_bytes
from .validate import default_names

FORMAT = "lawfinder.Regressor"
VERSION = 1
_PLAIN = (type(None), bool, int, float, str)


def _plain_params(regressor) -> dict[str, Any]:
    params = {}
    for name, value in regressor.get_params().items():
        if isinstance(value, Path):
            value = str(value)
        params[name] = value if isinstance(value, _PLAIN) else None
    return params


def save_regressor(regressor, path: str | Path) -> None:
    import msgpack

    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(regressor, "candidates_")
    equations = regressor.candidates_
    record = {
        "format": FORMAT,
        "version": VERSION,
        "params": _plain_params(regressor),
        "feature_names": list(equations[0].feature_names),
        "names_given": hasattr(regressor, "feature_names_in_"),
        "n_candidates": dict(getattr(regressor, "n_candidates_", {})),
        "equations": [
            {"skeleton": list(e.skeleton), "constants": list(e.constants), "fvu": e.fvu, "complexity": e.complexity,
             "score": e.objective}  # "score" in files: the ranking objective, as version 1 has always written
            for e in equations
        ],
    }
    write_bytes(path, msgpack.packb(record, use_bin_type=True))


def load_regressor(cls, path: str | Path):
    import msgpack

    from ..simplipy import normalize
    from .equation import Equation

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        record = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as error:
        raise ValueError(f"{path} is not a saved lawfinder Regressor (msgpack: {error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path} is not a saved lawfinder Regressor (no {FORMAT!r} format tag)")
    if record.get("version") != VERSION:
        raise ValueError(f"{path} has Regressor file version {record.get('version')!r}; this lawfinder reads "
                         f"version {VERSION}")
    try:
        known = set(cls._param_names())
        regressor = cls(**{k: v for k, v in record["params"].items() if k in known})
        names = tuple(str(n) for n in record["feature_names"])
        equations = []
        for e in record["equations"]:
            skeleton = tuple(normalize(e["skeleton"]))  # validates every token of the file
            constants = tuple(float(c) for c in e["constants"])
            if sum(t == "<constant>" for t in skeleton) != len(constants):
                raise ValueError(f"equation {' '.join(skeleton)!r} has {len(constants)} constant value(s) for "
                                 f"its placeholders")
            equations.append(Equation(skeleton, constants, float(e["fvu"]), int(e["complexity"]), float(e["score"]),
                                      names))
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path} is a damaged Regressor file (missing or malformed field {error})") from None
    if not equations:
        raise ValueError(f"{path} holds no equations")
    regressor.candidates_ = [e for e in equations if math.isfinite(e.fvu)] or equations
    try:
        regressor._choose()
    except ValueError as error:  # a model_selection this lawfinder does not know
        raise ValueError(f"{path}: {error}") from None
    # Files written before "names_given" existed always held names; x1, x2, .. were the defaults, not given ones.
    given = record.get("names_given", list(names) != default_names(len(names)))
    if given:
        regressor.feature_names_in_ = np.asarray(names, dtype=object)
    regressor._names_from_frame = False
    regressor.n_features_in_ = len(names)
    regressor.n_candidates_ = dict(record.get("n_candidates", {}))
    return regressor
