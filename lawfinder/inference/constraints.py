"""What a user allows a formula to be, as PySR spells it: ``binary_operators``, ``unary_operators``, ``maxsize``,
``nested_constraints``, and the variables that must appear (``required_variables``).

``Constraints.violation(tokens)`` says why a formula breaks them (None when it does not); the search drops such
candidates, the model never samples a token that no allowed formula can hold (``banned_tokens``), and the Regressor
returns only formulas that keep every constraint.

Names are PySR's or ours: ``+ - * /`` and ``^``/``pow``; unary ``sin``, ``exp``, ``sqrt``, ``square``, ``cube``,
``abs``, ... A few of our tokens are spellings of a binary operator rather than operators of their own, and follow it:
``neg x`` is ``0 - x`` (allowed with ``-``), ``inv x`` is ``1 / x`` (``/``), ``mult2 x`` .. ``mult5 x`` and
``pow2 x`` .. ``pow5 x`` are products (``*``), ``div2`` .. ``div5`` quotients (``/``): the simplifier writes them
for what the sampler wrote with those operators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..simplipy.operators import ALIASES as SPELLING_ALIASES
from ..simplipy.operators import BINARY, OPERATORS, derived
from ..simplipy.tokens import is_variable, open_operators, variable_index


def _spelled_as(op) -> str | None:
    """The binary operator a unary token spells (``neg`` is ``-``, ``inv`` ``/``, ``pow2`` and ``mult3`` ``*``,
    ``div2`` ``/``), or None for a unary operator in its own right."""
    if op.arity != 1:
        return None
    if op.name == "neg":
        return "-"
    if op.power == -1:
        return "/"
    if op.power is not None and op.power.denominator == 1:
        return "*"
    if op.scale is not None:
        return "*" if op.scale.denominator == 1 else "/"
    return None


# Unary tokens that spell a binary operator, and which one.
SPELLS = derived(lambda ops: {op.name: _spelled_as(op) for op in ops if _spelled_as(op)})
UNARY = derived(lambda ops: [op.name for op in ops if op.arity == 1 and not _spelled_as(op)])
# Names users may write for an operator: PySR's and numpy's (``square``, ``arcsin``, ``^``) and the parser's.
ALIASES = derived(lambda ops: {"^": "pow", "cube": "pow3"} | dict(SPELLING_ALIASES) | {
    op.array_name: op.name for op in ops if op.array_name and op.array_name != op.name})

def _names(names: Sequence[str] | None, known: Sequence[str], what: str) -> frozenset | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    out = set()
    for name in names:
        token = ALIASES.get(str(name), str(name))
        if token in SPELLS and what == "unary_operators":
            out.add(SPELLS[token])  # square -> '*': x*x is a product whatever it is spelled
            continue
        if token not in known:
            listed = ", ".join(sorted(set(known) | set(ALIASES)))
            raise ValueError(f"{what}: unknown operator {name!r}; known: {listed}")
        out.add(token)
    return frozenset(out)


def family(token: str) -> str:
    """The operator a token counts as for the constraints (``pow2`` -> ``*``, ``neg`` -> ``-``, else itself)."""
    return SPELLS.get(token, token)


@dataclass(frozen=True)
class Constraints:
    binary: frozenset | None = None      # allowed binary operators (None: all)
    unary: frozenset | None = None       # allowed unary operators (None: all)
    maxsize: int | None = None           # most tokens a formula may have (its complexity)
    nested: dict = field(default_factory=dict)   # outer -> {inner: most nested inside it}
    required: tuple = ()                 # variable indices (0-based) that must appear
    names: tuple = ()                    # feature names, for messages

    @classmethod
    def from_params(cls, binary_operators=None, unary_operators=None, maxsize=None, nested_constraints=None,
                    required_variables=None, feature_names: Sequence[str] = ()) -> "Constraints":
        """Validated constraints from the Regressor's arguments; ValueError naming the bad one."""
        binary = _names(binary_operators, BINARY, "binary_operators")
        unary = _names(unary_operators, UNARY, "unary_operators")
        if unary is not None:  # a product or quotient named as unary (square) widens the binary set
            extra = {t for t in unary if t in BINARY}
            unary = frozenset(unary - extra)
            if binary is not None:
                binary = binary | extra
        if maxsize is not None and (isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1):
            raise ValueError(f"maxsize must be a positive integer or None, got {maxsize!r}")
        nested = {}
        for outer, inner in (nested_constraints or {}).items():
            if not isinstance(inner, dict):
                raise ValueError(f"nested_constraints[{outer!r}] must map operators to counts, got {inner!r}")
            key = next(iter(_names([outer], (*BINARY, *UNARY), "nested_constraints")))
            limits = {}
            for name, count in inner.items():
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError(f"nested_constraints[{outer!r}][{name!r}] must be a count >= 0, got {count!r}")
                limits[next(iter(_names([name], (*BINARY, *UNARY), "nested_constraints")))] = count
            nested[key] = limits
        required = []
        for name in required_variables or ():
            if name not in feature_names:
                raise ValueError(f"required_variables: {name!r} is not a column; the columns are {list(feature_names)}")
            required.append(list(feature_names).index(name))
        return cls(binary, unary, maxsize, nested, tuple(required), tuple(feature_names))

    @property
    def active(self) -> bool:
        return bool(self.binary is not None or self.unary is not None or self.maxsize or self.nested or self.required)

    def allows(self, token: str) -> bool:
        """Whether an operator token may appear at all."""
        op = OPERATORS.get(token)
        if op is None:
            return True
        name = family(token)
        if op.arity == 2 or token in SPELLS:
            return self.binary is None or name in self.binary
        return self.unary is None or name in self.unary

    def banned_tokens(self) -> list[str]:
        """Operator tokens no allowed formula holds: the model is never let to sample them."""
        return [t for t in OPERATORS if not self.allows(t)]

    def violation(self, tokens: Sequence[str]) -> str | None:
        """Why ``tokens`` break the constraints, or None when they keep them all."""
        if self.maxsize is not None and len(tokens) > self.maxsize:
            return f"{len(tokens)} tokens, more than maxsize {self.maxsize}"
        bad = next((t for t in tokens if not self.allows(t)), None)
        if bad is not None:
            return f"uses {bad!r}, which is not allowed"
        present = {variable_index(t) for t in tokens if is_variable(t)}
        missing = [i for i in self.required if i not in present]
        if missing:
            name = self.names[missing[0]] if self.names else f"x{missing[0] + 1}"
            return f"does not use the required variable {name!r}"
        if self.nested:
            return self._nesting_violation(tokens)
        return None

    def _nesting_violation(self, tokens: Sequence[str]) -> str | None:
        # For each open outer operator on the path to a token, count how many inner operators sit below it.
        for token, path in open_operators(tokens):
            name = family(token) if token in OPERATORS else None
            if name is None:
                continue
            for outer in {family(s[0]) for s in path}:
                limits = self.nested.get(outer)
                if limits and name in limits:
                    depth = 1 + sum(1 for s in path[stack_index(path, outer) + 1:] if family(s[0]) == name)
                    if depth > limits[name]:
                        return f"nests {name!r} {depth} deep inside {outer!r} (at most {limits[name]})"
        return None


def stack_index(stack: list, outer: str) -> int:
    """Position of the outermost open operator of family ``outer`` on the path."""
    return next(i for i, s in enumerate(stack) if family(s[0]) == outer)
