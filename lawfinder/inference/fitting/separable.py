"""Which constants of a skeleton enter linearly: the split variable projection (VarPro) fits by linear least squares.

A skeleton is read as a sum of terms (through ``+``, ``-``, ``neg``), each term as a product of factors (through
``*``, ``/``, ``inv``, ``neg``). A term with a bare ``<constant>`` factor is ``a_j * phi_j``: its coefficient
``a_j`` is that constant (``sign * C``) or, when the constant divides (``x / C``), its reciprocal (``sign / C``).
So ``f = phi_0 + sum_j a_j phi_j`` with every ``phi`` free of the linear constants; for any values of the remaining
(nonlinear) constants the best ``a`` is one linear least-squares solve, and LM only searches the nonlinear ones.
``C * m1 * m2 / r^2`` has no nonlinear constant at all: one solve finds ``C = 6.674e-11`` exactly, whatever its size.

Pure token manipulation, no numpy: the fitting (``fitting.py``) compiles the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ...simplipy import CONSTANT
from ...simplipy.tokens import arity

Node = tuple  # (token, *children); a leaf is (token,)


@dataclass
class Linear:
    """Coefficient ``a`` of one basis function and how the skeleton's constant is read back from it."""

    constant: int  # index of the skeleton's <constant> (order of appearance)
    sign: int      # +1 or -1
    inverted: bool  # the constant divides: C = sign / a, else C = sign * a


@dataclass
class Separated:
    """``f = fixed + sum_j a_j basis_j``; each piece's ``<constant>``s are the nonlinear ones listed beside it."""

    basis: list[list[str]] = field(default_factory=list)
    basis_constants: list[list[int]] = field(default_factory=list)
    fixed: list[str] | None = None
    fixed_constants: list[int] = field(default_factory=list)
    linear: list[Linear] = field(default_factory=list)
    nonlinear: list[int] = field(default_factory=list)  # skeleton constant indices searched by LM, in order
    ones: list[int] = field(default_factory=list)  # redundant factors (``C1 * C2 * x``): 1, the coefficient absorbs them

    def constants(self, a: Sequence[float], b: Sequence[float], n_constants: int) -> list[float]:
        """The skeleton's constants, in order of appearance, from coefficients ``a`` and nonlinear values ``b``."""
        out = [0.0] * n_constants
        for lin, value in zip(self.linear, a):
            value = float(value)
            if lin.inverted:
                out[lin.constant] = lin.sign / value if value != 0.0 else float("inf")
            else:
                out[lin.constant] = lin.sign * value
        for index, value in zip(self.nonlinear, b):
            out[index] = float(value)
        for index in self.ones:
            out[index] = 1.0
        return out


def _marker(i: int) -> str:
    return f"<c{i}>"


def _tree(tokens: Sequence[str]) -> Node:
    """Prefix tokens -> nested tuples, the i-th ``<constant>`` as leaf ``<c{i}>`` (iterative: any depth)."""
    counter = 0
    marked = []
    for t in tokens:
        if t == CONSTANT:
            marked.append(_marker(counter))
            counter += 1
        else:
            marked.append(t)
    # Build bottom-up from the end of the prefix list: operands are on the stack when their operator comes.
    stack: list[Node] = []
    for t in reversed(marked):
        n = arity(t)
        stack.append((t, *(stack.pop() for _ in range(n))) if n else (t,))
    return stack[0]


def _emit(node: Node, out: list[str]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n[0])
        stack.extend(reversed(n[1:]))


def _unmark(tokens: list[str]) -> tuple[list[str], list[int]]:
    """Markers back to ``<constant>``, with the skeleton index of each in order of appearance."""
    out, indices = [], []
    for t in tokens:
        if t.startswith("<c") and t.endswith(">") and t[2:-1].isdigit():
            indices.append(int(t[2:-1]))
            out.append(CONSTANT)
        else:
            out.append(t)
    return out, indices


def _terms(root: Node) -> list[tuple[int, Node]]:
    """The skeleton as ``sum sign * term``."""
    out, stack = [], [(root, 1)]
    while stack:
        node, sign = stack.pop()
        op = node[0]
        if op == "+":
            stack += [(node[2], sign), (node[1], sign)]
        elif op == "-":
            stack += [(node[2], -sign), (node[1], sign)]
        elif op == "neg":
            stack.append((node[1], -sign))
        else:
            out.append((sign, node))
    return out


def _factors(term: Node) -> tuple[int, list[Node], list[Node]]:
    """A term as ``sign * prod(numerator) / prod(denominator)``."""
    sign, num, den = 1, [], []
    stack = [(term, False)]
    while stack:
        node, below = stack.pop()
        op = node[0]
        if op == "*":
            stack += [(node[2], below), (node[1], below)]
        elif op == "/":
            stack += [(node[2], not below), (node[1], below)]
        elif op == "inv":
            stack.append((node[1], not below))
        elif op == "neg":
            sign = -sign
            stack.append((node[1], below))
        else:
            (den if below else num).append(node)
    return sign, num, den


def _product(nodes: list[Node]) -> Node:
    out = nodes[0]
    for node in nodes[1:]:
        out = ("*", out, node)
    return out


def _is_constant(node: Node) -> bool:
    return len(node) == 1 and node[0].startswith("<c") and node[0][2:-1].isdigit()


def separate(tokens: Sequence[str]) -> Separated:
    """Split a (canonical prefix) skeleton into its linear coefficients and the basis functions they multiply."""
    out = Separated()
    fixed: list[Node] = []
    for sign, term in _terms(_tree(tokens)):
        f_sign, num, den = _factors(term)
        where = next((i for i, n in enumerate(num) if _is_constant(n)), None)
        inverted = False
        if where is None:
            where = next((i for i, n in enumerate(den) if _is_constant(n)), None)
            inverted = where is not None
        if where is None:
            fixed.append(term if sign > 0 else ("neg", term))
            continue
        side = den if inverted else num
        constant = int(side.pop(where)[0][2:-1])
        # Further bare constant factors of the same term only rescale a_j: fixed at 1 instead of searched.
        out.ones += [int(n[0][2:-1]) for n in (*num, *den) if _is_constant(n)]
        num = [n for n in num if not _is_constant(n)]
        den = [n for n in den if not _is_constant(n)]
        body = _product(num) if num else ("1",)
        if den:
            body = ("/", body, _product(den))
        marked: list[str] = []
        _emit(body, marked)
        basis, indices = _unmark(marked)
        out.basis.append(basis)
        out.basis_constants.append(indices)
        out.linear.append(Linear(constant, sign * f_sign, inverted))
    if fixed:
        node = fixed[0]
        for other in fixed[1:]:
            node = ("+", node, other)
        marked = []
        _emit(node, marked)
        out.fixed, out.fixed_constants = _unmark(marked)
    linear = {lin.constant for lin in out.linear}
    out.nonlinear = sorted({i for idx in out.basis_constants for i in idx} | set(out.fixed_constants))
    assert not linear & set(out.nonlinear)
    return out
