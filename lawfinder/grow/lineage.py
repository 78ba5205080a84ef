"""The growing model's committed state: ``growing/trunk.pt`` and its readable mirror ``growing/history.json``.

``trunk.pt`` is a ``save_model`` file (bf16 weights, ~2.9 MB, so each run adds little to git history) whose metadata
holds the lineage: the recipe, the trunk's step and sample counts, its FLOPs and device time, and one record per run
(with the gate's verdict once it ran). It is the only source of truth; ``history.json`` is rewritten from it after
every save for people and diffs. Both are written atomically (temporary file, then rename), trunk first, so a run
killed at any moment leaves a trunk that the next run continues: at worst the steps since its last save are lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from .recipe import Recipe

TRUNK = "trunk.pt"
HISTORY = "history.json"


@dataclass
class Lineage:
    recipe: Recipe
    trunk_steps: int = 0
    samples: int = 0
    flops: float = 0.0
    device_seconds: float = 0.0
    origin: str = ""                     # how the lineage began (fresh, or warm-started from which file)
    runs: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"recipe": self.recipe.to_dict(), "trunk_steps": self.trunk_steps, "samples": self.samples,
                "flops": self.flops, "device_seconds": self.device_seconds, "origin": self.origin,
                "runs": self.runs}

    @classmethod
    def from_dict(cls, data: dict) -> "Lineage":
        try:
            return cls(Recipe.from_dict(data["recipe"]), int(data["trunk_steps"]), int(data["samples"]),
                       float(data["flops"]), float(data["device_seconds"]), str(data.get("origin", "")),
                       list(data.get("runs", [])))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"the trunk's lineage record is damaged ({type(error).__name__}: {error})") from None


def trunk_path(state_dir: str | Path) -> Path:
    return Path(state_dir) / TRUNK


def read_lineage(state_dir: str | Path) -> Lineage | None:
    """The lineage stored with the trunk in ``state_dir`` (None when there is no trunk yet)."""
    from ..model.checkpoint import read_metadata

    path = trunk_path(state_dir)
    if not path.is_file():
        return None
    extra = read_metadata(path).get("extra", {})
    if "lineage" not in extra:
        raise ValueError(f"{str(path)!r} is a model file without a growing lineage; move it away or pass another "
                         f"--state")
    return Lineage.from_dict(extra["lineage"])


def load_trunk(state_dir: str | Path):
    """-> (model in train mode, lineage) from ``state_dir``."""
    from ..model.checkpoint import load_model

    lineage = read_lineage(state_dir)
    if lineage is None:
        raise ValueError(f"{str(state_dir)!r} holds no {TRUNK}")
    model, _ = load_model(trunk_path(state_dir))
    return model.train(), lineage


def save_trunk(state_dir: str | Path, model, lineage: Lineage) -> Path:
    """Write the trunk (bf16) with its lineage, then the readable history; both atomically."""
    import torch

    from ..model.checkpoint import save_model

    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = trunk_path(state_dir)
    save_model(path, model, dtype=torch.bfloat16, lineage=lineage.to_dict())
    write_text(state_dir / HISTORY, json.dumps(lineage.to_dict(), indent=1) + "\n")
    return path
