"""The two builds of the hot modules (compiled by setup.py, or the Python sources), the simplifier's and the
generator's, load as chosen and agree."""

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
import lawfinder.generate
import lawfinder.simplipy
from lawfinder import native

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "reference" / "simplipy" / "corpus.jsonl"

_PROBE = """
import hashlib, json, sys
import pyarrow as pa
import lawfinder.simplipy as s
import lawfinder.generate
from lawfinder.generate import Generator, preset
builds = (s.BUILD, lawfinder.generate.BUILD)
files = {f"{b.package}.{m}": sys.modules[f"{b.package}.{m}"].__file__ for b in builds for m in b.modules}
inputs = json.load(sys.stdin)
batch = Generator(preset("flash-ansr", max_points=64), seed=9).sample_batch(100)
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, batch.schema) as w:
    w.write_batch(batch)
print(json.dumps({"implementation": [b.implementation for b in builds], "files": files,
                  "outputs": [s.simplify(t) for t in inputs],
                  "batch": hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()}))
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
    assert pure["implementation"] == ["python", "python"]
    assert all(path.endswith(".py") for path in pure["files"].values()), pure["files"]
    for i, build in enumerate((lawfinder.simplipy.BUILD, lawfinder.generate.BUILD)):
        files = [path for name, path in default["files"].items() if name.startswith(build.package + ".")]
        built = any(build.compiled_path(m) is not None for m in build.modules) and not build.stale_modules()
        if built:
            assert default["implementation"][i] == "compiled"
            assert not any(path.endswith(".py") for path in files), files
        else:
            assert default["implementation"][i] == "python"
    assert pure["outputs"] == default["outputs"]
    assert pure["batch"] == default["batch"]  # the generator's batches, byte for byte
    assert all(Path(path).is_relative_to(ROOT) for path in default["files"].values())  # this tree's code ran


def test_a_declarations_file_newer_than_the_build_makes_the_module_stale(tmp_path):
    import importlib.machinery

    build = native.Build("pkg", tmp_path, ("mod",), "test modules")
    source, compiled = tmp_path / "mod.py", tmp_path / f"mod{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    source.write_text("")
    compiled.write_text("")
    os.utime(source, (1000, 1000))
    os.utime(compiled, (2000, 2000))
    assert build.stale_modules() == []
    declarations = tmp_path / "mod.pxd"
    declarations.write_text("")
    os.utime(declarations, (3000, 3000))  # C types edited after the build: the build no longer matches
    assert build.stale_modules() == ["mod"]
    os.utime(source, (4000, 4000))
    assert build.stale_modules() == ["mod"]


def test_the_compiled_builds_are_there_when_ci_expects_them():
    """CI compiles at install (.ci/run sets LAWFINDER_EXPECT_COMPILED=1): a compiler failure there, which setup.py
    turns into a quiet fallback to the sources for users, must fail the run instead of skipping the compiled tests."""
    if os.environ.get("LAWFINDER_EXPECT_COMPILED") != "1" or native.pure_python_requested():
        return
    import importlib

    assert lawfinder.simplipy.BUILD.implementation == "compiled"
    assert lawfinder.generate.BUILD.implementation == "compiled"
    importlib.import_module("lawfinder.generate._data_kernels")   # ImportError fails the test
