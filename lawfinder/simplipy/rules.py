"""Rewrite rules ``pattern -> replacement``: the shipped rule set's file format, its index, and matching.

A rule is a pair of prefix token tuples over the operator table, numbers, ``<constant>`` and pattern variables
``_0``, ``_1``, ... (each stands for any subtree; repeated ones must bind equal subtrees). ``lawfinder simplipy
discover`` mines them; the engine indexes them by the head operator of the pattern and tries the longest first.
The file is msgpack: ``{"format": "lawfinder-rules", "version": 1, "meta": {...}, "rules": [[src, dst], ...]}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import msgpack

from ..atomic import write_bytes
from .operators import CONSTANT, OPERATORS
from .tokens import is_number

FORMAT = "lawfinder-rules"
VERSION = 1
DEFAULT_PATH = Path(__file__).with_name("rules.msgpack")
_PATTERN_VAR = re.compile(r"_[0-9]\Z")


def is_pattern_var(token: str) -> bool:
    return _PATTERN_VAR.match(token) is not None


@dataclass(frozen=True)
class Rule:
    source: tuple[str, ...]
    target: tuple[str, ...]


@dataclass
class RuleSet:
    rules: list[Rule]
    meta: dict = field(default_factory=dict)


def pattern_tree(tokens: Sequence[str]) -> tuple:
    """Prefix tokens of a pattern -> nested tuples; ``ValueError`` names a bad token."""
    pos = 0

    def build() -> tuple:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"pattern {' '.join(tokens)!r} ends early at position {pos}")
        tok = tokens[pos]
        pos += 1
        op = OPERATORS.get(tok)
        if op is not None:
            return (tok, *(build() for _ in range(op.arity)))
        if not isinstance(tok, str) or not (is_pattern_var(tok) or tok == CONSTANT or is_number(tok)):
            raise ValueError(f"pattern token {tok!r} at position {pos - 1} is not an operator, number, "
                             f"<constant> or pattern variable _k")
        return (tok,)

    tree = build()
    if pos != len(tokens):
        raise ValueError(f"pattern {' '.join(tokens)!r} has trailing tokens from position {pos}")
    return tree


def _check(rule: Rule) -> None:
    src, dst = pattern_tree(rule.source), pattern_tree(rule.target)
    free = {t for t in rule.target if is_pattern_var(t)} - {t for t in rule.source if is_pattern_var(t)}
    if free:
        raise ValueError(f"rule {' '.join(rule.source)} -> {' '.join(rule.target)}: target uses unbound {sorted(free)}")
    if len(rule.target) >= len(rule.source) or src[0][0] == "_":
        raise ValueError(f"rule {' '.join(rule.source)} -> {' '.join(rule.target)} must shorten a rooted pattern")
    del dst


def save_rules(path: str | os.PathLike, ruleset: RuleSet) -> None:
    """Write the rule set atomically (temp file + rename)."""
    for rule in ruleset.rules:
        _check(rule)
    payload = {"format": FORMAT, "version": VERSION, "meta": ruleset.meta,
               "rules": [[list(r.source), list(r.target)] for r in ruleset.rules]}
    write_bytes(path, msgpack.packb(payload, use_bin_type=True))


def load_rules(path: str | os.PathLike = DEFAULT_PATH) -> RuleSet:
    """Read a rule file; ``ValueError`` if it is not one or a rule is malformed."""
    with open(path, "rb") as f:
        try:
            payload = msgpack.unpackb(f.read(), raw=False, strict_map_key=False)
        except Exception as error:  # noqa: BLE001 - any decoding failure means "not a rule file"
            raise ValueError(f"{path}: not a msgpack rule file ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path}: rule file version {payload.get('version')!r}, expected {VERSION}")
    rules = []
    for i, pair in enumerate(payload.get("rules", [])):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"{path}: rule {i} is not a [source, target] pair")
        rule = Rule(tuple(pair[0]), tuple(pair[1]))
        _check(rule)
        rules.append(rule)
    return RuleSet(rules, dict(payload.get("meta", {})))


def _prefix(t: tuple, limit: int = 3) -> tuple:
    """The first ``limit`` prefix tokens of a tree, stopping before a pattern variable."""
    out: list[str] = []
    stack = [t]
    while stack and len(out) < limit:
        node = stack.pop()
        if node[0][0] == "_":
            break
        out.append(node[0])
        stack.extend(reversed(node[1:]))
    return tuple(out)


def _is_var(p: tuple) -> bool:
    return len(p) == 1 and p[0][0] == "_"


def _key(p: tuple) -> tuple:
    """Bucket of a pattern: for a binary head, the heads of its two children (``_`` for a pattern variable); for a
    unary head, its first prefix tokens before a pattern variable (at most three)."""
    if len(p) == 3:
        return (p[0], "_" if _is_var(p[1]) else p[1][0], "_" if _is_var(p[2]) else p[2][0])
    return _prefix(p)


class RuleIndex:
    """Rules bucketed by ``_key``, longest pattern first, then by tokens (a fixed order). ``candidates(t)`` chains
    the buckets that can hold a pattern matching ``t``, most specific first (cached per bucket combination), so a
    node no rule can match costs about one dict lookup. Each entry is ``(pattern, replacement, repeated)`` with
    the pattern variables that occur more than once (they must not bind a subtree with a free constant: two
    ``<constant>``s are two different numbers)."""

    def __init__(self, rules: Iterable[Rule] = ()):
        self.by_key: dict[tuple, list[tuple[tuple, tuple, int]]] = {}
        ordered = sorted(set(rules), key=lambda r: (-len(r.source), r.source, r.target))
        for rule in ordered:
            src = pattern_tree(rule.source)
            names = [t for t in rule.source if is_pattern_var(t)]
            repeated = tuple(sorted({t for t in names if names.count(t) > 1}))
            self.by_key.setdefault(_key(src), []).append((src, pattern_tree(rule.target), repeated))
        self.heads = {k[0] for k in self.by_key}
        self.n_rules = len(ordered)
        self._merged: dict[tuple, list] = {}

    def candidates(self, t: tuple):
        head = t[0]
        if head not in self.heads:
            return ()
        a = t[1]
        if len(t) == 3:
            probe = (head, a[0], t[2][0])
        else:
            probe = (head, a[0], a[1][0] if len(a) > 1 else None)
        hit = self._merged.get(probe)
        if hit is None:
            # Most specific bucket first; within a bucket, longest pattern first (fixed at construction).
            h, x, y = probe
            keys = [probe, (h, "_", y), (h, x, "_"), (h, "_", "_")] if len(t) == 3 else [probe, (h, x), (h,)]
            get = self.by_key.get
            hit = self._merged[probe] = [r for k in keys for r in get(k, ())]
        return hit


def match(p: tuple, t: tuple, binding: dict) -> bool:
    head = p[0]
    if len(p) == 1 and head[0] == "_":
        bound = binding.get(head)
        if bound is None:
            binding[head] = t
            return True
        return bound == t
    if head != t[0] or len(p) != len(t):
        return False
    for pc, tc in zip(p[1:], t[1:]):
        if not match(pc, tc, binding):
            return False
    return True


def instantiate(eng, p: tuple, binding: dict) -> tuple:
    """Build the replacement bottom-up through the engine, so every new node is simplified too."""
    if len(p) == 1:
        return binding.get(p[0], p)
    return eng.node(p[0], tuple(instantiate(eng, c, binding) for c in p[1:]))
