"""Which build of the simplifier's hot modules runs: compiled or the pure-Python sources.

``setup.py`` compiles the modules in ``HOT_MODULES`` with Cython when it can (``pip install -e .``); the compiled
files sit beside the ``.py`` files they were made from and Python imports them first. They are the same source, so
they give the same outputs (tests/test_simplify_native.py checks that). The ``.py`` files run instead when nothing was
compiled (no C compiler, no Cython), when ``LAWFINDER_PURE_PYTHON=1`` is set, or when a ``.py`` (or the ``.pxd`` beside
it) is newer than its compiled file (a source edited after the build: running the stale build would silently ignore
the edit).

A ``.pxd`` beside a hot module (``rewrite/engine.pxd``, ``products.pxd``, ``terms.pxd``) declares C types for its
classes and recursive functions (``cdef class Engine`` with typed attributes, ``cpdef factors``): Python never reads
it, Cython compiles attribute access and those calls to C (measured: simplify 14 % faster on generated skeletons).
A class with a ``.pxd`` must declare there every attribute it sets.

``simplipy/__init__`` imports this module first, so the choice is made before any hot module is imported.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

# Bottom-up (each imports only those before it), the order in which the sources are loaded when they must be.
HOT_MODULES = ("interpret", "rewrite.terms", "rewrite.products", "rewrite.signs", "rewrite.sums", "rewrite.functions",
               "rules", "rewrite.engine", "simplify")
PURE_ENV = "LAWFINDER_PURE_PYTHON"
_HERE = Path(__file__).resolve().parent
_PACKAGE = __name__.rsplit(".", 1)[0]


def source_path(name: str) -> Path:
    return _HERE.joinpath(*name.split(".")).with_suffix(".py")


def compiled_path(name: str) -> Path | None:
    return compiled_file(source_path(name))


def compiled_file(source: Path) -> Path | None:
    """The extension module compiled from ``source`` (``.py`` or ``.pyx``): beside it, same stem, or None."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = source.with_name(source.stem + suffix)
        if path.exists():
            return path
    return None


def _load_sources() -> None:
    for name in HOT_MODULES:
        full = f"{_PACKAGE}.{name}"
        if full in sys.modules:
            continue
        parent, _, child = full.rpartition(".")
        importlib.import_module(parent)
        spec = importlib.util.spec_from_file_location(full, source_path(name))
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
        setattr(sys.modules[parent], child, module)


def _source_mtime(name: str) -> float:
    """When the module's source last changed: its ``.py``, or the ``.pxd`` beside it (C types for the compiler)."""
    source = source_path(name)
    declarations = source.with_suffix(".pxd")
    mtime = source.stat().st_mtime
    return max(mtime, declarations.stat().st_mtime) if declarations.exists() else mtime


def stale_modules() -> list[str]:
    """Hot modules whose compiled file is missing or older than their source."""
    out = []
    for name in HOT_MODULES:
        path = compiled_path(name)
        if path is None or path.stat().st_mtime < _source_mtime(name):
            out.append(name)
    return out


def choose() -> str:
    """``"compiled"`` or ``"python"``; loads the sources in place of the compiled files where they must run."""
    if not any(compiled_path(name) for name in HOT_MODULES):
        return "python"
    stale = stale_modules()
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        _load_sources()
        return "python"
    if stale:
        warnings.warn(f"the compiled simplifier is older than lawfinder/simplipy/{stale[0].replace('.', '/')}.py "
                      f"(or missing); running the Python sources. Rebuild with `pip install -e .`", stacklevel=2)
        _load_sources()
        return "python"
    return "compiled"


IMPLEMENTATION = choose()
