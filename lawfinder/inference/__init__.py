"""Inference: from a table to ranked formulas. ``Regressor`` (the estimator), constant fitting, ranking, candidate
preparation and sampling; ``lawfinder fit`` and ``lawfinder bench fit`` are its commands.

Names load on first use, so the CLI can register its commands without importing numpy, SciPy or SymPy.
"""

from importlib import import_module

_EXPORTS = {
    "Equation": "equation", "FitConfig": "fitting", "FitResult": "fitting", "fit_candidates": "fitting",
    "fit_constants": "fitting", "fit_all": "fitting", "prepare_candidates": "candidates", "rank_order": "ranking",
    "score": "ranking", "Regressor": "regressor",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'lawfinder.inference' has no attribute {name!r}")
