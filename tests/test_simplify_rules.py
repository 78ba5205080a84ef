"""Rule files and rule matching: the msgpack format, its error messages, the index, the shipped rule set (every rule
re-verified numerically), and discovery on a small configuration, in process and as Ray tasks."""

from __future__ import annotations

import msgpack
import pytest

from lawfinder.simplipy.discover import DiscoverConfig, discover, to_rule, verify_rule
from lawfinder.simplipy.rules import DEFAULT_PATH, Rule, RuleIndex, RuleSet, load_rules, match, pattern_tree, save_rules
from lawfinder.simplipy.rewrite.engine import Engine
from lawfinder.simplipy.tokens import from_tree, to_tree

TINY = DiscoverConfig(max_tokens=3, unary=("neg", "sin", "asin", "exp", "log", "abs"), n_variables=1,
                      literals=("1",))


def test_save_and_load_round_trip(tmp_path):
    rules = RuleSet([Rule(("sin", "asin", "_0"), ("_0",))], {"note": "test"})
    path = tmp_path / "r.msgpack"
    save_rules(path, rules)
    back = load_rules(path)
    assert back.rules == rules.rules and back.meta == {"note": "test"}


@pytest.mark.parametrize("payload, message", [
    (b"not msgpack at all \xc1", "not a msgpack rule file"),
    (msgpack.packb({"format": "other"}), "not a lawfinder-rules file"),
    (msgpack.packb({"format": "lawfinder-rules", "version": 99}), "version 99"),
    (msgpack.packb({"format": "lawfinder-rules", "version": 1, "rules": [["sin"]]}), "rule 0 is not a"),
    (msgpack.packb({"format": "lawfinder-rules", "version": 1, "rules": [[["sin", "qq"], ["qq"]]]}),
     "pattern token 'qq'"),
    (msgpack.packb({"format": "lawfinder-rules", "version": 1, "rules": [[["sin", "_0"], ["_1"]]]}), "unbound"),
    (msgpack.packb({"format": "lawfinder-rules", "version": 1, "rules": [[["_0"], ["_0"]]]}), "must shorten"),
])
def test_bad_rule_files_are_refused(tmp_path, payload, message):
    path = tmp_path / "bad.msgpack"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        load_rules(path)


def test_match_binds_repeated_variables_consistently():
    p = pattern_tree(["/", "_0", "sin", "_0"])
    b: dict = {}
    assert match(p, to_tree(["/", "x1", "sin", "x1"]), b) and b["_0"] == ("x1",)
    assert not match(p, to_tree(["/", "x1", "sin", "x2"]), {})


def test_index_finds_rules_by_shape():
    idx = RuleIndex([Rule(("sin", "asin", "_0"), ("_0",)), Rule(("/", "sin", "_0", "cos", "_0"), ("tan", "_0"))])
    assert [from_tree(p) for p, _, _ in idx.candidates(to_tree(["sin", "asin", "x2"]))] == [["sin", "asin", "_0"]]
    assert idx.candidates(to_tree(["/", "sin", "x1", "cos", "x1"]))
    assert not idx.candidates(to_tree(["/", "cos", "x1", "sin", "x1"]))
    assert not idx.candidates(to_tree(["cos", "x1"]))


def test_an_engine_applies_its_rules_and_not_to_free_constants():
    eng = Engine([Rule(("/", "sin", "_0", "cos", "_0"), ("tan", "_0"))])
    assert from_tree(eng.simplify_tree(to_tree(["/", "sin", "x1", "cos", "x1"]))) == ["tan", "x1"]
    # sin(x+C)/cos(x+C) has two different constants: not tan(x+C)
    assert from_tree(eng.simplify_tree(to_tree(["/", "sin", "+", "x1", "<constant>", "cos", "+", "x1", "<constant>"])))[0] == "/"


def test_the_shipped_rule_set_loads_and_every_rule_holds():
    shipped = load_rules(DEFAULT_PATH)
    assert len(shipped.rules) >= 20
    assert shipped.meta["config"]["max_tokens"] >= 4
    for rule in shipped.rules:
        names = {}
        tokens = lambda seq: [names.setdefault(t, f"x{len(names) + 1}") if t.startswith("_") else t for t in seq]  # noqa: E731
        src, dst = tokens(rule.source), tokens(rule.target)
        assert verify_rule(to_tree(src), to_tree(dst), n_variables=2, seed=7), rule


def test_verification_refuses_identities_that_hold_only_near_the_probes():
    assert not verify_rule(to_tree(["asin", "sin", "x1"]), to_tree(["x1"]), 1, 0)  # true only on [-pi/2, pi/2]
    assert not verify_rule(to_tree(["pow1_2", "pow2", "x1"]), to_tree(["x1"]), 1, 0)  # sqrt(x**2) is |x|
    assert verify_rule(to_tree(["pow1_2", "pow2", "x1"]), to_tree(["abs", "x1"]), 1, 0)
    assert to_rule(to_tree(["sin", "asin", "x2"]), to_tree(["x2"])) == Rule(("sin", "asin", "_0"), ("_0",))


def _tiny_rules(map_batches=None, workers=1):
    lines: list[str] = []
    result = discover(TINY, map_batches=map_batches, workers=workers, progress=lines.append)
    assert len(lines) == TINY.max_tokens - 1
    return result


def test_discovery_finds_inverse_pairs():
    result = _tiny_rules()
    found = {(r.source, r.target) for r in result.rules}
    assert (("sin", "asin", "_0"), ("_0",)) in found
    assert (("exp", "log", "_0"), ("_0",)) not in found  # the engine's algebra already does this one
    for rule in result.rules:
        assert len(rule.target) < len(rule.source)
    assert result.ruleset().meta["n_rules"] == len(result.rules)


@pytest.mark.ray
def test_discovery_with_ray_tasks_gives_the_same_rules(ray_session):
    ray = ray_session
    remote_cache: dict = {}

    def map_batches(fn, batches, *shared):
        remote = remote_cache.setdefault(fn, ray.remote(num_cpus=1)(fn))
        refs_shared = [ray.put(x) for x in shared]
        return ray.get([remote.remote(b, *refs_shared) for b in batches])

    assert _tiny_rules(map_batches, workers=2).rules == _tiny_rules().rules


def test_discover_command_writes_a_loadable_file(tmp_path):
    from lawfinder.cli import main

    out = tmp_path / "rules.msgpack"
    assert main(["simplipy", "discover", "--preset", "small", "--max-tokens", "3", "--out", str(out)]) == 0
    assert load_rules(out).meta["config"]["max_tokens"] == 3
    assert main(["simplipy", "discover", "--preset", "nope", "--out", str(out)]) == 2
    assert main(["simplipy", "discover", "--operators", "sin,bogus", "--out", str(out)]) == 2
