"""FastSRB evaluation: datasets regenerated with Flash-ANSR's protocol, its metrics with bootstrap CIs over
equations, sweeps over budget/noise/sparsity, GP baselines through one method protocol, plots and the results page.
"""

from .bootstrap import Estimate, bootstrap_ci
from .datasets import PRESETS, Dataset, FastSRBConfig, FastSRBEquation, generate, load_equations, select
from .methods import make_method
from .protocol import Budget, Method, Prediction, Task

__all__ = [
    "Budget", "Dataset", "Estimate", "FastSRBConfig", "FastSRBEquation", "Method", "PRESETS", "Prediction", "Task",
    "bootstrap_ci", "generate", "load_equations", "make_method", "select",
]
