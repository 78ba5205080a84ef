"""The layout's rules, checked from the source: which package may import which (``LAYERS``), and no import cycles
among modules beyond the ones still being taken apart (``KNOWN_CYCLES``).

Imports are read with ``ast`` from every module, at module level and inside functions (a lazy import is still a
dependency), plus the command modules ``lawfinder/cli.py`` names as strings; nothing is imported, so the check needs
neither torch nor Ray. docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom to top. A package may import itself and packages on lower tiers, never one on its own tier or above, so the
# package graph has no cycle and each tier can be read (and tested) knowing only the tiers below it.
LAYERS = (
    # leaf utilities: writes, overrides, CSV, Ray, bars, which build (compiled or sources) runs
    ("atomic", "overrides", "tables", "ray_connect", "progress", "native", "run_lock"),
    ("simplipy",),                      # expressions: token syntax, operator table, parse/print, compile, simplify
    ("model",),                         # tokenizer vocabularies, encoders, decoder, presets, training step, checkpoints
    ("generate", "inference"),          # training data; table -> formulas. Neither imports the other
    ("actors",),                        # Ray shells for distributed training: producers, trainer, launch
    ("evaluation",),                    # FastSRB benchmark through one method protocol
    ("scaling", "grow"),                # scaling-law sweeps and fits; growing the shipped model run after run
    ("perf",),                          # performance benchmarks (`lawfinder bench ...`)
    ("__init__", "cli"),                # the public faces: `import lawfinder` (Regressor) and the command
    ("__main__",),                      # `python -m lawfinder`
)

# Strongly connected groups of modules that import each other, as they stand on this branch. The test fails when a
# cycle appears and when one is broken without being removed here, so this set only ever shrinks.
KNOWN_CYCLES: set[frozenset[str]] = set()  # none left


# ---- reading the import graph -----------------------------------------------------------------------------------

def module_files(root: Path, package: str = "lawfinder") -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root/package`` (a package is named by its folder)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_edges(root: Path, package: str = "lawfinder") -> dict[str, dict[str, int]]:
    """Module -> {imported module of the same tree: first line importing it}.

    ``from . import x`` counts as importing the submodule ``x`` when there is one, else the package; string constants
    that name a module exactly (``"lawfinder.simplipy.cli"`` in the command table) count as imports too."""
    files = module_files(root, package)
    edges: dict[str, dict[str, int]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        found: dict[str, int] = {}

        def add(target: str, line: int) -> None:
            if target in files and target != module:
                found.setdefault(target, line)

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    add(sub if sub in files else target, node.lineno)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
                add(node.value, node.lineno)
        edges[module] = found
    return edges


def package_of(module: str) -> str:
    """``lawfinder.model.train`` -> ``model``; ``lawfinder.atomic`` -> ``atomic``; ``lawfinder`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(edges: dict[str, dict[str, int]]) -> set[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: set[frozenset[str]] = set()
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    out.add(frozenset(group))
    return out


def layer_violations(edges: dict[str, dict[str, int]], layers=LAYERS) -> list[str]:
    """One line per import that goes sideways or up the layers, naming both modules and the line."""
    tier = {package: i for i, names in enumerate(layers) for package in names}
    out = []
    for module, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            a, b = package_of(module), package_of(target)
            if a == b:
                continue
            if a not in tier or b not in tier:
                out.append(f"{module} (line {line}) imports {target}: {a if a not in tier else b} has no tier")
            elif tier[b] >= tier[a]:
                out.append(f"{module} (line {line}) imports {target}: {a} may not import {b}")
    return out


# ---- the rules, on this tree ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def edges():
    return import_edges(ROOT)


def test_every_package_has_a_place_in_the_layers(edges):
    listed = [p for names in LAYERS for p in names]
    assert len(listed) == len(set(listed)), "a package is listed on two tiers"
    found = {package_of(m) for m in edges}
    assert found - set(listed) == set(), "new package(s): give them a tier in LAYERS (and docs/architecture.md)"
    assert set(listed) - found == set(), "LAYERS names package(s) that no longer exist"


def test_imports_run_down_the_layers(edges):
    assert layer_violations(edges) == []


def test_import_cycles_are_exactly_the_known_ones(edges):
    found = cycles(edges)
    new = sorted(sorted(c) for c in found - KNOWN_CYCLES)
    gone = sorted(sorted(c) for c in KNOWN_CYCLES - found)
    assert not new, f"new import cycle(s): {new}"
    assert not gone, f"cycle(s) broken (well done): remove them from KNOWN_CYCLES: {gone}"


def test_the_map_in_docs_shows_the_same_tiers():
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (`[^|]+`) \|", text, flags=re.M)
    drawn = {name.removesuffix(".py").removesuffix("/"): int(tier)
             for tier, names in rows for name in re.findall(r"`([^`]+)`", names)}
    assert drawn == {package: i for i, names in enumerate(LAYERS) for package in names}


def test_the_reader_sees_lazy_relative_and_command_table_imports(edges):
    # Known imports of each kind, so that a reader that silently found nothing could not pass the tests above.
    assert "lawfinder.simplipy.latex_tokens" in edges["lawfinder.generate.generator"]  # module level, relative
    assert "lawfinder.model.build" in edges["lawfinder.model"]  # inside __getattr__
    assert "lawfinder.evaluation.metrics" in edges["lawfinder.evaluation.harness"]  # from . import metrics
    assert "lawfinder.perf.fit" in edges["lawfinder.cli"]  # named in BENCH_MODULES


# ---- the checks themselves, on a made-up tree -------------------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_upward_import_and_a_cycle_are_caught(tmp_path):
    _write(tmp_path, {
        "lawfinder/__init__.py": "",
        "lawfinder/atomic.py": "",
        "lawfinder/simplipy/__init__.py": "",
        "lawfinder/simplipy/a.py": "from . import b\n",
        "lawfinder/simplipy/b.py": "def f():\n    from .a import g\n    from ..model import m\n",
        "lawfinder/model/__init__.py": "from ..atomic import write\n",
        "lawfinder/model/m.py": "",
    })
    found = import_edges(tmp_path)
    assert cycles(found) == {frozenset({"lawfinder.simplipy.a", "lawfinder.simplipy.b"})}
    layers = (("atomic",), ("simplipy",), ("model",), ("__init__",))
    assert layer_violations(found, layers) == [
        "lawfinder.simplipy.b (line 3) imports lawfinder.model.m: simplipy may not import model"]


# ---- the map's imports column is the code's --------------------------------------------------------------------

def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_by_package(edges) -> dict[str, set[str]]:
    """Package (a top-level module or folder of lawfinder) -> the other packages its modules import."""
    out: dict[str, set[str]] = {}
    for module, targets in edges.items():
        for target in targets:
            a, b = _package(module), _package(target)
            if a != b:
                out.setdefault(a, set()).add(b)
    return out


def test_the_maps_imports_column_is_what_the_code_imports(edges):
    text = (ROOT / "docs" / "architecture.md").read_text()
    tiers = {package: i for i, names in enumerate(LAYERS) for package in names}
    actual = imports_by_package(edges)
    wrong = []
    for names, column in re.findall(r"^\| \d+ \| ([^|]+) \| [^|]+ \| ([^|]+) \|$", text, flags=re.M):
        packages = [n.removesuffix(".py").removesuffix("/") for n in re.findall(r"`([^`]+)`", names)]
        real = set().union(*(actual.get(p, set()) for p in packages)) - set(packages)
        listed = set(re.findall(r"`([^`]+)`", column))
        if listed != real:
            expected = ", ".join(f"`{p}`" for p in sorted(real, key=lambda p: (-tiers.get(p, -1), p))) or "—"
            wrong.append(f"{packages}: the map says {sorted(listed)}, the code imports {expected}")
    assert not wrong, "docs/architecture.md's imports column is stale:\n" + "\n".join(wrong)


def test_the_package_points_at_nothing_outside_the_repository():
    """Paths like ../shared/... exist on the developers' machines only: a user's install has none of them."""
    found = [f"{path.relative_to(ROOT)}:{i}" for path in sorted((ROOT / "lawfinder").rglob("*.py"))
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if "../shared" in line or '"shared"' in line]
    assert not found, f"paths outside the repository: {found}"


def test_docs_and_package_docstrings_name_only_files_that_exist():
    """Every ``something.py`` a doc or a package's docstring names is a file of the repository (at that path, or
    ending with it): a rename that forgets a mention fails here."""
    files = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")
             if not any(part in (".git", "build", ".hypothesis") for part in p.parts)]

    def exists(ref: str) -> bool:
        return any(f == ref or f.endswith("/" + ref) for f in files)

    texts = {p: p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
    texts.update({p: p.read_text(encoding="utf-8") for p in (ROOT / "lawfinder").rglob("__init__.py")})
    missing = [f"{p.relative_to(ROOT)}: {ref}" for p, text in texts.items()
               for ref in sorted(set(re.findall(r"``?([A-Za-z_][\w/]*\.py)``?", text))) if not exists(ref)]
    assert not missing, "named but not in the repository:\n" + "\n".join(missing)
