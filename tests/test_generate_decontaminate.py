"""Decontamination: FastSRB formulas renamed, permuted or with other constants are held out; near-misses pass."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.generate import Decontaminator
from lawfinder.generate.decontaminate import FASTSRB_INDEX, default_simplify
from lawfinder.generate.fingerprint import quantize, reduce_skeleton
from lawfinder.simplipy import parse
from lawfinder.simplipy.operators import CONSTANT, OPERATORS
from lawfinder.simplipy.tokens import (format_number, from_tree, is_number, is_variable, number_value, to_tree,
                                      variable_index)


@pytest.fixture(scope="module")
def fastsrb() -> Decontaminator:
    return Decontaminator.fastsrb()


def _rename(tokens: list[str], mapping: dict[int, int]) -> list[str]:
    return [f"x{mapping[variable_index(t)] + 1}" if is_variable(t) else t for t in tokens]


def _n_vars(tokens: list[str]) -> int:
    return len({t for t in tokens if is_variable(t)})


def _mirror(tree: tuple) -> tuple:
    """Swap the operands of every + and *: the same function with variables met in another order."""
    children = [_mirror(c) for c in tree[1:]]
    if tree[0] in ("+", "*"):
        children.reverse()
    return (tree[0], *children)


def _variants(tokens: list[str], rng: np.random.Generator) -> dict[str, list[str]]:
    d = _n_vars(tokens)
    targets = rng.choice(17, size=d, replace=False)  # distinct names anywhere in x1..x17
    renamed = _rename(tokens, dict(enumerate(targets)))
    permuted = _rename(tokens, dict(enumerate(rng.permutation(d))))
    new_constants = [format_number(number_value(t) * 1.37 + 0.5) if is_number(t) else t for t in tokens]
    placeholders = [CONSTANT if is_number(t) else t for t in tokens]
    everything = _rename(new_constants, dict(enumerate(targets[rng.permutation(d)])))
    mirrored = _rename(from_tree(_mirror(to_tree(new_constants))), dict(enumerate(targets)))
    return {"renamed": renamed, "permuted": permuted, "constants": new_constants, "placeholders": placeholders,
            "mirrored": mirrored, "all": everything}


def test_shipped_index_covers_fastsrb(fastsrb):
    assert FASTSRB_INDEX.exists()
    assert len(fastsrb) == 120
    assert {e["d"] for e in fastsrb.entries} == set(range(1, 9))
    assert all(e["signature_key"] is not None for e in fastsrb.entries)


def test_renamed_permuted_and_constant_changed_fastsrb_formulas_are_rejected(fastsrb):
    rng = np.random.default_rng(0)
    simplify = default_simplify()
    misses = []
    for entry in fastsrb.entries:
        tokens = entry["expression"].split()
        for kind, variant in _variants(tokens, rng).items():
            candidates = [variant]
            if simplify is not None:  # the generator checks simplified skeletons
                candidates.append(simplify([CONSTANT if is_number(t) else t for t in variant]))
            for candidate in candidates:
                if not fastsrb.is_contaminated(candidate):
                    misses.append((entry["id"], kind, " ".join(candidate)))
    assert not misses, misses[:10]
    assert fastsrb.numeric_matches > 0 and fastsrb.exact_matches > 0  # both paths were exercised


def test_numeric_path_catches_reordered_operands():
    # Same function, different token order: no exact match, so the numeric fingerprint must decide.
    decontaminator = Decontaminator(["x1 * x2 * x3 / x4"], simplify=None)
    for text in ("x3 * (x2 * x1) / x4", "x7 / x2 * x9 * x4", "(x1 * x2) / (x4 / x3) + 2.5"):
        assert decontaminator.is_contaminated(parse(text)), text
    assert decontaminator.numeric_matches == 3 and decontaminator.exact_matches == 0


def _near_miss(tokens: list[str]) -> list[str]:
    """Square the first variable occurrence: a different function that is not a renaming of the original."""
    i = next(i for i, t in enumerate(tokens) if is_variable(t))
    return tokens[:i] + ["pow2", tokens[i]] + tokens[i + 1:]


def test_near_misses_are_accepted(fastsrb):
    for entry in fastsrb.entries:
        tokens = entry["expression"].split()
        single = Decontaminator([tokens], ids=[entry["id"]])
        assert single.is_contaminated(tokens)
        miss = _near_miss(tokens)
        assert not single.is_contaminated(miss), (entry["id"], " ".join(miss))
    decontaminator = Decontaminator(["x1 * x2 * x3 / x4", "sin(x1) * x2"])
    for text in ("x1 * x2 * x3 / x4**2", "x1 * x2 * x3 + x4", "x1 * x2 * x3 / x4 + x5", "cos(x1) * x2",
                 "sin(x1) + x2", "sin(x1 * x2)"):
        assert not decontaminator.is_contaminated(parse(text)), text


def test_reduce_skeleton_drops_constants_and_renames():
    assert reduce_skeleton(parse("C * x5 + C"))[0] == ["x1"]
    assert reduce_skeleton(parse("C / x3 - sin(2.5 * x7)")) == (["+", "inv", "x1", "sin", "x2"], 2)
    assert reduce_skeleton(parse("-(3 * x2) * exp(C)")) == (["x1"], 1)
    assert reduce_skeleton(parse("C ** x2")) == (["exp", "x1"], 1)
    assert reduce_skeleton(parse("C + 2")) == ([CONSTANT], 0)
    assert all(t in OPERATORS or is_variable(t) for t in reduce_skeleton(parse("x1**2.5 + C*x2"))[0])


def test_quantize_tolerates_rounding_but_not_real_differences():
    y = np.array([1.0, -2.5e-7, 3.3e8, 0.0, np.nan, np.inf, -np.inf, 9.9999999e5])
    assert np.array_equal(quantize(y), quantize(y * (1 + 1e-13)))
    assert not np.array_equal(quantize(y[:3]), quantize(y[:3] * (1 + 1e-5)))
    assert len(set(quantize(y).tolist())) == len(y)


def test_save_load_round_trip_and_user_expressions(tmp_path):
    decontaminator = Decontaminator(["x1 * exp(-x2 / x3)"], ids=["mine"])
    decontaminator.save(tmp_path / "index.msgpack")
    loaded = Decontaminator.load(tmp_path / "index.msgpack")
    assert loaded.match(parse("C * x3 * exp(x1 / x2)")) == "mine"
    assert not loaded.is_contaminated(parse("x1 * exp(x2 / x3)**2"))
    combined = Decontaminator.fastsrb(extra=["x1 * exp(-x2 / x3)"], ids=["mine"])
    assert len(combined) == 121 and combined.match(parse("x9 * exp(x4 / x2)")) == "mine"
    assert combined.stats["checked"] == 1
    with pytest.raises(ValueError, match="test expression 'bad'"):
        Decontaminator(["x1 +* x2"], ids=["bad"])
    (tmp_path / "junk.msgpack").write_bytes(b"\x80")
    with pytest.raises(ValueError, match="not a lawfinder decontamination index"):
        Decontaminator.load(tmp_path / "junk.msgpack")


def test_a_stale_index_is_refreshed_for_the_running_simplifier(tmp_path):
    Decontaminator(["x1 * x2 + x3"], ids=["t"], simplify=None).save(tmp_path / "old.msgpack")
    # A "simplifier" whose output reduces differently from the stored forms stands in for a changed simplifier.
    wrap_in_exp = lambda tokens: ["exp", *tokens]  # noqa: E731
    assert not Decontaminator.load(tmp_path / "old.msgpack", simplify=None).is_contaminated(parse("exp(x1*x2+x3)"))
    refreshed = Decontaminator.load(tmp_path / "old.msgpack", simplify=wrap_in_exp)
    assert len(refreshed.entries) == 2 and len(refreshed) == 1
    assert refreshed.match(parse("exp(x3 * x1 + x2)")) == "t"
