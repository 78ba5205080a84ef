"""The simplifier's two builds (compiled by setup.py, or the Python sources) load as chosen and agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from lawfinder.generate.config import GeneratorConfig
from lawfinder.generate.skeleton import SkeletonSampler
from lawfinder.generate.streams import UniformPool
from lawfinder.simplipy import native

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "reference" / "simplipy" / "corpus.jsonl"

_PROBE = """
import json, sys
import lawfinder.simplipy as s
from lawfinder.simplipy import native
files = {m: sys.modules[f"lawfinder.simplipy.{m}"].__file__ for m in native.HOT_MODULES}
inputs = json.load(sys.stdin)
print(json.dumps({"implementation": native.IMPLEMENTATION, "files": files,
                  "outputs": [s.simplify(t) for t in inputs]}))
"""


def _inputs() -> list[list[str]]:
    sampler = SkeletonSampler(GeneratorConfig())
    uniform = UniformPool(np.random.default_rng(5))
    out = [sampler.sample(uniform) for _ in range(400)]
    if CORPUS.exists():
        with open(CORPUS) as f:
            out += [json.loads(line) for _, line in zip(range(300), f)]
    return out


def _run(inputs, **env) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE], input=json.dumps(inputs), capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, check=True)
    return json.loads(proc.stdout)


def test_both_builds_load_as_chosen_and_agree():
    # Both in fresh processes, so each starts from empty caches, as a producer does.
    inputs = _inputs()
    pure = _run(inputs, LAWFINDER_PURE_PYTHON="1")
    default = _run(inputs, LAWFINDER_PURE_PYTHON="")
    assert pure["implementation"] == "python"
    assert all(path.endswith(".py") for path in pure["files"].values()), pure["files"]
    built = any(native.compiled_path(m) is not None for m in native.HOT_MODULES) and not native.stale_modules()
    if built:
        assert default["implementation"] == "compiled"
        assert not any(path.endswith(".py") for path in default["files"].values()), default["files"]
    else:
        assert default["implementation"] == "python"
    assert pure["outputs"] == default["outputs"]
    assert all(Path(path).is_relative_to(ROOT) for path in default["files"].values())  # this tree's code ran


def test_a_declarations_file_newer_than_the_build_makes_the_module_stale(tmp_path, monkeypatch):
    import importlib.machinery

    monkeypatch.setattr(native, "_HERE", tmp_path)
    monkeypatch.setattr(native, "HOT_MODULES", ("mod",))
    source, compiled = tmp_path / "mod.py", tmp_path / f"mod{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    source.write_text("")
    compiled.write_text("")
    os.utime(source, (1000, 1000))
    os.utime(compiled, (2000, 2000))
    assert native.stale_modules() == []
    declarations = tmp_path / "mod.pxd"
    declarations.write_text("")
    os.utime(declarations, (3000, 3000))  # C types edited after the build: the build no longer matches
    assert native.stale_modules() == ["mod"]
