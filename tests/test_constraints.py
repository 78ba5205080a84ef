"""Constraints as PySR users give them (issue 30 item 3): binary_operators, unary_operators, maxsize,
nested_constraints and required_variables are kept by every returned formula, over many fits with random
constraint sets, and bad names are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.cli import main
from lawfinder.inference import Regressor
from lawfinder.inference.constraints import BINARY, Constraints
from lawfinder.simplipy import parse

POOL = ["C * x1 * sin(x2)", "x1 * x2", "x1 + x2", "C * exp(x1) - x2", "sin(sin(x1)) * C", "log(x1) / x2",
        "sqrt(x1 * x2) + C", "x1 * x1 * x2", "cos(x1 + sin(x2))", "C * x1 / (x2 + C)", "exp(-x1) * cos(x2)",
        "x2 - x1 * C", "tanh(x1) + C * x2", "C * x1", "abs(x2 - C) * x1", "x1 ** 3 / x2 + C"]
UNARY = ["sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "square", "cube"]


def proposer(X, y):
    return [parse(t) for t in POOL]


def random_constraints(rng: np.random.Generator) -> dict:
    out = {}
    if rng.random() < 0.7:
        out["binary_operators"] = list(rng.choice(["+", "-", "*", "/"], size=rng.integers(1, 5), replace=False))
    if rng.random() < 0.7:
        out["unary_operators"] = list(rng.choice(UNARY, size=rng.integers(0, 5), replace=False))
    if rng.random() < 0.5:
        out["maxsize"] = int(rng.integers(3, 12))
    if rng.random() < 0.4:
        outer = str(rng.choice(["sin", "cos", "exp"]))
        out["nested_constraints"] = {outer: {str(rng.choice(["sin", "cos", "exp"])): int(rng.integers(0, 2))}}
    if rng.random() < 0.4:
        out["required_variables"] = [str(rng.choice(["a", "b"]))]
    return out


def test_no_returned_formula_breaks_random_constraints_over_many_fits():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, (40, 2))
    y = 2.0 * X[:, 0] * np.sin(X[:, 1])
    fits = broken = empty = 0
    for _ in range(120):
        params = random_constraints(rng)
        model = Regressor(proposer=proposer, random_state=int(rng.integers(1000)), n_restarts=1, n_jobs=1,
                          **params)
        try:
            model.fit(X, y, feature_names=["a", "b"])
        except RuntimeError as error:                     # nothing in the pool keeps them: said, never broken
            assert "no candidate keeps the constraints" in str(error)
            empty += 1
            continue
        fits += 1
        rules = Constraints.from_params(**{k: v for k, v in params.items() if k != "required_variables"},
                                        required_variables=params.get("required_variables"),
                                        feature_names=["a", "b"])
        broken += sum(rules.violation(e.skeleton) is not None for e in model.candidates_)
    assert broken == 0 and fits >= 100 - empty and fits > 60


def test_constraints_shape_the_answer():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2.0, (50, 2))
    y = 2.0 * X[:, 0] * np.sin(X[:, 1])
    free = Regressor(proposer=proposer, random_state=0, n_jobs=1).fit(X, y)
    assert "sin" in free.best_.expression
    no_sin = Regressor(proposer=proposer, random_state=0, n_jobs=1, unary_operators=["exp", "log"]).fit(X, y)
    assert all("sin" not in e.expression for e in no_sin.candidates_)
    short = Regressor(proposer=proposer, random_state=0, n_jobs=1, maxsize=3).fit(X, y)
    assert max(e.complexity for e in short.candidates_) <= 3


@pytest.mark.parametrize("params, message", [
    ({"unary_operators": ["sine"]}, "unary_operators: unknown operator 'sine'; known: "),
    ({"binary_operators": ["%"]}, "binary_operators: unknown operator '%'"),
    ({"maxsize": 0}, "maxsize must be a positive integer"),
    ({"nested_constraints": {"sin": {"cos": -1}}}, "must be a count >= 0"),
    ({"required_variables": ["c"]}, "required_variables: 'c' is not a column"),
])
def test_bad_constraints_are_one_line_errors(params, message):
    X = np.random.default_rng(2).uniform(1, 2, (20, 2))
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        Regressor(proposer=proposer, **params).fit(X, X[:, 0] * X[:, 1], feature_names=["a", "b"])


def test_the_cli_takes_the_constraints(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Regressor, "_model_proposer", lambda self, n, seed, deadline: proposer)
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.5, 2, 40), rng.uniform(0.5, 2, 40)
    path = tmp_path / "t.csv"
    np.savetxt(path, np.column_stack([a, b, 2 * a * np.sin(b)]), delimiter=",", header="a,b,y", comments="")
    assert main(["fit", str(path), "--target", "y", "--seed", "0", "--unary-operators", "none", "--maxsize", "5",
                 "--nested-constraints", '{"sin": {"sin": 0}}', "--required", "b"]) == 0
    rows = [line.split(maxsplit=4)[-1] if line.startswith(">>>>") else line.split(maxsplit=3)[-1]
            for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows and all("b" in r and len(parse(r.replace("a", "x1").replace("b", "x2"))) <= 5 for r in rows)
    assert not any(name in r for r in rows for name in ("sin", "exp", "log", "sqrt", "abs", "tanh"))
    with pytest.raises(SystemExit) as stop:      # argparse's usage error, exit status 2
        main(["fit", str(path), "--target", "y", "--nested-constraints", "[1]"])
    assert stop.value.code == 2 and "expected a JSON object" in capsys.readouterr().err
    assert set(BINARY) == {"+", "-", "*", "/", "pow"}


def test_the_model_never_samples_an_operator_the_constraints_rule_out():
    from lawfinder.inference.proposal import ModelProposer, SamplingConfig, load

    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 2.0, (64, 2))
    rules = Constraints.from_params(["+", "*"], ["exp"])
    banned = set(rules.banned_tokens())
    assert {"sin", "-", "/", "log"} <= banned and "exp" not in banned
    free = ModelProposer(load(None), SamplingConfig(n_samples=64), seed=0)(X, X[:, 0] * np.sin(X[:, 1]))
    masked = ModelProposer(load(None), SamplingConfig(n_samples=64), seed=0, banned_tokens=sorted(banned))(
        X, X[:, 0] * np.sin(X[:, 1]))
    assert any(t in banned for tokens in free for t in tokens)          # the model would have used them
    assert not any(t in banned for tokens in masked for t in tokens)
