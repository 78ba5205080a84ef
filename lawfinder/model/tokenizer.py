"""Token vocabularies of the two models and the maps between expressions and integer ids.

``"prefix"`` is Flash-ANSR's 83-token vocabulary (facts §3: 28 special/literal tokens, 38 operators, x1..x17): the
model predicts skeletons in prefix order with ``<constant>`` placeholders. ``"latex"`` is the scaling-laws paper's
target: LaTeX with integer constants spelled digit by digit; ``latex_tokens`` / ``parse_latex_tokens`` convert
between it and prefix tokens. Pure Python + numpy (no torch), so the data generator can tokenize on CPU workers.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
CONSTANT = "<constant>"

# ---------------------------------------------------------------------------------------------------------------------
# Flash-ANSR prefix vocabulary (v23.0 tokenizer.yaml order: specials, operators, variables).

PREFIX_SPECIALS = [
    PAD, BOS, EOS, UNK, "<cls>", "<mask>", CONSTANT, "<prompt>", "</prompt>", "<expression>", "</expression>",
    "<complexity>", "</complexity>", "<float>", "<allowed_term>", "</allowed_term>", "<include_term>",
    "</include_term>", "<exclude_term>", "</exclude_term>",
]
# SimpliPy's literal tokens, spelled as lawfinder.simplipy spells them ("-1", "pi", "e"). The three non-finite ones
# keep SimpliPy's spelling: no valid training target contains them (the generator rejects such expressions), but they
# hold their vocabulary slots so the vocabulary has the paper's 83 entries.
PREFIX_LITERALS = ["0", "1", "-1", "pi", "e", 'float("inf")', 'float("-inf")', 'float("nan")']
PREFIX_OPERATORS = [
    "+", "-", "*", "/", "abs", "inv", "neg", "pow", "pow2", "pow3", "pow4", "pow5", "pow1_2", "pow1_3", "pow1_4",
    "pow1_5", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp",
    "log", "mult2", "mult3", "mult4", "mult5", "div2", "div3", "div4", "div5",
]
PREFIX_MAX_VARIABLES = 17
PREFIX_VARIABLES = [f"x{i}" for i in range(1, PREFIX_MAX_VARIABLES + 1)]
# Other spellings of the same tokens (SimpliPy's native ones and lawfinder.simplipy's aliases), accepted by encode.
PREFIX_ALIASES = {"(-1)": "-1", "np.pi": "pi", "np.e": "e", "sqrt": "pow1_2", "cbrt": "pow1_3",
                  "inf": 'float("inf")', "-inf": 'float("-inf")', "nan": 'float("nan")'}

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


class Tokenizer:
    """A fixed vocabulary with ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2.

    ``content_specials`` are special-looking tokens that belong to the expression (``<constant>``) and so survive
    ``decode``; every other token of ``specials`` is dropped by ``decode``.
    """

    pad_id = 0
    bos_id = 1
    eos_id = 2

    def __init__(self, name: str, vocab: Sequence[str], specials: Sequence[str] = (PAD, BOS, EOS, UNK),
                 content_specials: Sequence[str] = (), aliases: dict[str, str] | None = None, hint: str = ""):
        vocab = list(vocab)
        if vocab[:3] != [PAD, BOS, EOS]:
            raise ValueError(f"vocabulary {name!r} must start with {PAD}, {BOS}, {EOS}; got {vocab[:3]}")
        if len(set(vocab)) != len(vocab):
            raise ValueError(f"vocabulary {name!r} has duplicate tokens")
        self.name = name
        self.vocab: list[str] = vocab
        self.index: dict[str, int] = {t: i for i, t in enumerate(vocab)}
        self.aliases = dict(aliases or {})
        self._hint = hint
        self._dropped = frozenset(self.index[t] for t in specials if t not in content_specials)

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, token: str) -> bool:
        return token in self.index or token in self.aliases

    def token_id(self, token: str) -> int:
        return self.index[self.aliases.get(token, token)]

    def encode(self, tokens: Iterable[str], add_special: bool = True) -> list[int]:
        """Tokens -> ids, wrapped in ``<bos>`` .. ``<eos>`` unless ``add_special`` is False.

        Raises ``ValueError`` naming the first unknown token and its position in ``tokens``."""
        ids = [self.bos_id] if add_special else []
        for position, token in enumerate(tokens):
            i = self.index.get(self.aliases.get(token, token)) if isinstance(token, str) else None
            if i is None:
                hint = f" ({self._hint})" if self._hint and isinstance(token, str) and _NUMBER.match(token) else ""
                raise ValueError(f"unknown token {token!r} at position {position} for the {self.name!r} "
                                 f"vocabulary{hint}")
            ids.append(i)
        if add_special:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens, stopping at the first ``<eos>`` and dropping ``<pad>``, ``<bos>`` and other specials."""
        out: list[str] = []
        n = len(self.vocab)
        for position, i in enumerate(ids):
            i = int(i)
            if i == self.eos_id:
                break
            if not 0 <= i < n:
                raise ValueError(f"token id {i} at position {position} is outside the {self.name!r} vocabulary "
                                 f"of {n} tokens")
            if i not in self._dropped:
                out.append(self.vocab[i])
        return out

    def encode_batch(self, sequences: Sequence[Sequence[str]], max_len: int) -> np.ndarray:
        """Encode (with ``<bos>``/``<eos>``) and right-pad with ``<pad>`` into an int64 array (B, max_len).

        Raises ``ValueError`` naming the sequence that does not fit."""
        out = np.full((len(sequences), max_len), self.pad_id, dtype=np.int64)
        for row, tokens in enumerate(sequences):
            try:
                ids = self.encode(tokens)
            except ValueError as error:
                raise ValueError(f"sequence {row}: {error}") from None
            if len(ids) > max_len:
                raise ValueError(f"sequence {row} needs {len(ids)} ids with <bos>/<eos>, more than max_len={max_len}")
            out[row, : len(ids)] = ids
        return out


def constantify_numbers(tokens: Sequence[str], tokenizer: Tokenizer | None = None) -> list[str]:
    """Replace every number literal the prefix vocabulary lacks (``2``, ``0.5``, ``-3``) by ``<constant>``.

    Flash-ANSR predicts skeletons: such a literal becomes a free constant that the constant fit recovers. Apply this
    before ``encode`` when a simplifier may leave literals other than 0, 1, -1, pi, e."""
    tok = tokenizer or PREFIX
    return [CONSTANT if (_NUMBER.match(t) and t not in tok) else t for t in tokens]


# ---------------------------------------------------------------------------------------------------------------------
# Scaling-laws LaTeX vocabulary: infix LaTeX tokens, integers digit by digit.
#
# Grammar produced by latex_tokens and read by parse_latex_tokens (brackets only where needed, so the map is 1:1 on
# canonical prefix expressions, i.e. lawfinder.simplipy.normalize output):
#   sum     := product (("+" | "-") product)*                   left-associative
#   product := unary ("\cdot" unary)*                           left-associative
#   unary   := "-" digits          (a negative integer literal, unless "^" follows)
#            | "-" unary           (neg)
#            | power
#   power   := primary ("^" "{" sum "}")*                       x^{2} -> pow2, x^{-1} -> inv, other -> pow
#   primary := digits | "x_{i}" | "\pi" | "e" | "(" sum ")" | "\frac" "{" sum "}" "{" sum "}"
#            | "\sqrt" "{" sum "}" | ("\exp" | "\log" | "\sin" | "\cos" | "\tan") "(" sum ")"

LATEX_MAX_VARIABLES = 9
LATEX_DIGITS = [str(d) for d in range(10)]
LATEX_VARIABLES = [f"x_{{{i}}}" for i in range(1, LATEX_MAX_VARIABLES + 1)]
LATEX_SYMBOLS = ["+", "-", "\\cdot", "\\frac", "\\sqrt", "^", "{", "}", "(", ")", "\\pi", "e"]
LATEX_FUNCTIONS = {"exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos", "tan": "\\tan"}
_LATEX_FUNCTION_OPS = {v: k for k, v in LATEX_FUNCTIONS.items()}

_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
_BINARY = {"+": ("+", _ADD), "-": ("-", _ADD), "*": ("\\cdot", _MUL)}
_POWER_EXPONENT = {"pow2": "2", "pow3": "3", "pow4": "4", "pow5": "5", "inv": "-1"}
_EXPONENT_POWER = {"2": "pow2", "3": "pow3", "4": "pow4", "5": "pow5", "-1": "inv"}
_PREFIX_ARITY = {"+": 2, "-": 2, "*": 2, "/": 2, "pow": 2, "neg": 1, "pow1_2": 1, **{k: 1 for k in _POWER_EXPONENT},
                 **{k: 1 for k in LATEX_FUNCTIONS}}
_VARIABLE = re.compile(r"x([1-9][0-9]*)\Z")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _prefix_tree(tokens: Sequence[str]) -> tuple:
    """Prefix tokens -> nested tuples, raising ValueError for tokens the LaTeX vocabulary cannot spell."""
    pos = 0

    def build() -> tuple:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"prefix expression ended at position {pos} where an operand was expected")
        token = tokens[pos]
        here = pos
        pos += 1
        n = _PREFIX_ARITY.get(token)
        if n is not None:
            return (token, *(build() for _ in range(n)))
        if token in ("pi", "e") or _INTEGER.match(token):
            if _INTEGER.match(token) and token == "-0":
                raise ValueError(f"token '-0' at position {here} is not a canonical integer")
            return (token,)
        m = _VARIABLE.match(token)
        if m and int(m.group(1)) <= LATEX_MAX_VARIABLES:
            return (token,)
        raise ValueError(f"token {token!r} at position {here} has no spelling in the LaTeX vocabulary "
                         f"(supported: integers, pi, e, x1..x{LATEX_MAX_VARIABLES}, {' '.join(_PREFIX_ARITY)})")

    tree = build()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens after a complete prefix expression, starting at position {pos}")
    return tree


def _render(node: tuple) -> tuple[list[str], int]:
    """One subtree -> (LaTeX tokens, precedence)."""
    head = node[0]
    if len(node) == 1:
        if _INTEGER.match(head):
            digits = list(head.lstrip("-"))
            return (["-", *digits], _NEG) if head.startswith("-") else (digits, _ATOM)
        if head in ("pi", "e"):
            return (["\\pi"] if head == "pi" else ["e"]), _ATOM
        return [f"x_{{{head[1:]}}}"], _ATOM
    if head in _BINARY:
        symbol, prec = _BINARY[head]
        left, lp = _render(node[1])
        right, rp = _render(node[2])
        if lp < prec:
            left = ["(", *left, ")"]
        # Equal precedence on the right keeps the tree's shape (a - (b - c)); a leading minus reads better bracketed.
        if rp <= prec or right[0] == "-":
            right = ["(", *right, ")"]
        return [*left, symbol, *right], prec
    if head == "neg":
        inner, ip = _render(node[1])
        # "- 3" would read back as the literal -3, so neg of a digit string keeps its brackets.
        if ip < _NEG or inner[0] == "-" or inner[0] in LATEX_DIGITS and ip == _ATOM and len(node[1]) == 1:
            inner = ["(", *inner, ")"]
        return ["-", *inner], _NEG
    if head == "/":
        num, _ = _render(node[1])
        den, _ = _render(node[2])
        return ["\\frac", "{", *num, "}", "{", *den, "}"], _ATOM
    if head == "pow1_2":
        inner, _ = _render(node[1])
        return ["\\sqrt", "{", *inner, "}"], _ATOM
    if head in LATEX_FUNCTIONS:
        inner, _ = _render(node[1])
        return [LATEX_FUNCTIONS[head], "(", *inner, ")"], _ATOM
    # Powers: pow2..pow5, inv and binary pow.
    base_node = node[1]
    base, bp = _render(base_node)
    exponent = _render(node[2])[0] if head == "pow" else _render((_POWER_EXPONENT[head],))[0]
    # Only plain leaves and bracket-delimited atoms go bare under a superscript; x^{2}^{3} would be ambiguous.
    bare = bp == _ATOM and (len(base_node) == 1 or base_node[0] in LATEX_FUNCTIONS or base_node[0] == "pow1_2")
    if not bare:
        base = ["(", *base, ")"]
    return [*base, "^", "{", *exponent, "}"], _POW


def latex_tokens(prefix_tokens: Sequence[str]) -> list[str]:
    """Prefix expression (integer literals, x1..x9, + - * / neg inv pow* sqrt exp log sin cos tan) -> LaTeX tokens.

    Integers are spelled digit by digit (``-12`` -> ``- 1 2``). Raises ``ValueError`` naming a token that has no
    LaTeX spelling (``<constant>``, ``0.5``, ``abs`` ...)."""
    return _render(_prefix_tree(list(prefix_tokens)))[0]


class _LatexParser:
    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.pos = 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def expect(self, token: str) -> None:
        got = self.peek()
        if got != token:
            where = f"got {got!r}" if got is not None else "the sequence ended"
            raise ValueError(f"expected {token!r} at position {self.pos}, {where}")
        self.pos += 1

    def parse(self) -> list[str]:
        if not self.tokens:
            raise ValueError("empty LaTeX token sequence")
        out = self.sum()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected token {self.tokens[self.pos]!r} at position {self.pos}")
        return out

    def sum(self) -> list[str]:
        out = self.product()
        while self.peek() in ("+", "-"):
            op = self.tokens[self.pos]
            self.pos += 1
            out = [op, *out, *self.product()]
        return out

    def product(self) -> list[str]:
        out = self.unary()
        while self.peek() == "\\cdot":
            self.pos += 1
            out = ["*", *out, *self.unary()]
        return out

    def digits(self) -> str:
        start = self.pos
        while self.peek() in LATEX_DIGITS:
            self.pos += 1
        text = "".join(self.tokens[start:self.pos])
        if len(text) > 1 and text[0] == "0":
            raise ValueError(f"integer with a leading zero at position {start}")
        return text

    def unary(self) -> list[str]:
        if self.peek() != "-":
            return self.power()
        self.pos += 1
        if self.peek() in LATEX_DIGITS:
            save = self.pos
            text = self.digits()
            if self.peek() != "^":
                if text == "0":
                    raise ValueError(f"'- 0' at position {save - 1} is not a canonical integer")
                return ["-" + text]
            self.pos = save  # -3^{2} is -(3^2)
        return ["neg", *self.unary()]

    def power(self) -> list[str]:
        out = self.primary()
        while self.peek() == "^":
            self.pos += 1
            self.expect("{")
            exponent = self.sum()
            self.expect("}")
            out = [_EXPONENT_POWER[exponent[0]], *out] if len(exponent) == 1 and exponent[0] in _EXPONENT_POWER \
                else ["pow", *out, *exponent]
        return out

    def braced(self) -> list[str]:
        self.expect("{")
        out = self.sum()
        self.expect("}")
        return out

    def primary(self) -> list[str]:
        token = self.peek()
        if token is None:
            raise ValueError(f"the sequence ended at position {self.pos} where an operand was expected")
        if token in LATEX_DIGITS:
            return [self.digits()]
        self.pos += 1
        m = re.match(r"x_\{([1-9][0-9]*)\}\Z", token)
        if m:
            return [f"x{m.group(1)}"]
        if token == "\\pi":
            return ["pi"]
        if token == "e":
            return ["e"]
        if token == "(":
            out = self.sum()
            self.expect(")")
            return out
        if token == "\\frac":
            return ["/", *self.braced(), *self.braced()]
        if token == "\\sqrt":
            return ["pow1_2", *self.braced()]
        if token in _LATEX_FUNCTION_OPS:
            self.expect("(")
            out = self.sum()
            self.expect(")")
            return [_LATEX_FUNCTION_OPS[token], *out]
        raise ValueError(f"unexpected token {token!r} at position {self.pos - 1} where an operand was expected")


def parse_latex_tokens(tokens: Sequence[str]) -> list[str]:
    """LaTeX tokens -> prefix tokens; the exact inverse of ``latex_tokens`` on canonical prefix expressions.

    Raises ``ValueError`` naming the position of malformed input (unbalanced brackets, a missing operand, a token
    that is not part of the grammar)."""
    return _LatexParser(tokens).parse()


# ---------------------------------------------------------------------------------------------------------------------

PREFIX = Tokenizer(
    "prefix", PREFIX_SPECIALS + PREFIX_LITERALS + PREFIX_OPERATORS + PREFIX_VARIABLES,
    specials=PREFIX_SPECIALS, content_specials=(CONSTANT,), aliases=PREFIX_ALIASES,
    hint="the prefix vocabulary holds the literals 0, 1, -1, pi, e only; map other numbers to <constant> with "
         "lawfinder.model.tokenizer.constantify_numbers",
)
LATEX = Tokenizer("latex", [PAD, BOS, EOS, UNK] + LATEX_DIGITS + LATEX_VARIABLES + LATEX_SYMBOLS
                  + list(LATEX_FUNCTIONS.values()))

TOKENIZERS: dict[str, Tokenizer] = {"prefix": PREFIX, "latex": LATEX}


def get_tokenizer(name: str) -> Tokenizer:
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(f"unknown tokenizer {name!r}; choose one of {sorted(TOKENIZERS)}") from None
