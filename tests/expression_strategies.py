"""Hypothesis strategies for random prefix expressions, shared by the expression and simplifier tests."""

from __future__ import annotations

from hypothesis import strategies as st

from lawfinder.simplipy.operators import BINARY, UNARY

VARIABLES = ("x1", "x2", "x3")
LEAVES = (*VARIABLES, "<constant>", "1", "2", "0.5", "3.25", "pi")


def expressions(unary=UNARY, binary=BINARY, leaves=LEAVES, max_leaves: int = 8) -> st.SearchStrategy[tuple]:
    """Random expression trees as nested tuples ``(token, *children)``."""
    leaf = st.sampled_from(leaves).map(lambda t: (t,))

    def extend(children: st.SearchStrategy[tuple]) -> st.SearchStrategy[tuple]:
        return st.one_of(
            st.tuples(st.sampled_from(unary), children),
            st.tuples(st.sampled_from(binary), children, children),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def flatten(tree: tuple) -> list[str]:
    out = [tree[0]]
    for child in tree[1:]:
        out.extend(flatten(child))
    return out
