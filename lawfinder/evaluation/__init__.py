"""FastSRB evaluation: datasets regenerated with Flash-ANSR's protocol, its metrics with bootstrap CIs over
equations, sweeps over budget/noise/sparsity, GP baselines through one method protocol, plots and the results page.
"""

from .bootstrap import Estimate, bootstrap_ci
from .datasets import Dataset, Equation, FastSRBConfig, PRESETS, generate, load_equations, select
from .methods import make_method
from .protocol import Budget, Method, Prediction, Task

__all__ = [
    "Budget", "Dataset", "Equation", "Estimate", "FastSRBConfig", "Method", "PRESETS", "Prediction", "Task",
    "bootstrap_ci", "generate", "load_equations", "make_method", "select",
]
