"""From raw decoder output to the skeletons worth fitting: drop invalid ones, turn ``multK``/``divK`` into a free
constant, simplify, deduplicate.

Flash-ANSR's rules (facts §6): invalid and one-token raw candidates are dropped; ``mult2(x)`` becomes
``* <constant> x`` (the fit finds the factor, so the model's integer guess need not be exact); the rest is
simplified and deduplicated, keeping first occurrences so that the order of sampling survives.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ..simplipy import CONSTANT
from ..simplipy.tokens import is_variable, normalize, variable_index

_SCALINGS = frozenset(f"{kind}{k}" for kind in ("mult", "div") for k in range(2, 6))


def free_scalings(tokens: Sequence[str]) -> list[str]:
    """``multK x`` and ``divK x`` -> ``* <constant> x``: a fitted factor instead of the fixed integer."""
    out: list[str] = []
    for token in tokens:
        if token in _SCALINGS:
            out.extend(("*", CONSTANT))
        else:
            out.append(token)
    return out


def default_simplifier() -> Callable[[list[str]], list[str]]:
    """The rule engine every candidate goes through before its constants are fitted."""
    from ..simplipy import simplify

    return simplify


def prepare_candidates(raw: Iterable[Sequence[str]], n_variables: int,
                       simplify: Callable[[list[str]], list[str]] | None = None,
                       min_length: int = 2) -> list[list[str]]:
    """Valid, simplified, distinct skeletons from raw token sequences, in order of first appearance.

    A raw candidate is dropped when it is not a complete prefix expression, is shorter than ``min_length`` tokens
    (Flash-ANSR drops one-token guesses) or reads a variable beyond ``x{n_variables}`` (the data has no such column).
    """
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    for tokens in raw:
        if len(tokens) < min_length:
            continue
        try:
            tokens = normalize(free_scalings(tokens))
        except ValueError:
            continue
        if any(is_variable(t) and variable_index(t) >= n_variables for t in tokens):
            continue
        if simplify is not None:
            try:
                tokens = list(simplify(tokens))
            except ValueError:
                continue  # a simplifier that refuses an expression (e.g. an overflow it cannot fold) drops it
        key = tuple(tokens)
        if key not in seen:
            seen.add(key)
            out.append(tokens)
    return out
