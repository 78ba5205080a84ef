"""Saving fitted Regressors as msgpack (never pickle: a results file may come from anywhere) and writing any output
file atomically, so a crash never leaves half a file behind.

The file holds a format tag and version, the estimator's plain parameters, the feature names and every equation
(skeleton, constants, FVU, complexity, score, rows); a fit on several targets holds ``targets``, a name and the
equations of each. Every field is checked on loading. A model object or proposer is not saved: a loaded Regressor
predicts from its equations and, to refit, uses the checkpoint path it was given or the shipped model.
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


def _equations_record(regressor) -> dict[str, Any]:
    return {
        "feature_names": list(regressor.candidates_[0].feature_names),
        "n_candidates": dict(getattr(regressor, "n_candidates_", {})),
        "equations": [
            {"skeleton": list(e.skeleton), "constants": list(e.constants), "fvu": e.fvu, "complexity": e.complexity,
             # "score": the ranking objective, as version 1 has always written
             "score": e.objective, "rows": e.rows, "raw": list(e.raw)}
            for e in regressor.candidates_
        ],
    }


def save_regressor(regressor, path: str | Path) -> None:
    """One file for a fit on one target or several (then ``targets``: a name and the equations of each)."""
    import msgpack

    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(regressor, "candidates_")
    record = {"format": FORMAT, "version": VERSION, "params": _plain_params(regressor),
              "names_given": hasattr(regressor, "feature_names_in_")}
    subs = getattr(regressor, "estimators_", None)
    if subs:
        record["feature_names"] = _equations_record(subs[0])["feature_names"]
        record["targets"] = [{"name": name, **_equations_record(sub)}
                             for name, sub in zip(regressor.target_names_, subs)]
    else:
        record.update(_equations_record(regressor))
    write_bytes(path, msgpack.packb(record, use_bin_type=True))


def load_regressor(cls, path: str | Path):
    import msgpack

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
    targets = record.get("targets")
    if targets is None:
        return _fitted(cls, path, record, record)
    if not isinstance(targets, list) or not targets or not all(isinstance(t, dict) for t in targets):
        raise ValueError(f"{path} is a damaged Regressor file (targets must be a non-empty list of records)")
    subs = [_fitted(cls, path, record, {**target, "feature_names": record.get("feature_names")})
            for target in targets]
    regressor = _fitted(cls, path, record, {**targets[0], "feature_names": record.get("feature_names")})
    names = [target.get("name") for target in targets]
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path} is a damaged Regressor file (a target's name is not a string: {names!r:.60})")
    regressor._adopt_targets(subs, names)
    return regressor


def _fitted(cls, path: Path, record: dict, part: dict):
    """A fitted Regressor from the file's parameters and one target's equations (``part``)."""
    from .law_checks import law_found

    try:
        regressor, names, equations, counts = _read_record(cls, {**part, "params": record.get("params")})
    except (KeyError, TypeError, AttributeError, OverflowError, ValueError) as error:
        detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        raise ValueError(f"{path} is a damaged Regressor file ({detail})") from None
    if not equations:
        raise ValueError(f"{path} holds no equations")
    regressor.candidates_ = [e for e in equations if math.isfinite(e.fvu)] or equations
    regressor._choose()
    # Files written before "names_given" existed always held names; x1, x2, .. were the defaults, not given ones.
    given = record.get("names_given", list(names) != default_names(len(names)))
    if not isinstance(given, bool):
        raise ValueError(f"{path} is a damaged Regressor file (names_given must be bool, got {given!r:.40})")
    if given:
        regressor.feature_names_in_ = np.asarray(names, dtype=object)
    regressor._names_from_frame = False
    regressor.n_features_in_ = len(names)
    regressor.n_candidates_ = counts
    regressor.found_ = law_found(regressor.best_.fvu) and not regressor.best_.underdetermined
    return regressor


def _typed(value, kinds, what: str):
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ValueError(f"{what} must be {names}, got {type(value).__name__} {value!r:.40}")
    return value


def _read_record(cls, record: dict):
    """-> (regressor with its parameters, feature names, equations, candidate counts); ValueError naming the first
    bad field."""
    from ..simplipy import normalize
    from ..simplipy.tokens import is_variable, variable_index
    from .equation import Equation

    params = _typed(record["params"], (dict,), "params")
    known = set(cls._param_names())
    for name, value in params.items():
        _typed(value, _PLAIN, f"parameter {name!r}")
    regressor = cls(**{k: v for k, v in params.items() if k in known})
    regressor._check_params()
    names = tuple(_typed(n, (str,), "a feature name") for n in _typed(record["feature_names"], (list,),
                                                                        "feature_names"))
    equations = []
    for i, e in enumerate(_typed(record["equations"], (list,), "equations")):
        where = f"equation {i + 1}"
        e = _typed(e, (dict,), where)
        skeleton = tuple(normalize([_typed(t, (str,), f"a token of {where}")
                                    for t in _typed(e["skeleton"], (list,), f"{where}'s skeleton")]))
        for token in skeleton:
            if is_variable(token) and variable_index(token) >= len(names):
                raise ValueError(f"{where} uses {token}, but the file names only {len(names)} feature(s)")
        constants = tuple(float(_typed(c, (int, float), f"a constant of {where}")) for c in e["constants"])
        if not all(math.isfinite(c) for c in constants):
            raise ValueError(f"{where} has a non-finite constant {constants}")
        if sum(t == "<constant>" for t in skeleton) != len(constants):
            raise ValueError(f"{where} ({' '.join(skeleton)}) has {len(constants)} constant value(s) for its "
                             f"placeholders")
        fvu = float(_typed(e["fvu"], (int, float), f"{where}'s fvu"))
        complexity = _typed(e["complexity"], (int,), f"{where}'s complexity")
        objective = float(_typed(e["score"], (int, float), f"{where}'s score"))
        rows = _typed(e.get("rows", 0), (int,), f"{where}'s rows")
        raw = tuple(normalize([_typed(t, (str,), f"a raw token of {where}")
                               for t in _typed(e.get("raw", []), (list,), f"{where}'s raw form")])) \
            if e.get("raw") else ()
        if complexity < 1 or rows < 0:
            raise ValueError(f"{where} has complexity {complexity} and rows {rows}")
        for token in raw:
            if is_variable(token) and variable_index(token) >= len(names):
                raise ValueError(f"{where}'s raw form uses {token}, but the file names only {len(names)} feature(s)")
        equations.append(Equation(skeleton, constants, fvu, complexity, objective, names, rows, raw))
    n_candidates = _typed(record.get("n_candidates", {}), (dict,), "n_candidates")
    counts = {str(k): _typed(v, (int,), f"n_candidates[{k!r}]") for k, v in n_candidates.items()}
    return regressor, names, equations, counts
