"""The inference defaults, defined once: the CLI, ``Regressor``, proposal, ranking and fitting all read them here."""

N_SAMPLES = 512      # sequences sampled from the model per fit
PARSIMONY = 0.05     # Flash-ANSR's lambda: score = log10(FVU) + PARSIMONY * length
N_RESTARTS = 8       # Levenberg-Marquardt restarts per candidate
MODEL_SELECTIONS = ("best", "accuracy", "score")  # how Regressor picks its answer (see pareto.select)
MODEL_SELECTION = "best"
