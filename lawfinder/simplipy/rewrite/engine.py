"""The rewrite engine's driver (its top layer): ``Engine.node(op, children)`` turns one operator over already simplified children into
its simplified form, memoised.

Per node: fold constant children (``<constant>`` absorbs anything without a variable; numbers fold when the result
is a finite real), build the normal form (sums, products, functions), keep the input node instead if the normal
form would be longer, then try the pattern rules whose head matches, longest first. A rule's replacement is built
through ``node`` again, so it is simplified too; rules always shorten, so this terminates. Nodes a builder prints
afresh inside its result meet the rules too, so every result is settled and the output is a fixed point.
"""

from __future__ import annotations

from typing import Iterable

from functools import partial

from ..operators import CONSTANT, derived
from ..rules import Rule, RuleIndex, instantiate, match
from .functions import build_abs, build_exp, build_log, build_unary, fold
from .products import PRODUCT_OPS, build_product
from .signs import even_context, is_nonneg, negated_odd, split_sign
from .sums import build_sum, make_scale, sum_from_state
from .terms import C, ODD, PLAIN_FACTOR, ZERO, leaf_number, num_leaf, plain_term

_SUM_OPS = frozenset(("+", "-", "neg"))
# Heads the engine rebuilds bottom-up without consulting the rules first: arithmetic, negation, powers, scalings.
_FAST = derived(lambda ops: {"+": 2, "-": 2, "*": 2, "/": 2, "neg": 1} | {
    op.name: 1 for op in ops if op.power is not None or op.scale is not None})
_EVEN_POWERS = derived(lambda ops: {op.name for op in ops if op.power is not None and op.power.denominator == 1
                                    and op.power.numerator % 2 == 0})
def _plain(t: tuple, op: str, eng=None) -> bool:
    """A variable, or a node that a sum (op ``+``) or a product (op ``*``) treats as one opaque term/factor with
    coefficient 1; for a product also a sum already in its sign-normal form (op ``neg``: not a sum)."""
    if op == "+":
        return plain_term(t)
    head = t[0]
    if len(t) == 1:
        return head != CONSTANT and leaf_number(t) is None
    if head == "+" or head == "-":
        return op == "*" and split_sign(eng, t)[0] == 1
    return head in PLAIN_FACTOR


# Exponent -> the unary power token that spells it ("" for 1): only powers a float holds exactly (a real odd root
# such as pow1_3 is not x**(1/3)).
_UNARY_POWER = derived(lambda ops: {float(op.power): op.name for op in ops if op.power is not None
                                    and op.power.denominator & (op.power.denominator - 1) == 0} | {1.0: ""})


class Engine:
    """A rule set plus memo tables. Outputs depend only on the input and the rules, never on what was cached."""

    # Memo entries kept before the tables are emptied. Smaller tables stay in the CPU caches and give the garbage
    # collector less to traverse: on the generator's skeletons 50,000 gave 3 % more samples/s than 200,000 (three
    # alternating pairs), though fewer lookups hit.
    def __init__(self, rules: Iterable[Rule] = (), memo_limit: int = 50_000):
        self.index = RuleIndex(rules)
        self.rules = self.index.n_rules > 0
        self.candidates = self.index.candidates
        self.heads = self.index.heads
        self.memo_limit = memo_limit
        self.memo: dict[tuple, tuple] = {}
        self.sizes: dict[int, int] = {}
        self.keep: list[tuple] = []
        self.cflags: dict[int, bool] = {}
        self._hint: tuple | None = None
        self.no_c = False
        self.nonneg: dict[tuple, bool] = {}
        self.signs: dict[tuple, tuple] = {}
        self.evens: dict[tuple, tuple] = {}
        self.scale = make_scale(self)
        # The product layer sits below the sign, abs and sum builders it needs (products and sums nest): it calls
        # them through these, so no module imports one above it.
        self.split_sign = partial(split_sign, self)
        self.is_nonneg = partial(is_nonneg, self)
        self.even_context = partial(even_context, self)
        self.negated_odd = partial(negated_odd, self)
        self.build_abs = partial(build_abs, self)
        self.sum_from_state = partial(sum_from_state, self)

    def clear(self) -> None:
        self.memo.clear()
        self.sizes.clear()
        self.keep.clear()
        self.cflags.clear()
        self.nonneg.clear()
        self.signs.clear()
        self.evens.clear()

    # --------------------------------------------------------------------------------------------------- one node
    def node(self, op: str, kids: tuple) -> tuple:
        key = (op, *kids)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        if len(self.memo) > self.memo_limit:
            self.clear()
        out = self._build(op, kids, key)
        if len(out) > 1 and id(out) not in self.sizes:
            hint = self._hint  # the size _build already counted, if it did
            if self.rules:
                out = self._settle_inside(out)
            if id(out) not in self.sizes:
                self.sizes[id(out)] = hint[1] if hint is not None and hint[0] is out else self.size(out)
                self.keep.append(out)
        self._hint = None
        self.memo[key] = out
        return out

    def has_c(self, t: tuple) -> bool:
        """Does ``t`` contain a free constant? Remembered by id for trees ``node`` returned (alive in ``keep``).
        While an expression without any ``<constant>`` is simplified (``no_c``), no tree in play has one."""
        if self.no_c:
            return False
        if len(t) == 1:
            return t[0] == CONSTANT
        k = id(t)
        v = self.cflags.get(k)
        if v is None:
            v = False
            for x in t[1:]:
                if self.has_c(x):
                    v = True
                    break
            if k in self.sizes:
                self.cflags[k] = v
        return v

    def size(self, t: tuple) -> int:
        """Token count. Sizes of trees ``node`` returned are kept by object id (those objects stay alive in
        ``keep`` until ``clear``, so an id is never reused while it is in the table). Only the freshly built top of a
        tree is walked (recursively: it is a few levels deep), down to known subtrees and leaves."""
        if len(t) == 1:
            return 1
        k = self.sizes.get(id(t))
        if k is not None:
            return k
        n = 1
        for i in range(1, len(t)):
            n += self.size(t[i])
        return n

    def _build(self, op: str, kids: tuple, key: tuple) -> tuple:
        values = []
        for k in kids:
            if len(k) != 1:
                break
            if k[0] == CONSTANT:
                values.append(None)
                continue
            v = leaf_number(k)
            if v is None:
                break
            values.append(v)
        else:
            if (op == "*" and 0.0 in values) or (op == "/" and values[0] == 0.0):
                return ZERO  # 0*C is 0, not a free constant
            if any(v is None for v in values):
                return C
            folded = fold(op, values)
            return folded if folded is not None else key

        fast = _FAST.get(op)
        if fast is not None:
            # Plain terms/factors (variables, functions that neither merge nor carry a coefficient): the normal
            # form is spelled directly, skipping the general builders on these very common nodes.
            a = kids[0]
            if fast == 2:
                b = kids[1]
                kind = "*" if op == "*" or op == "/" else "+"
                if a != b and _plain(a, kind, self) and _plain(b, kind, self):
                    return self._rewrite((op, a, b) if (op == "-" or op == "/" or a <= b) else (op, b, a))
            elif op == "neg":
                if _plain(a, "neg") and a[0] not in ODD:
                    return self._rewrite(key)
            elif _plain(a, "*", self) and not (op in _EVEN_POWERS and (a[0] in ODD or a[0] == "abs")):
                return self._rewrite(key)
        if op == "pow":
            unary = _UNARY_POWER.get(leaf_number(kids[1]))
            if unary is not None:  # the native spelling `pow E 2` is `pow2 E`: compare lengths with that
                return kids[0] if unary == "" else self.node(unary, (kids[0],))
        if op in _SUM_OPS:
            built = build_sum(self, key)
        elif op in PRODUCT_OPS or op == "pow":
            built = build_product(self, key)
        elif op == "abs":
            built = build_abs(self, kids[0])
        elif op == "exp":
            built = build_exp(self, kids[0])
        elif op == "log":
            built = build_log(self, kids[0])
        else:
            built = build_unary(self, op, kids[0])
        if built is None or built is key:
            return self._rewrite(key)
        n, n_key = self.size(built), self.size(key)
        if n > n_key:
            built, n = key, n_key
        out = self._rewrite(built)
        self._hint = (out, n) if out is built else None
        return out

    def _rewrite(self, t: tuple) -> tuple:
        if self.rules and t[0] in self.heads:
            for pattern, target, repeated in self.candidates(t):
                binding: dict = {}
                if match(pattern, t, binding):
                    for v in repeated:  # a loop, not any(...): Cython cannot compile a generator in a typed method
                        if self.has_c(binding[v]):
                            break
                    else:
                        return instantiate(self, target, binding)
        return t

    # --------------------------------------------------------------------------------------------------- a tree
    def leaf(self, t: tuple) -> tuple:
        v = leaf_number(t)
        return t if v is None else num_leaf(v)

    def pass_once(self, t: tuple) -> tuple:
        if len(t) == 1:
            return self.leaf(t)
        return self.node(t[0], tuple(self.pass_once(k) for k in t[1:]))

    # Every tree ``node`` returns is settled: no rule matches any of its nodes. Its root met the rules in
    # ``_rewrite``; nodes that are themselves ``node`` results (their ids are in ``sizes``) are settled by induction;
    # only the few nodes a builder printed afresh need a look, which is what these two do. A node above a rewritten
    # one is rebuilt as is and meets the rules again, but not the builders: a builder would print the spelling the
    # rule just shortened, and the two would go round forever.
    def _settle_inside(self, t: tuple) -> tuple:
        sizes = self.sizes
        a = t[1]
        a2 = a if len(a) == 1 or id(a) in sizes else self._settle_fresh(a)
        if len(t) == 2:
            return t if a2 is a else self._rewrite((t[0], a2))
        b = t[2]
        b2 = b if len(b) == 1 or id(b) in sizes else self._settle_fresh(b)
        return t if (a2 is a and b2 is b) else self._rewrite((t[0], a2, b2))

    def _settle_fresh(self, x: tuple) -> tuple:
        y = self._settle_inside(x)
        return y if y is not x else self._rewrite(x)

    def simplify_tree(self, t: tuple) -> tuple:
        return self.pass_once(t)
