"""Tokenizers: the paper's vocabulary, encode/decode round trips, clear errors, and the LaTeX <-> prefix maps."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder.model.tokenizer import (
    CONSTANT, LATEX, PREFIX, PREFIX_OPERATORS, TOKENIZERS, constantify_numbers, get_tokenizer,
)
from lawfinder.simplipy import OPERATORS, normalize, parse
from lawfinder.simplipy.latex_tokens import LATEX_OPERATORS, latex_tokens, parse_latex_tokens
from tests.expression_strategies import expressions, flatten

PREFIX_LEAVES = ("x1", "x2", "x17", CONSTANT, "0", "1", "-1", "pi", "e")
# The scaling-laws task: x1, x2; exp sin neg sqrt; + - * /; integers -9..9 (plus what SymPy canonical forms add).
SL_LEAVES = ("x1", "x2", *(str(i) for i in range(-9, 10)))
SL_UNARY = ("exp", "sin", "neg", "pow1_2")
SL_BINARY = ("+", "-", "*", "/")


def test_prefix_vocabulary_is_flash_ansr_v23():
    assert len(PREFIX) == 83  # 28 special/literal + 38 operators + 17 variables (facts §3)
    assert (PREFIX.pad_id, PREFIX.bos_id, PREFIX.eos_id) == (0, 1, 2)
    assert PREFIX.vocab[:3] == ["<pad>", "<bos>", "<eos>"]
    assert len(PREFIX_OPERATORS) == 38
    assert set(PREFIX_OPERATORS) <= set(OPERATORS)  # every operator token means something to the expression core
    assert PREFIX.vocab[-17:] == [f"x{i}" for i in range(1, 18)]


def test_registry_and_unknown_name():
    assert get_tokenizer("prefix") is TOKENIZERS["prefix"] and get_tokenizer("latex") is LATEX
    with pytest.raises(ValueError, match="'bpe'"):
        get_tokenizer("bpe")


def test_tokenizer_module_does_not_import_torch():
    code = "import sys, lawfinder.model.tokenizer, lawfinder.model.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@settings(max_examples=200, deadline=None)
@given(expressions(leaves=PREFIX_LEAVES))
def test_prefix_round_trip(tree):
    tokens = flatten(tree)
    ids = PREFIX.encode(tokens)
    assert ids[0] == PREFIX.bos_id and ids[-1] == PREFIX.eos_id
    assert PREFIX.decode(ids) == tokens
    assert PREFIX.decode(ids[1:-1]) == tokens == PREFIX.decode(PREFIX.encode(tokens, add_special=False))


def test_unknown_token_names_token_and_position():
    with pytest.raises(ValueError, match=r"'foo' at position 2"):
        PREFIX.encode(["+", "x1", "foo"])
    with pytest.raises(ValueError, match=r"'2' at position 1 .*constantify_numbers"):
        PREFIX.encode(["*", "2", "x1"])
    with pytest.raises(ValueError, match=r"'x18' at position 0"):
        PREFIX.encode(["x18"])


def test_simplipy_spellings_are_aliases():
    native = ["*", "(-1)", "+", "np.pi", "np.e"]
    assert PREFIX.decode(PREFIX.encode(native)) == ["*", "-1", "+", "pi", "e"]


def test_constantify_numbers_keeps_vocabulary_literals():
    tokens = ["+", "*", "2", "x1", "-", "0.5", "+", "1", "-1"]
    out = constantify_numbers(tokens)
    assert out == ["+", "*", CONSTANT, "x1", "-", CONSTANT, "+", "1", "-1"]
    PREFIX.encode(out)


def test_decode_stops_at_eos_and_drops_specials_but_keeps_constant():
    ids = PREFIX.encode(["*", CONSTANT, "x1"]) + [PREFIX.token_id("x2"), 0, 0]
    assert PREFIX.decode(ids) == ["*", CONSTANT, "x1"]
    assert PREFIX.decode([0, 1, PREFIX.token_id("<mask>"), PREFIX.token_id("x3")]) == ["x3"]
    with pytest.raises(ValueError, match="token id 83 at position 1"):
        PREFIX.decode([1, 83])


def test_encode_batch_pads_and_rejects_overlong():
    arr = PREFIX.encode_batch([["x1"], ["+", "x1", "x2"]], max_len=6)
    assert arr.dtype == np.int64 and arr.shape == (2, 6)
    assert arr[0].tolist() == [1, PREFIX.token_id("x1"), 2, 0, 0, 0]
    assert PREFIX.decode(arr[1]) == ["+", "x1", "x2"]
    with pytest.raises(ValueError, match="sequence 1 needs 5 ids"):
        PREFIX.encode_batch([["x1"], ["+", "x1", "x2"]], max_len=4)
    with pytest.raises(ValueError, match="sequence 0: unknown token 'y'"):
        PREFIX.encode_batch([["y"]], max_len=4)


# ---- LaTeX ---------------------------------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(expressions(unary=SL_UNARY, binary=SL_BINARY, leaves=SL_LEAVES, max_leaves=10))
def test_latex_round_trip_on_the_scaling_laws_task(tree):
    prefix = normalize(flatten(tree))
    latex = latex_tokens(prefix)
    assert parse_latex_tokens(latex) == prefix
    assert LATEX.decode(LATEX.encode(latex)) == latex  # every emitted token is in the LaTeX vocabulary


@settings(max_examples=200, deadline=None)
@given(expressions(unary=("exp", "log", "sin", "cos", "tan", "neg", "inv", "pow2", "pow3", "pow1_2"),
                   binary=("+", "-", "*", "/"), leaves=("x1", "x2", "x9", "0", "12", "-305", "pi", "e")))
def test_latex_round_trip_with_powers_and_long_integers(tree):
    prefix = normalize(flatten(tree))
    assert parse_latex_tokens(latex_tokens(prefix)) == prefix


@pytest.mark.parametrize("infix, latex", [
    ("x1 - (x2 - 3)", "x_{1} - ( x_{2} - 3 )"),
    ("-3 * x1", "- 3 \\cdot x_{1}"),
    ("x1 * (-12)", "x_{1} \\cdot ( - 1 2 )"),
    ("exp(x1) / sqrt(x2)", "\\frac { \\exp ( x_{1} ) } { \\sqrt { x_{2} } }"),
    ("(-x1)**2", "( - x_{1} ) ^ { 2 }"),
    ("x1**(-2)", "x_{1} ^ { - 2 }"),
])
def test_latex_spelling(infix, latex):
    prefix = normalize(parse(infix))
    assert " ".join(latex_tokens(prefix)) == latex
    assert parse_latex_tokens(latex.split()) == prefix


def test_neg_of_literal_and_negative_literal_stay_distinct():
    a, b = latex_tokens(["neg", "3"]), latex_tokens(["-3"])
    assert a != b
    assert parse_latex_tokens(a) == ["neg", "3"] and parse_latex_tokens(b) == ["-3"]


def test_latex_tokens_spells_the_expression_as_written():
    # A substituted integer exponent (pow x1 <constant> with 1 drawn) is a training target as drawn, not respelled.
    assert " ".join(latex_tokens(["pow", "x1", "1"])) == "x_{1} ^ { 1 }"
    assert set(LATEX_OPERATORS) <= set(OPERATORS)


@pytest.mark.parametrize("tokens", [[CONSTANT], ["abs", "x1"], ["0.5"], ["x10"], ["+", "x1"], ["x1", "x2"]])
def test_latex_tokens_rejects_what_it_cannot_spell(tokens):
    with pytest.raises(ValueError):
        latex_tokens(tokens)


@pytest.mark.parametrize("latex, where", [
    ([], "empty"),
    (["x_{1}", "+"], "position 2"),
    (["(", "x_{1}"], "expected ')' at position 2"),
    (["\\frac", "{", "1", "}"], "expected '{' at position 4"),
    (["x_{1}", "x_{2}"], "unexpected token 'x_{2}' at position 1"),
    (["0", "7"], "leading zero"),
    (["\\sin", "x_{1}"], "expected '(' at position 1"),
    (["}"], "position 0"),
])
def test_parse_latex_tokens_rejects_malformed_input(latex, where):
    with pytest.raises(ValueError, match=re.escape(where)):
        parse_latex_tokens(latex)


@given(st.lists(st.sampled_from(LATEX.vocab[3:]), max_size=12))
@settings(max_examples=300, deadline=None)
def test_parse_latex_tokens_never_crashes_otherwise(latex):
    """Arbitrary token soup either parses to a valid prefix expression or raises ValueError, nothing else."""
    try:
        prefix = parse_latex_tokens(latex)
    except ValueError:
        return
    assert parse_latex_tokens(latex_tokens(prefix)) == prefix
