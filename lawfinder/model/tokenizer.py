"""Token vocabularies of the two models and the maps between token lists and integer ids.

``"prefix"`` is Flash-ANSR's 83-token vocabulary (facts §3: 28 special/literal tokens, 38 operators, x1..x17): the
model predicts skeletons in prefix order with ``<constant>`` placeholders. ``"latex"`` is the scaling-laws paper's
target: LaTeX with integer constants spelled digit by digit (``lawfinder.simplipy.latex_tokens`` converts between it
and prefix tokens). The token syntax itself (operators, arities, ``<constant>``, numbers, aliases) is
``lawfinder.simplipy``'s; this module only fixes each vocabulary's order, which the shipped weights depend on.
Pure Python + numpy (no torch), so the data generator can tokenize on CPU workers.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..simplipy.latex_tokens import LATEX_DIGITS, LATEX_FUNCTIONS, LATEX_SYMBOLS, LATEX_VARIABLES
from ..simplipy.operators import ALIASES, CONSTANT, NUMBER_ALIASES, OPERATORS
from ..simplipy.tokens import is_number

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"

# ---------------------------------------------------------------------------------------------------------------------
# Flash-ANSR prefix vocabulary (v23.0 tokenizer.yaml order: specials, operators, variables). The lists fix the ids;
# what each token means is lawfinder.simplipy's.

PREFIX_SPECIALS = [
    PAD, BOS, EOS, UNK, "<cls>", "<mask>", CONSTANT, "<prompt>", "</prompt>", "<expression>", "</expression>",
    "<complexity>", "</complexity>", "<float>", "<allowed_term>", "</allowed_term>", "<include_term>",
    "</include_term>", "<exclude_term>", "</exclude_term>",
]
# SimpliPy's literal tokens, spelled as lawfinder.simplipy spells them ("-1", "pi", "e"). The three non-finite ones
# keep SimpliPy's spelling: no valid training target contains them (the generator rejects such expressions), but they
# hold their vocabulary slots so the vocabulary has the paper's 83 entries.
PREFIX_LITERALS = ["0", "1", "-1", "pi", "e", 'float("inf")', 'float("-inf")', 'float("nan")']
# The operators whose record says Flash-ANSR's vocabulary holds them, in the records' order (which is the vocabulary's):
# the 38 of facts §3. Read once, when this module is imported: a vocabulary is fixed for the weights trained on it.
PREFIX_OPERATORS = [op.name for op in OPERATORS.values() if op.in_vocabulary]
PREFIX_MAX_VARIABLES = 17
PREFIX_VARIABLES = [f"x{i}" for i in range(1, PREFIX_MAX_VARIABLES + 1)]
# Other spellings of the same tokens (lawfinder.simplipy's aliases, which include SimpliPy's native ones), accepted by
# encode; the non-finite literals' short names map to their vocabulary slots.
PREFIX_ALIASES = {**NUMBER_ALIASES, **ALIASES,
                  "inf": 'float("inf")', "-inf": 'float("-inf")', "nan": 'float("nan")'}


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
                hint = f" ({self._hint})" if self._hint and isinstance(token, str) and is_number(token) else ""
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
    return [CONSTANT if (is_number(t) and t not in tok) else t for t in tokens]


# ---------------------------------------------------------------------------------------------------------------------

PREFIX = Tokenizer(
    "prefix", PREFIX_SPECIALS + PREFIX_LITERALS + PREFIX_OPERATORS + PREFIX_VARIABLES,
    specials=PREFIX_SPECIALS, content_specials=(CONSTANT,), aliases=PREFIX_ALIASES,
    hint="the prefix vocabulary holds the literals 0, 1, -1, pi, e only; map other numbers to <constant> with "
         "lawfinder.model.tokenizer.constantify_numbers",
)
# Scaling-laws LaTeX vocabulary: infix LaTeX tokens, integers digit by digit.
# The scaling study's function tokens keep the ids it gave them; an operator record with a new LaTeX token joins after.
_LATEX_FUNCTION_IDS = ("\\exp", "\\log", "\\sin", "\\cos", "\\tan")
LATEX = Tokenizer("latex", [PAD, BOS, EOS, UNK] + LATEX_DIGITS + LATEX_VARIABLES + LATEX_SYMBOLS
                  + sorted(LATEX_FUNCTIONS.values(), key=lambda t: (_LATEX_FUNCTION_IDS + (t,)).index(t)))

TOKENIZERS: dict[str, Tokenizer] = {"prefix": PREFIX, "latex": LATEX}


def get_tokenizer(name: str) -> Tokenizer:
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(f"unknown tokenizer {name!r}; choose one of {sorted(TOKENIZERS)}") from None
