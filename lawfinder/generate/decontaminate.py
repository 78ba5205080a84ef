"""Hold test expressions out of training: ``Decontaminator.is_contaminated(skeleton)``.

A generated skeleton is rejected when it equals a test expression up to constants and up to renaming or permuting
variables (``fingerprint`` explains the method). Test expressions are prepared as Flash-ANSR prepares FastSRB: numbers
masked to ``<constant>``, simplified, then reduced. ``Decontaminator.fastsrb()`` loads the index shipped in
``lawfinder/generate/data/`` (rebuild it with ``python -m lawfinder.generate.build_index --fastsrb FILE``), so users
need no copy of the benchmark; ``.add(...)`` puts further expressions (token lists or infix text) next to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import msgpack

from ..atomic import write_bytes
from ..simplipy import parse, validate
from ..simplipy.operators import CONSTANT
from ..simplipy.tokens import is_number, normalize
from .fingerprint import Design, Fingerprinter, reduce_skeleton

FORMAT = "lawfinder-decontamination-index"
VERSION = 1
FASTSRB_INDEX = Path(__file__).with_name("data") / "fastsrb_decontamination.msgpack"


def default_simplify() -> Callable[[list[str]], list[str]] | None:
    """Our simplifier (``lawfinder.simplipy.simplify``), or None where it is not installed."""
    try:
        # The submodule path works whether or not the package re-exports the function under the same name.
        from ..simplipy.simplify import simplify
    except ImportError:
        return None
    return simplify


def mask_numbers(tokens: Sequence[str]) -> list[str]:
    return [CONSTANT if is_number(t) else t for t in tokens]


class Decontaminator:
    """Index of held-out expressions with a ``is_contaminated(tokens)`` check and counters.

    ``test_expressions``: prefix token lists or infix strings (variables ``x1``.. or the names in ``variables``).
    ``simplify``: the simplifier applied to test expressions after masking numbers (default: ours, when present).
    """

    def __init__(self, test_expressions: Iterable = (), *, ids: Iterable[str] | None = None,
                 variables: Sequence[str] | None = None, simplify: Callable | None | str = "default",
                 design: Design | None = None):
        self.design = design or Design.default()
        self.fingerprinter = Fingerprinter(self.design)
        self.simplify = default_simplify() if simplify == "default" else simplify
        self.entries: list[dict] = []
        self._exact: dict[tuple[str, ...], str] = {}
        self._by_key: dict[bytes, dict[bytes | None, str]] = {}
        self._dims: set[int] = set()
        self._forms: set[tuple[str, str]] = set()  # (id, reduced text) already indexed
        self.checked = 0
        self.contaminated = 0
        self.exact_matches = 0
        self.numeric_matches = 0
        self.add(test_expressions, ids=ids, variables=variables)

    # ------------------------------------------------------------------------------------------------ building
    def add(self, expressions: Iterable, *, ids: Iterable[str] | None = None,
            variables: Sequence[str] | None = None) -> "Decontaminator":
        expressions = list(expressions)
        ids = list(ids) if ids is not None else [f"user-{len(self) + i}" for i in range(len(expressions))]
        if len(ids) != len(expressions):
            raise ValueError(f"ids has {len(ids)} entries for {len(expressions)} test expressions")
        for ident, expression in zip(ids, expressions):
            tokens = self._tokens(expression, variables, ident)
            masked = mask_numbers(tokens)
            # Both the masked and the simplified form are indexed: constant pruning is structural, so a simplifier
            # that moves constants around can change what a form reduces to; holding out both is the safe side.
            forms = {"masked": masked}
            if self.simplify is not None:
                forms["simplified"] = self.simplify(masked)
            for form, prepared in forms.items():
                self._add_form(str(ident), form, tokens, prepared)
        return self

    def _add_form(self, ident: str, form: str, tokens: list[str], prepared: list[str]) -> None:
        reduced, d = reduce_skeleton(prepared)
        text = " ".join(reduced)
        if (ident, text) in self._forms:
            return  # this form reduces to one already indexed for the same expression
        if d > self.fingerprinter.max_d:
            raise ValueError(f"test expression {ident!r} has {d} variables; the index design supports "
                             f"{self.fingerprinter.max_d}")
        entry = {"id": ident, "form": form, "expression": " ".join(tokens), "reduced": text, "d": d,
                 "signature_key": None, "image_hash": None}
        if d > 0:
            signatures = self.fingerprinter.signatures(reduced, d)
            entry["signature_key"] = self.fingerprinter.signature_key(signatures)
            entry["image_hash"] = self.fingerprinter.image_hash(reduced, signatures)
        self._insert(entry)

    def refresh_simplified(self) -> "Decontaminator":
        """Index each expression's form under the simplifier running now, where it differs from the stored ones.

        A shipped index was built with the simplifier of its day; generated skeletons pass through today's, and a
        changed simplifier can move constants so that the reduced form changes. ~1 ms per test expression."""
        if self.simplify is None:
            return self
        sources: dict[str, str] = {}
        for e in self.entries:
            sources.setdefault(e["id"], e["expression"])
        for ident, expression in sources.items():
            tokens = expression.split()
            self._add_form(ident, "simplified", tokens, self.simplify(mask_numbers(tokens)))
        return self

    @staticmethod
    def _tokens(expression, variables, ident) -> list[str]:
        if isinstance(expression, str):
            try:
                return parse(expression, variables=variables)
            except ValueError as error:
                raise ValueError(f"test expression {ident!r}: {error}") from None
        try:
            tokens = normalize(expression)
            validate(tokens)
        except ValueError as error:
            raise ValueError(f"test expression {ident!r}: {error}") from None
        return tokens

    def _insert(self, entry: dict) -> None:
        self.entries.append(entry)
        self._forms.add((entry["id"], entry["reduced"]))
        self._exact.setdefault(tuple(entry["reduced"].split()), entry["id"])
        if entry["signature_key"] is not None:
            self._dims.add(entry["d"])
            self._by_key.setdefault(entry["signature_key"], {}).setdefault(entry["image_hash"], entry["id"])

    # ------------------------------------------------------------------------------------------------ checking
    def match(self, tokens: Sequence[str]) -> str | None:
        """The id of a held-out expression that ``tokens`` equals up to constants and variable names, or None."""
        self.checked += 1
        reduced, d = reduce_skeleton(tokens)
        if d not in self._dims:  # includes d = 0: every test expression has a variable
            return None
        hit = self._exact.get(tuple(reduced))
        if hit is not None:
            self.contaminated += 1
            self.exact_matches += 1
            return hit
        signatures = self.fingerprinter.signatures(reduced, d)
        images = self._by_key.get(self.fingerprinter.signature_key(signatures))
        if images is None:
            return None
        if None in images:  # a test expression with too many tied variables: its signature match decides
            hit = images[None]
        else:
            image = self.fingerprinter.image_hash(reduced, signatures)
            hit = next(iter(images.values())) if image is None else images.get(image)
        if hit is not None:
            self.contaminated += 1
            self.numeric_matches += 1
        return hit

    def is_contaminated(self, tokens: Sequence[str]) -> bool:
        return self.match(tokens) is not None

    @property
    def stats(self) -> dict:
        return {"test_expressions": len(self), "checked": self.checked, "contaminated": self.contaminated,
                "exact_matches": self.exact_matches, "numeric_matches": self.numeric_matches}

    def __len__(self) -> int:
        """The number of test expressions (each may have up to two indexed forms)."""
        return len({e["id"] for e in self.entries})

    # ------------------------------------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        payload = {"format": FORMAT, "version": VERSION, "design": self.design.to_dict(),
                   "simplified": self.simplify is not None, "entries": self.entries}
        write_bytes(path, msgpack.packb(payload, use_bin_type=True))

    @classmethod
    def load(cls, path: str | os.PathLike, simplify: Callable | None | str = "default") -> "Decontaminator":
        """An index file written by ``save``, refreshed for the running simplifier (``refresh_simplified``);
        ``simplify`` also applies to expressions added afterwards."""
        with open(path, "rb") as handle:
            payload = msgpack.unpackb(handle.read(), raw=False)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path}: not a lawfinder decontamination index")
        if payload.get("version") != VERSION:
            raise ValueError(f"{path}: index version {payload.get('version')}, this lawfinder reads {VERSION}")
        out = cls(design=Design.from_dict(payload["design"]), simplify=simplify)
        for entry in payload["entries"]:
            out._insert(entry)
        return out.refresh_simplified()

    @classmethod
    def fastsrb(cls, extra: Iterable = (), **kwargs) -> "Decontaminator":
        """The shipped FastSRB index (all 120 equations), plus ``extra`` test expressions."""
        if not FASTSRB_INDEX.exists():
            raise FileNotFoundError(f"{FASTSRB_INDEX} is missing; build it with "
                                    f"`python -m lawfinder.generate.build_index --fastsrb FILE`")
        return cls.load(FASTSRB_INDEX).add(extra, **kwargs)
