"""Training-data generation: priors (Flash-ANSR's random skeletons, the scaling-laws exhaustive set), constants,
support points, decontamination against test sets, and the Arrow batch schema. Pure logic; the Ray producer wraps
``Generator``."""

from pathlib import Path

from ..native import GENERATOR_MODULES, Build

BUILD = Build(__name__, Path(__file__).parent, GENERATOR_MODULES, "generator")
BUILD.choose()  # first: decides whether the compiled build or the sources of the hot modules run

from .config import PRESETS, GeneratorConfig, parse_override, preset
from .decontaminate import Decontaminator
from .generator import Generator, GeneratorStats
from .schema import BATCH_SCHEMA, batch_to_arrays, build_batch, read_ipc, write_ipc

__all__ = ["BATCH_SCHEMA", "Decontaminator", "Generator", "GeneratorConfig", "GeneratorStats", "PRESETS",
           "batch_to_arrays", "build_batch", "parse_override", "preset", "read_ipc", "write_ipc"]
