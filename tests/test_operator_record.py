"""Adding an operator is one record: a made-up one (``erf``, which lawfinder does not ship) is registered and every
table in the package knows it — parser, printers, evaluators, simplifier, units, LaTeX tokens, export, constraints,
the prior, and (in a fresh process, since a vocabulary is read once) the model's vocabulary and the generator."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import special

from lawfinder.simplipy import operators
from lawfinder.simplipy.operators import PREC_ATOM, Operator

ERF = dict(name="erf", arity=1, numpy=special.erf, sympy=lambda a: sp.erf(a, evaluate=False),
           latex="\\operatorname{{erf}}\\left({0}\\right)", precedence=PREC_ATOM, wrap=(False,), scalar=math.erf,
           mpmath=mpmath.erf, sympy_function=sp.erf, sign="follows", bound=1.0, parity="odd",
           latex_token="\\erf", in_vocabulary=True, prior_weight=1.0)

# The same record, for a fresh interpreter that registers it before the model's vocabulary is read.
_REGISTER = """
import math, mpmath, sympy as sp
from scipy import special
from lawfinder.simplipy.operators import PREC_ATOM, Operator, register
register(Operator("erf", 1, special.erf, lambda a: sp.erf(a, evaluate=False), "\\\\operatorname{{erf}}\\\\left({0}\\\\right)",
                  PREC_ATOM, wrap=(False,), scalar=math.erf, mpmath=mpmath.erf, sympy_function=sp.erf,
                  sign="follows", bound=1.0, parity="odd", latex_token="\\\\erf", in_vocabulary=True, prior_weight=1.0))
"""


@pytest.fixture
def erf():
    operators.register(Operator(**ERF))
    try:
        yield "erf"
    finally:
        operators.unregister("erf")
    assert "erf" not in operators.OPERATORS


def test_expressions_read_print_and_evaluate_it(erf):
    from lawfinder.simplipy import compile_expression, from_sympy, normalize, parse, to_infix, to_latex, to_sympy
    from lawfinder.simplipy.interpret import evaluate

    tokens = parse("erf(x) * y", variables=["x", "y"])
    assert tokens == ["*", "erf", "x1", "x2"]
    assert normalize(tokens) == tokens
    assert to_infix(tokens) == "erf(x1) * x2"
    assert "\\operatorname{erf}" in to_latex(tokens)
    x = np.array([[-1.0, 0.2, 2.0], [3.0, 1.0, -1.0]])
    want = special.erf(x[0]) * x[1]
    np.testing.assert_allclose(evaluate(tokens, x), want)
    np.testing.assert_allclose(compile_expression(tokens)(x.T), want)
    a = sp.Symbol("a", real=True)
    assert to_sympy(["erf", "x1"]).func is sp.erf
    assert from_sympy(sp.erf(a), ["a"]) == ["erf", "x1"]


def test_the_simplifier_uses_its_facts(erf):
    from lawfinder.simplipy import simplify
    from lawfinder.simplipy.simplify_check import mp_value

    assert simplify(["erf", "neg", "x1"]) == ["neg", "erf", "x1"]         # odd
    assert simplify(["abs", "erf", "pow2", "x1"]) == ["erf", "pow2", "x1"]  # follows the sign of a square
    assert simplify(["abs", "cos", "erf", "x1"]) == ["cos", "erf", "x1"]  # |erf| <= 1 < pi/2
    folded = simplify(["erf", "1"])                                        # constant folding
    assert len(folded) == 1 and float(folded[0]) == pytest.approx(math.erf(1.0))
    assert mp_value(["erf", "x1"], [0.5], []) == pytest.approx(math.erf(0.5), rel=1e-15)


def test_units_latex_tokens_export_and_constraints_know_it(erf):
    from lawfinder.inference.constraints import Constraints
    from lawfinder.inference.export import array_function, python_names, python_text
    from lawfinder.inference.units import Inconsistent, dims_of, parse_units
    from lawfinder.simplipy.latex_tokens import latex_tokens, parse_latex_tokens

    assert dims_of(["erf", "x1"], [parse_units("1")]) == parse_units("1")
    with pytest.raises(Inconsistent):
        dims_of(["erf", "x1"], [parse_units("m")])
    spelled = latex_tokens(["erf", "x1"])
    assert spelled[0] == "\\erf" and parse_latex_tokens(spelled) == ["erf", "x1"]
    assert python_text(["erf", "x1"], ["t"]) == "erf(t)"
    assert python_names(["erf"]) == ("erf_",)
    X = np.array([[0.3], [-2.0]])
    np.testing.assert_allclose(array_function(["erf", "x1"], [], np)(X), special.erf(X[:, 0]))
    assert Constraints.from_params(unary_operators=["erf"]).unary == frozenset({"erf"})


def test_the_prior_draws_it(erf):
    from lawfinder.generate.config import GeneratorConfig
    from lawfinder.generate.skeleton import SkeletonSampler
    from lawfinder.generate.streams import UniformPool

    config = GeneratorConfig()
    assert ("erf", 1.0) in config.unary_operators
    only_erf = GeneratorConfig(unary_operators=(("erf", 1.0),), max_operators=4)
    sampler = SkeletonSampler(only_erf)
    drawn = [sampler.sample(UniformPool(np.random.default_rng(1))) for _ in range(50)]
    assert any("erf" in tokens for tokens in drawn)


def test_registering_checks_the_record():
    with pytest.raises(ValueError, match="'sin'.*taken"):
        operators.register(Operator(**{**ERF, "name": "sin"}))
    with pytest.raises(ValueError, match="units 'power'"):
        Operator(**{**ERF, "units": "power"})
    with pytest.raises(ValueError, match="sign must be one of"):
        Operator(**{**ERF, "sign": "positive"})
    assert Operator(**{**ERF, "name": "cube", "power": Fraction(3), "units": "power"}).power == 3


def test_a_fresh_process_trains_on_it():
    """In a new interpreter that registers erf first, the prefix vocabulary holds it (84 tokens) and the generator
    makes training samples with it."""
    script = _REGISTER + textwrap.dedent("""
        from lawfinder.generate.config import GeneratorConfig
        from lawfinder.generate.generator import Generator
        from lawfinder.model.tokenizer import PREFIX
        assert "erf" in PREFIX and len(PREFIX) == 84, len(PREFIX)
        config = GeneratorConfig(unary_operators=(("erf", 1.0),), max_operators=5, max_points=32, min_points=16,
                                 decontaminate=False)
        batch = Generator(config, seed=3).sample_batch(24)
        ids = {i for row in batch.column("token_ids").to_pylist() for i in row}
        print("erf drawn:", PREFIX.token_id("erf") in ids, any("erf" in s for s in batch.column("skeleton").to_pylist()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "erf drawn: True True" in out.stdout


@pytest.mark.parametrize("name", sorted(operators.OPERATORS))
def test_every_operator_exports_to_numpy_jax_and_torch(name):
    """Each operator's exported code (derived from its record: numpy's name, or the power or scaling it is) computes
    what the evaluator computes, in numpy, jax.numpy and torch."""
    import torch

    from lawfinder.inference.export import array_function, python_text, torch_module
    from lawfinder.simplipy.interpret import evaluate

    op = operators.OPERATORS[name]
    tokens = [name, "x1"] if op.arity == 1 else [name, "x1", "x2"]
    X = np.array([[0.3, 1.7], [0.7, 0.4], [1.5, 2.0], [2.5, 1.3], [-0.6, 3.0]])
    with np.errstate(all="ignore"):
        want = evaluate(tokens, X.T)
    ok = np.isfinite(want)
    assert ok.sum() >= 2, "the test's points leave too few in the operator's domain"
    text = python_text(tokens, ["a", "b"])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(array_function(tokens, [], np)(X)[ok], want[ok], rtol=1e-12)
        from_text = eval(text, {**vars(np), "a": X[:, 0], "b": X[:, 1]})  # noqa: S307 - the test's own text
    np.testing.assert_allclose(np.broadcast_to(from_text, want.shape)[ok], want[ok], rtol=1e-12)
    module = torch_module(tokens, [], ["a", "b"], text)
    np.testing.assert_allclose(module(torch.tensor(X)).detach().numpy()[ok], want[ok], rtol=1e-12)
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(array_function(tokens, [], jnp)(jnp.asarray(X)))[ok], want[ok], rtol=1e-5)
