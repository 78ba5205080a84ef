"""Constant fitting: a candidate skeleton and a table in, fitted constants and their FVU out.

The one entry point is ``fit_all(candidates, X, y, config, seed, n_jobs, deadline, w)``: it fits every candidate and
decides where (``dispatch.py``: in this process, in forked worker processes, or on the Ray ``FitterPool`` of
``ray_pool.py``, in chunks cut by ``chunks.py``), with the same restarts wherever they run. One candidate's fit is
``constants.py`` (``fit_constants``): linear constants by least squares (``separable.py``, variable projection), the
others by Levenberg–Marquardt from starts over many decades (``starts.py``). ``snapping.py`` then tries the simple values
(integers, small fractions, multiples of pi) the constants of the best few stand for, and shortens the decimals of
the rest. The search (``lawfinder/inference/search.py``) is the only caller
of ``fit_all``; the rest of ``inference`` reads results (``FitResult``) and the helpers below.

Inside the package the imports run one way: dispatch -> ray_pool -> chunks; dispatch, ray_pool, snapping ->
constants -> separable, starts.
"""

from .constants import (FitConfig, FitResult, draw_seed, fit_candidates, fit_constants, fvu_at, fvu_of,
                        normalized_weights, subsample, substitute, weighted_var)
from .dispatch import backend, fit_all, resolve_n_jobs
from .separable import separate
from .snapping import effective_rows, keeps_fit, snap

__all__ = ["FitConfig", "FitResult", "backend", "draw_seed", "effective_rows", "fit_all", "fit_candidates",
           "fit_constants", "fvu_at", "fvu_of", "keeps_fit", "normalized_weights", "resolve_n_jobs", "separate",
           "snap", "subsample", "substitute", "weighted_var"]
