"""Genetic-programming baselines behind the same method protocol: pyoperon and gplearn (optional extras, imported only
when a run asks for them). PySR needs a Julia install that cannot be fetched here; its published figures are quoted
on the results page instead.

``budget.value`` is the number of generations for both. Each run is single-threaded so that wall times compare
with lawfinder's on the same core count.
"""

from __future__ import annotations

import numpy as np

from ..simplipy import parse
from ..simplipy.tokens import format_number
from .protocol import Budget, Prediction, Task, prediction_from_tokens

# Operon's function set covering every operator FastSRB uses (+ - * / powers sqrt exp log sin cos tanh); constants
# are tuned by Levenberg-Marquardt inside the search (optimizer_iterations), Operon's standard setting.
OPERON_SYMBOLS = "add,sub,mul,div,square,sqrt,exp,log,sin,cos,tanh,pow,constant,variable"
OPERON_DEFAULTS = dict(population_size=500, max_length=50, optimizer_iterations=10, n_threads=1)

# gplearn's protected versions of these are what it fits; tokens map them to the plain operators for the
# length ratio and symbolic comparison, while numeric scores use gplearn's own predict.
GPLEARN_FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", "neg", "inv")
_GPLEARN_TOKENS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "sqrt": "pow1_2", "log": "log", "sin": "sin",
                   "cos": "cos", "tan": "tan", "neg": "neg", "inv": "inv", "abs": "abs"}
GPLEARN_DEFAULTS = dict(population_size=1000, function_set=GPLEARN_FUNCTIONS, n_jobs=1)

MISSING_EXTRA = "{package} is not installed: pip install '{requirement}' (the baselines are optional)"


class OperonMethod:
    name = "pyoperon"

    def __init__(self, **options):
        try:
            from pyoperon.sklearn import SymbolicRegressor  # noqa: PLC0415 - optional extra
        except ImportError:
            raise ValueError(MISSING_EXTRA.format(package="pyoperon", requirement="pyoperon>=0.6")) from None
        self._cls = SymbolicRegressor
        self.options = {**OPERON_DEFAULTS, **options}

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        kwargs = dict(self.options, allowed_symbols=OPERON_SYMBOLS, random_state=task.seed)
        if budget.value is not None:
            kwargs["generations"] = int(budget.value)
        if budget.seconds is not None:
            kwargs["max_time"] = max(1, int(round(budget.seconds)))
        model = self._cls(**kwargs)
        model.fit(np.asarray(task.X, dtype=np.float64), np.asarray(task.y, dtype=np.float64))
        names = [f"x{i + 1}" for i in range(task.X.shape[1])]
        text = model.get_model_string(model.model_, 17, names=names)
        try:
            return prediction_from_tokens(parse(text), text=text)
        except ValueError as error:
            # Keep Operon's own numbers when its printout uses a spelling lawfinder cannot read.
            return Prediction(tokens=None, predict=lambda X: model.predict(np.asarray(X, dtype=np.float64)),
                              text=text, info={"parse_error": str(error)})


def _gplearn_tokens(program) -> list[str]:
    tokens = []
    for node in program:
        if isinstance(node, (int, np.integer)):
            tokens.append(f"x{int(node) + 1}")
        elif isinstance(node, (float, np.floating)):
            tokens.append(format_number(float(node)))
        else:
            name = getattr(node, "name", str(node))
            if name not in _GPLEARN_TOKENS:
                raise ValueError(f"gplearn function {name!r} has no lawfinder token")
            tokens.append(_GPLEARN_TOKENS[name])
    return tokens


class GplearnMethod:
    name = "gplearn"

    def __init__(self, **options):
        try:
            from gplearn.genetic import SymbolicRegressor  # noqa: PLC0415 - optional extra
        except ImportError:
            raise ValueError(MISSING_EXTRA.format(package="gplearn", requirement="gplearn>=0.4")) from None
        self._cls = SymbolicRegressor
        self.options = {**GPLEARN_DEFAULTS, **options}

    def fit_predict(self, task: Task, budget: Budget) -> Prediction:
        kwargs = dict(self.options, random_state=task.seed)
        if budget.value is not None:
            kwargs["generations"] = int(budget.value)
        model = self._cls(**kwargs)
        model.fit(np.asarray(task.X, dtype=np.float64), np.asarray(task.y, dtype=np.float64))
        text = str(model._program)
        try:
            tokens = _gplearn_tokens(model._program.program)
        except ValueError:
            tokens = None
        return Prediction(tokens=tokens, predict=lambda X: model.predict(np.asarray(X, dtype=np.float64)),
                          text=text, info={"protected_operators": True})
