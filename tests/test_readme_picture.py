"""The README's first picture shows what its command finds: the law quoted under the picture is the one that command
finds with the shipped model (`make docs-images` rewrites both), and it is the true law of the table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quoted_law_is_what_the_documented_command_finds():
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    args = script.documented_command(text)
    assert args[:2] == ["fit", "examples/incline.csv"] and "--seed" in args   # a repeatable fit of the example
    found = script.find([a if a != "examples/incline.csv" else str(ROOT / a) for a in args])
    assert script.quoted_law(text) == found["law"], "run `make docs-images` after changing the model or search"
    import sympy as sp

    m, theta = sp.symbols("m theta")
    law = sp.sympify(found["law"].split("=", 1)[1], locals={"m": m, "theta": theta})
    assert sp.simplify(law - sp.Float(9.81) * m * sp.sin(theta)) == 0    # the table's true law
