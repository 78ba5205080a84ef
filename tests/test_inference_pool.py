"""The Ray FitterPool (one small test on the shared Ray session): chunked fits on workers give exactly the numbers
of the in-process loop, and a Regressor uses the pool when Ray is running."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.inference import Regressor, fit_candidates
from lawfinder.simplipy import parse

# Well-conditioned candidates (one optimum each), so that rounding differences between processes cannot send a
# restart to another local minimum.
TEMPLATES = ["C * x1 + C", "C * x1 * x2", "C * sin(x2) + C * x1", "C * x1 ** 2 + C * x2", "C / x1 + C",
             "C * exp(x2) + C", "x1 * x2 + C", "C * log(x1) * x2"]


@pytest.mark.ray
def test_pool_matches_in_process_and_regressor_uses_it(ray_session, monkeypatch):
    from lawfinder.inference.fitting.chunks import MIN_CHUNK
    from lawfinder.inference.fitting.ray_pool import FitterPool

    candidates = [parse(t) for t in TEMPLATES] * 5  # 40: more than one chunk
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 5.0, (128, 2))
    y = 2.0 * X[:, 0] * np.sin(X[:, 1]) + 0.5
    local = fit_candidates(candidates, X, y, seed=5)
    pool = FitterPool(2)
    pooled = pool.fit(candidates, X, y, seed=5)
    assert pool.last_stats["tasks"] >= 2
    assert [r.tokens for r in pooled] == [r.tokens for r in local]
    assert [r.fvu for r in pooled] == pytest.approx([r.fvu for r in local], rel=1e-9)

    # 24 distinct candidates (the 40 above dedupe to 8, which is below the pool's smallest chunk and fits here).
    distinct = [parse(f"C * x1 ** {k} + C * x2") for k in range(1, 25)]
    assert len(distinct) > MIN_CHUNK
    calls = []
    real_fit = FitterPool.fit

    def spy(self, *args, **kwargs):
        calls.append(len(args[0]))
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(FitterPool, "fit", spy)
    via_ray = Regressor(proposer=lambda X, y: distinct, random_state=5, simplify=False).fit(X, y)
    assert calls and calls[0] == len(distinct)            # the Regressor's constants were fitted on the Ray pool
    here = Regressor(proposer=lambda X, y: distinct, random_state=5, n_jobs=1, simplify=False).fit(X, y)
    assert len(calls) == 1                                  # n_jobs=1 fits in this process
    assert [e.fvu for e in via_ray.candidates_] == pytest.approx([e.fvu for e in here.candidates_], rel=1e-9)
    assert np.isfinite(via_ray.best_.fvu)
