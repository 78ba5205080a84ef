"""Which build of the hot modules runs: compiled, or the pure-Python sources they are compiled from.

``setup.py`` compiles the modules listed below with Cython when it can (``pip install -e .``): the simplifier's
(``SIMPLIFIER_MODULES``) and the generator's per-sample code (``GENERATOR_MODULES``). The compiled files sit beside the
``.py`` files they were made from and Python imports them first. They are the same source, so they give the same
outputs (tests/test_native_builds.py checks that). A package's ``.py`` files run instead when nothing of it was compiled
(no C compiler, no Cython), when ``LAWFINDER_PURE_PYTHON=1`` is set, or when one of its ``.py`` files (or the ``.pxd``
beside it) is newer than its compiled file (a source edited after the build: running the stale build would silently
ignore the edit).

A ``.pxd`` beside a hot module (``simplipy/rewrite/engine.pxd``, ``products.pxd``, ``terms.pxd``) declares C types for
its classes and recursive functions (``cdef class Engine`` with typed attributes, ``cpdef factors``): Python never
reads it, Cython compiles attribute access and those calls to C (measured: simplify 14 % faster on generated
skeletons). A class with a ``.pxd`` must declare there every attribute it sets.

Each of the two packages makes its ``Build`` (``lawfinder.simplipy.BUILD``, ``lawfinder.generate.BUILD``) and calls
its ``choose()`` first thing in its ``__init__``, so the choice is made before any hot module is imported.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

# Bottom-up within each package (each imports only those before it): the order in which the sources are loaded when
# they must be. setup.py reads these two tuples from this file.
SIMPLIFIER_MODULES = ("interpret", "rewrite.terms", "rewrite.products", "rewrite.signs", "rewrite.sums",
                      "rewrite.functions", "rules", "rewrite.engine", "simplify")
# Compiled untyped, the generator's Python glue runs ~4 % faster (samples/s, three alternating runs on one core).
GENERATOR_MODULES = ("streams", "skeleton", "fingerprint", "decontaminate", "support_points", "generator")
PURE_ENV = "LAWFINDER_PURE_PYTHON"
_ROOT = Path(__file__).resolve().parent


def compiled_file(source: Path) -> Path | None:
    """The extension module compiled from ``source`` (``.py`` or ``.pyx``): beside it, same stem, or None."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = source.with_name(source.stem + suffix)
        if path.exists():
            return path
    return None


def build_is_stale(source: Path) -> bool:
    """Is the extension compiled from ``source`` missing, or older than ``source`` or the ``.pxd`` beside it (C types
    for the compiler)?"""
    built = compiled_file(source)
    if built is None:
        return True
    declarations = source.with_suffix(".pxd")
    changed = max(source.stat().st_mtime, declarations.stat().st_mtime if declarations.exists() else 0.0)
    return built.stat().st_mtime < changed


def pure_python_requested() -> bool:
    return os.environ.get(PURE_ENV, "") not in ("", "0")


class Build:
    """The compiled modules of one package (``modules``, dotted names below ``package``, whose folder is ``root``)."""

    def __init__(self, package: str, root: Path, modules: tuple[str, ...], what: str):
        self.package, self.root, self.modules, self.what = package, root, modules, what
        self.implementation: str | None = None  # set by choose()

    def source_path(self, name: str) -> Path:
        return self.root.joinpath(*name.split(".")).with_suffix(".py")

    def compiled_path(self, name: str) -> Path | None:
        return compiled_file(self.source_path(name))

    def stale_modules(self) -> list[str]:
        """Modules whose compiled file is missing or older than their source."""
        return [name for name in self.modules if build_is_stale(self.source_path(name))]

    def _load_sources(self) -> None:
        for name in self.modules:
            full = f"{self.package}.{name}"
            if full in sys.modules:
                continue
            parent, _, child = full.rpartition(".")
            importlib.import_module(parent)
            spec = importlib.util.spec_from_file_location(full, self.source_path(name))
            module = importlib.util.module_from_spec(spec)
            sys.modules[full] = module
            spec.loader.exec_module(module)
            setattr(sys.modules[parent], child, module)

    def choose(self) -> str:
        """``"compiled"`` or ``"python"`` (also kept in ``implementation``); loads the sources in place of the
        compiled files where they must run."""
        self.implementation = self._choose()
        return self.implementation

    def _choose(self) -> str:
        if not any(self.compiled_path(name) for name in self.modules):
            return "python"
        stale = self.stale_modules()
        if pure_python_requested():
            self._load_sources()
            return "python"
        if stale:
            where = self.source_path(stale[0])
            where = where.relative_to(_ROOT.parent) if where.is_relative_to(_ROOT.parent) else where
            warnings.warn(f"the compiled {self.what} is older than {where} (or missing); running the Python sources. "
                          f"Rebuild with `pip install -e .`", stacklevel=3)
            self._load_sources()
            return "python"
        return "compiled"
