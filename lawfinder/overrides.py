"""``NAME=VALUE`` overrides of a config dataclass's fields, as the CLI's ``--set``/``--set-data``/``--set-model``/
``--set-train`` flags give them: VALUE is read by the type of the field's default (JSON for tuples)."""

from __future__ import annotations

import dataclasses
import json
from typing import Mapping, TypeVar

T = TypeVar("T")

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def parse_assignment(cls, text: str, flag: str = "override") -> tuple[str, object]:
    """``"NAME=VALUE"`` -> ``(name, value)`` for a field of the dataclass ``cls``; ValueError names the flag and field.

    Booleans read true/false/1/0/yes/no; tuples read JSON, an object becoming its (key, value) pairs (operator
    weights) and a list of lists a tuple of tuples; a field whose default is None reads ``none`` as None."""
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    known = {f.name for f in dataclasses.fields(cls)}
    if not sep:
        raise ValueError(f"{flag} {text!r} must look like NAME=VALUE")
    if name not in known:
        raise ValueError(f"{flag} {text!r}: unknown {cls.__name__} field {name!r}; known: {sorted(known)}")
    default = getattr(cls(), name)
    try:
        if isinstance(default, bool):
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError
            return name, raw.lower() in _TRUE
        if isinstance(default, (int, float)):
            return name, type(default)(raw)
        if isinstance(default, tuple):
            value = json.loads(raw)
            if isinstance(value, dict):
                return name, tuple(value.items())
            return name, tuple(tuple(v) if isinstance(v, list) else v for v in value)
        if default is None and raw.lower() == "none":
            return name, None
        return name, raw
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValueError(f"{flag} {name}: cannot read {raw!r} as {type(default).__name__}") from None


def check_fields(cls, data: dict) -> None:
    """ValueError naming any key of ``data`` that is not a field of the dataclass ``cls`` (configs read from files)."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {unknown}")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """``registry[name]`` for every preset registry (model, generator, FastSRB, rule discovery), so that all are
    looked up one way: an unknown name is one line naming ``what`` and the known names."""
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; known: {', '.join(registry)}") from None
