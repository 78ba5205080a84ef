"""The README's first command: fit the three example tables with the model shipped in the package, on a local Ray
(constant fits run on the Ray FitterPool), and print the law found for each next to the law that made the data."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
# (file, target column, the law that generated it) in order of difficulty
TABLES = [
    ("ohm.csv", "V", "V = I*R"),
    ("incline.csv", "F", "F = 9.81*m*sin(theta)"),
    ("damped.csv", "x", "x = 2.5*exp(-0.3*t)*cos(1.7*t)"),
]


def main() -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from lawfinder import Regressor
    from lawfinder.ray_connect import connect
    from lawfinder.tables import read_table

    connect(num_cpus=os.cpu_count() or 2, log_to_driver=False)
    try:
        for name, target, truth in TABLES:
            table = read_table(HERE / name, target=target)
            start = time.perf_counter()
            model = Regressor(n_samples=8192, random_state=0).fit(table.X, table.y, feature_names=table.feature_names)
            best = model.best_
            print(f"{name:12s} truth  {truth}")
            print(f"{'':12s} found  {target} = {best.expression}   (FVU {best.fvu:.2e}, "
                  f"{len(model.candidates_)} candidates, {time.perf_counter() - start:.1f} s)")
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
