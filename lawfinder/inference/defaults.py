"""The inference defaults, defined once: the CLI, ``Regressor``, proposal, ranking and fitting all read them here."""

N_SAMPLES = 512      # sequences sampled from the model per fit
PARSIMONY = 0.05     # Flash-ANSR's lambda: score = log10(FVU) + PARSIMONY * length
N_RESTARTS = 8       # Levenberg-Marquardt restarts per candidate
MODEL_SELECTIONS = ("best", "accuracy", "score")  # how Regressor picks its answer (see pareto.select)
MODEL_SELECTION = "best"
# The search's budget for big tables and big rounds (search.SearchConfig; Regressor arguments of the same names).
FIT_ROWS = 4096       # constants are fitted on at most this many rows (a random subsample)
FINALISTS = 16        # best candidates scored on every row and tried with integer constants
SCREEN_MIN = 96       # a round with more new candidates than this is screened first
SCREEN_KEEP = 48      # ... and only this many of them (best screening score first) get the full restarts
SCREEN_ROWS = 128     # rows the screening fits see
# Refinement guided by the model (search.refine_cuts): from the second round on, the model also completes the first
# third and two thirds of the best few formulas so far, keeping what already fits and proposing the rest.
REFINE_SHARE = 0.5    # completions per round, as a share of n_samples (0 turns refinement off)
REFINE_TOP = 4        # how many of the best formulas lend their prefixes
REFINE_SPLICE = False  # also splice the first subtree of each completion into its formula (a mutation): measured, no gain
# Evolution (search.search's ``evolve``, inference/evolve.py): from the second round on, mutations and crossovers of
# the best formulas so far join the model's proposals, so the search keeps finding new candidates while time remains.
EVOLVE_SHARE = 0.5    # children per round, as a share of n_samples (0 turns evolution off)
EVOLVE_TOP = 8        # how many of the best formulas are parents
# Residual terms (search.search's ``terms``, inference/residual_terms.py): each of those best formulas, once, plus
# each of the terms that best explain what it misses (chosen by least squares over a library of products of features).
RESIDUAL_TERMS = 4    # children per formula (0 turns it off)
# Linear laws (search.search's ``laws``, inference/linear_laws.py): sparse regressions of a transformed target (y,
# 1/y, log|y|, y^2, y / f and (y / f)^2 for a best formula or a variable f, the rational form) over a library of
# products of features, queued and run a few per round from the second on; more time reaches more of the queue.
LINEAR_LAWS = 2       # screens per round (0 turns it off)
