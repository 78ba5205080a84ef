"""lawfinder: neural symbolic regression that scales."""

__version__ = "0.1.0"

__all__ = ["Regressor", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `import lawfinder` (and the CLI's --help) does not pull in numpy, SciPy and SymPy.
    if name == "Regressor":
        from .inference import Regressor

        return Regressor
    raise AttributeError(f"module 'lawfinder' has no attribute {name!r}")
