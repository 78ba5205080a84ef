"""Build hook beside pyproject.toml: compiles the simplifier's hot modules, the generator's per-sample modules and
its data loops with Cython when it can.

The compiled build is optional. Without Cython or a C compiler the install still succeeds and the same ``.py`` files
run (lawfinder/native.py decides at import). Cython compiles the same Python sources, typed by the ``.pxd``
files beside some of them, so both builds give the same outputs; compiled, the simplifier runs about 2x faster.
"""

import ast
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def hot_modules() -> list[str]:
    """The source files of ``lawfinder.native``'s SIMPLIFIER_MODULES and GENERATOR_MODULES (read from the file:
    importing lawfinder would need its dependencies, which the build environment does not have)."""
    native = Path(__file__).parent / "lawfinder" / "native.py"
    folders = {"SIMPLIFIER_MODULES": "lawfinder/simplipy", "GENERATOR_MODULES": "lawfinder/generate"}
    out = []
    for node in ast.parse(native.read_text()).body:
        name = getattr(node.targets[0], "id", "") if isinstance(node, ast.Assign) else ""
        if name in folders:
            folder = folders.pop(name)
            out += [f"{folder}/{module.replace('.', '/')}.py" for module in ast.literal_eval(node.value)]
    if folders:
        raise RuntimeError(f"{native} defines no {' or '.join(folders)}")
    return out


class OptionalBuildExt(build_ext):
    """A failed compile is a warning, not a failed install: the Python sources are the fallback."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - any compiler failure means "use the sources"
            self.warn(f"the compiled simplifier was not built ({error}); the Python sources will run")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001
            self.warn(f"{ext.name} was not compiled ({error}); its Python source will run")


def extensions() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    # The generator's data loops: -ffp-contract=off keeps a*b + c two roundings, as numpy computes it, so the
    # compiled and numpy versions agree bit for bit (data_kernels.py).
    kernels = Extension("lawfinder.generate._data_kernels", ["lawfinder/generate/_data_kernels.pyx"],
                        extra_compile_args=["-ffp-contract=off"])
    # annotation_typing off: the engine passes tuple subclasses (Distinct) where annotations say tuple.
    return cythonize(hot_modules() + [kernels], build_dir="build/cython", quiet=True,
                     compiler_directives={"language_level": 3, "annotation_typing": False, "binding": False})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
