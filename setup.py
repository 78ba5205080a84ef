"""Build hook beside pyproject.toml: compiles the simplifier's hot modules with Cython when it can.

The compiled build is optional. Without Cython or a C compiler the install still succeeds and the same ``.py`` files
run (lawfinder/simplipy/native.py decides at import). Cython compiles the unchanged Python sources, so both builds
give the same outputs; compiled, the simplifier runs about 1.8x faster.
"""

from setuptools import setup
from setuptools.command.build_ext import build_ext

HOT_MODULES = ["lawfinder/simplipy/rewrite/terms.py", "lawfinder/simplipy/rewrite/products.py",
               "lawfinder/simplipy/rewrite/signs.py", "lawfinder/simplipy/rewrite/sums.py",
               "lawfinder/simplipy/rewrite/functions.py", "lawfinder/simplipy/rewrite/engine.py",
               "lawfinder/simplipy/rules.py", "lawfinder/simplipy/simplify.py"]


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
    # annotation_typing off: the engine passes tuple subclasses (Distinct) where annotations say tuple.
    return cythonize(HOT_MODULES, build_dir="build/cython", quiet=True,
                     compiler_directives={"language_level": 3, "annotation_typing": False, "binding": False})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
