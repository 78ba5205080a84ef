"""lawfinder: neural symbolic regression that scales."""

__version__ = "0.1.0"
