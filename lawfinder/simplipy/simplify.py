"""``simplify(tokens) -> tokens``: the rule-based simplifier on the hot path of data generation and inference.

Input is canonical prefix tokens (native ``pow E n`` / ``rootn E n`` and aliases are read through ``normalize``);
output is canonical prefix tokens that are numerically equal to the input wherever the input is defined on the
reals, never longer, the same in every process, and a fixed point (``simplify(simplify(t)) == simplify(t)``).

What it does: folds constants (``<constant>`` absorbs every subtree without a variable, and numeric or free
coefficients next to it: ``C*(C*x) -> C*x``, ``C*x + C*x -> C*x``, ``C*exp(x+C) -> C*exp(x)``), flattens sums and
products, cancels and combines like terms and like factors (``x - x -> 0``, ``x*x -> pow2 x``), orders operands
canonically, and applies the pattern rules of the shipped rule set (``rules.msgpack``, mined by ``lawfinder
simplipy discover``). Accepted removable singularities: factors cancel (``x/x -> 1``, ``sqrt(x)**2 -> x``,
``exp(log x) -> x``), i.e. the output may be defined at points where the input is not, never the reverse.

Speed: one bottom-up pass in which parsing and simplification are fused, a memo of simplified nodes, rules bucketed
by head operator, and an LRU cache of whole expressions. No SymPy. ``pip install -e .`` compiles this module and the
rewrite engine with Cython (about 1.8x faster; the same source, see ``native``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .operators import ALIASES, CONSTANT, NUMBER_ALIASES
from .rules import DEFAULT_PATH, load_rules
from .rewrite.engine import Engine
from .rewrite.terms import leaf_number, num_leaf
from .tokens import MAX_DEPTH, SPELLING_ARITY, check_depth, deep_recursion, depth, is_variable, normalize

_FRAMES_PER_LEVEL = 12   # Python frames the simplifier's recursive builders take per level of a binary tree

_ARITY = SPELLING_ARITY
_LEAVES: dict[str, tuple] = {CONSTANT: (CONSTANT,), **{k: (v,) for k, v in NUMBER_ALIASES.items()}}
_ROOT_DEGREE = {"1": None, "2": "pow1_2", "3": "pow1_3", "4": "pow1_4", "5": "pow1_5"}
CACHE_SIZE = 1 << 16

_engine: Engine | None = None


class _NotCanonical(Exception):
    pass


def _leaf(tok) -> tuple:
    hit = _LEAVES.get(tok)
    if hit is not None:
        return hit
    if not isinstance(tok, str):
        raise _NotCanonical
    if is_variable(tok):
        out = (tok,)
    else:
        v = leaf_number((tok,))
        if v is None or tok in ("np.pi", "np.e", "(-1)"):
            raise _NotCanonical
        out = num_leaf(v)
    if len(_LEAVES) < 100_000:
        _LEAVES[tok] = out
    return out


def engine() -> Engine:
    """The process-wide engine with the shipped rules (loaded on first use)."""
    global _engine
    if _engine is None:
        rules = load_rules(DEFAULT_PATH).rules if Path(DEFAULT_PATH).exists() else []
        _engine = Engine(rules)
    return _engine


def clear_caches() -> None:
    """Empty the memo tables and the whole-expression cache (benchmarks measure from a cold start)."""
    engine().clear()
    _cached.cache_clear()


def _fused_pass(eng: Engine, tokens: Sequence[str]) -> tuple:
    """Parse and simplify in one right-to-left sweep: an operator meets its operands already simplified."""
    stack: list[tuple] = []
    node = eng.node
    # Without a <constant> in the input no subtree can hold one (folding never makes one): skip those checks.
    eng.no_c = CONSTANT not in tokens
    try:
        for tok in reversed(tokens):
            n = _ARITY.get(tok) if isinstance(tok, str) else None
            if n is None:
                stack.append(_leaf(tok))
            elif n == 1:
                stack.append(node(ALIASES.get(tok, tok), (stack.pop(),)))
            elif tok == "rootn":  # SimpliPy's native root: a literal degree 1..5
                a, b = stack.pop(), stack.pop()
                if b[0] not in _ROOT_DEGREE:
                    raise _NotCanonical
                op = _ROOT_DEGREE[b[0]]
                stack.append(a if op is None else node(op, (a,)))
            else:
                a = stack.pop()
                stack.append(node(tok, (a, stack.pop())))
    except IndexError:
        raise _NotCanonical from None
    finally:
        eng.no_c = False
    if len(stack) != 1:
        raise _NotCanonical
    return stack[0]


def _simplify_key(key: tuple) -> tuple:
    eng = engine()
    try:
        tree = _fused_pass(eng, key)
    except _NotCanonical:
        tree = _fused_pass(eng, normalize(key))  # raises ValueError naming the bad token, or reads native spellings
    out: list[str] = []
    _flatten(tree, out.append)
    return tuple(out)


_cached = lru_cache(maxsize=CACHE_SIZE)(_simplify_key)


def _flatten(t: tuple, emit) -> None:
    emit(t[0])
    for k in t[1:]:
        if len(k) == 1:
            emit(k[0])
        else:
            _flatten(k, emit)


def simplify(tokens: Sequence[str], *, cache: bool = True) -> list[str]:
    """Simplify a prefix token list; see the module docstring for the guarantees.

    ``cache=False`` skips the whole-expression cache (the memo of simplified nodes still works): for inputs that do
    not repeat, such as the generator's random skeletons (2 in 60,000 repeat), where caching them only costs time
    and evicts entries that would have hit. The output is the same either way."""
    if isinstance(tokens, str):
        raise ValueError(f"simplify takes a list of prefix tokens, got the string {tokens!r} (parse() reads infix)")
    try:
        key = tuple(tokens)
        if len(key) > MAX_DEPTH:
            check_depth(key)
            with deep_recursion(_FRAMES_PER_LEVEL, depth(key)):  # the builders recurse once per binary level
                return list(_cached(key) if cache else _simplify_key(key))
        return list(_cached(key) if cache else _simplify_key(key))
    except TypeError:
        normalize(list(tokens))  # unhashable tokens: raise the positioned ValueError
        raise
