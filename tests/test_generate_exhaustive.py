"""The scaling-laws preset: exhaustive enumeration, constant insertion, LaTeX targets, the cached base set."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.generate import PRESETS, Generator, batch_to_arrays
from lawfinder.generate import exhaustive
from lawfinder.generate.exhaustive import enumerate_trees, insert_constants, keep_base, spell_for_latex
from lawfinder.generate.generator import substitute_constants
from lawfinder.model.tokenizer import get_tokenizer
from lawfinder.simplipy import compile_expression, validate
from lawfinder.simplipy.latex_tokens import parse_latex_tokens
from lawfinder.simplipy.operators import CONSTANT

UNARY, BINARY = ["exp", "sin", "neg", "pow1_2"], ["+", "-", "*", "/"]


def test_enumeration_counts_without_canonicalisation():
    expressions, counts = enumerate_trees(UNARY, BINARY, ["x1", "x2"], 1)
    # 2 leaves + 4·2 unary + (3 unordered pairs for + and *, 4 ordered for - and /) · ... = 2 + 8 + 2·3 + 2·4.
    assert len(expressions) == 24 == len(set(expressions))
    assert counts["raw_trees"] == {0: 2, 1: 26}
    assert ("+", "x2", "x1") not in expressions and ("-", "x2", "x1") in expressions
    _, counts = enumerate_trees(UNARY, BINARY, ["x1", "x2"], 3, canonical=lambda t: t[:1])  # all collapse
    assert counts["raw_trees"][3] == 2834 + 4 * 2834 + 4 * 2834**2  # 32,140,394 raw depth-3 trees


def test_canonical_forms_are_deduplicated_and_filtered():
    def canonical(tokens):
        return ["0"] if tokens in (["-", "x1", "x1"], ["-", "x2", "x2"]) else tokens

    expressions, _ = enumerate_trees(UNARY, BINARY, ["x1", "x2"], 2, canonical=canonical)
    assert expressions.count(("0",)) == 1 and ("exp", "0") in expressions
    assert keep_base(["0"]) == "no_variable" and keep_base(["exp", "0"]) == "no_variable"
    assert keep_base(["*", "0.5", "x1"]) == "no_latex"
    assert keep_base(["+", "x1", "nan"]) == "non_finite_token"
    assert keep_base(["sin", "x2"]) is None


def test_shorthand_operators_are_spelled_for_latex():
    tokens = ["+", "mult2", "x1", "*", "div3", "abs", "x2", "pow1_4", "mult5", "x1"]
    spelled = spell_for_latex(tokens)
    assert not {"mult2", "div3", "abs", "pow1_4", "mult5"} & set(spelled)
    assert keep_base(spelled) is None and keep_base(tokens) == "no_latex"
    X = np.random.default_rng(0).uniform(0.1, 3, size=(20, 2)) * np.array([1, -1])
    np.testing.assert_allclose(compile_expression(spelled)(X), compile_expression(tokens)(X), rtol=1e-12)


def test_insert_constants():
    config = PRESETS["scaling-laws"]
    base = ["+", "sin", "x1", "/", "x2", "x1"]
    rng = np.random.default_rng(0)
    assert insert_constants(base, config.with_overrides(constant_probability=0.0), rng)[0] == base
    seen = set()
    for _ in range(200):
        skeleton, values = insert_constants(base, config.with_overrides(constant_probability=1.0), rng)
        validate(skeleton)
        assert skeleton.count(CONSTANT) == len(base) == values.size  # every node got one
        assert np.all(values == np.rint(values)) and np.all(np.abs(values) <= 9) and np.all(values != 0)
        filled = substitute_constants(skeleton, values)
        X = rng.normal(size=(5, 2))
        np.testing.assert_allclose(compile_expression(filled)(X), compile_expression(skeleton)(X, values))
        seen.update(values.tolist())
    assert seen == set(range(-9, 10)) - {0}
    counts = [insert_constants(base, config, rng)[1].size for _ in range(2000)]
    assert np.mean(counts) == pytest.approx(0.2 * len(base), abs=0.1)


def test_scaling_laws_generator_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("LAWFINDER_CACHE", str(tmp_path))
    config = PRESETS["scaling-laws"].with_overrides(max_depth=1)
    generator = Generator(config, seed=0)
    source = generator._source
    assert source.counts["raw_trees"] == {"0": 2, "1": 26}
    assert len(source) + generator.stats.rejected["contaminated"] == source.counts["base_expressions"] > 10
    assert source.counts["numerically_distinct"] <= source.counts["base_expressions"]
    batch = generator.sample_batch(40)
    arrays = batch_to_arrays(batch)
    assert arrays["X"].shape == (40, 64, 2) and arrays["point_mask"].all()
    assert np.isfinite(arrays["y"]).all()
    tokenizer = get_tokenizer("latex")
    for row in batch.to_pylist():
        skeleton = row["skeleton"].split()
        target = parse_latex_tokens(tokenizer.decode(row["token_ids"]))
        assert target == substitute_constants(skeleton, row["constants"])
    # One pass over the base set per epoch: 40 samples out of a smaller base set cover every expression.
    assert len(source) < 40 and {r["skeleton"] for r in batch.to_pylist()}
    cached = sorted(p.name for p in tmp_path.iterdir())
    assert len(cached) == 2 and "-held-out-" in cached[0]  # the base set and its decontaminated index list
    monkeypatch.setattr(exhaustive, "build_base_set", lambda *a, **k: pytest.fail("cache not used"))
    monkeypatch.setattr(exhaustive, "_LOADED", {})  # as in a fresh process: read the file
    again = Generator(config, seed=0).sample_batch(40)
    assert again.equals(batch)
