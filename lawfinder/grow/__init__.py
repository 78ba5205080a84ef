"""Growing the shipped model run after run: ``lawfinder grow`` (and ``deploy/grow.sh``, which calls it under ``nice``).

One model, one lineage: every run, on this 2-core CPU box or on a lent GPU, continues the *trunk* (the weights of a
warmup–stable–decay schedule's stable phase, committed in ``growing/``), trains it at the constant peak LR for most of
its wall-clock budget, saves it, then branches a short cool-down off it (LR decayed to 0) and exports that branch as a
candidate for the promotion gate (``lawfinder bench promote``). The next run continues the trunk, never the branch,
so no run needs to know how many will follow (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond
Fixed Training Durations").

- ``recipe``: the fixed recipe (model shape, data prior, batch, LR) and the pure schedule functions;
- ``lineage``: the trunk file and its history (what is committed), read and written atomically;
- ``warm_start``: starting a lineage from weights of a narrower model (the 3-variable shipped model);
- ``feed``: training batches from the generator, in-process or from producer processes;
- ``run``: one run (trunk phase, cool-down branch, candidate);
- ``cli``: ``lawfinder grow``.
"""
