"""Writes the example tables in this folder (deterministic: fixed seeds). Run: python examples/make_examples.py"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def write(name: str, columns: dict[str, np.ndarray]) -> None:
    header = ",".join(columns)
    data = np.column_stack(list(columns.values()))
    np.savetxt(HERE / name, data, delimiter=",", header=header, comments="", fmt="%.17g")


def main() -> None:
    rng = np.random.default_rng(0)
    # Force along an incline: F = 9.81 * m * sin(theta).
    m = rng.uniform(0.5, 5.0, 200)
    theta = rng.uniform(0.0, 1.5, 200)
    write("incline.csv", {"m": m, "theta": theta, "F": 9.81 * m * np.sin(theta)})


if __name__ == "__main__":
    main()
