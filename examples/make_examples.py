"""Writes the example tables in this folder (deterministic: fixed seeds). Run: python examples/make_examples.py"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def write(name: str, columns: dict[str, np.ndarray]) -> None:
    header = ",".join(columns)
    data = np.column_stack(list(columns.values()))
    np.savetxt(HERE / name, data, delimiter=",", header=header, comments="", fmt="%.17g")


def main() -> None:
    # Three laws of increasing difficulty; the README's first command fits all three.
    rng = np.random.default_rng(0)
    # Force along an incline: F = 9.81 * m * sin(theta).
    m = rng.uniform(0.5, 5.0, 200)
    theta = rng.uniform(0.0, 1.5, 200)
    write("incline.csv", {"m": m, "theta": theta, "F": 9.81 * m * np.sin(theta)})
    # Ohm's law, the easiest: V = I * R (no constant to fit).
    rng = np.random.default_rng(1)
    current = rng.uniform(0.1, 3.0, 200)
    resistance = rng.uniform(1.0, 100.0, 200)
    write("ohm.csv", {"I": current, "R": resistance, "V": current * resistance})
    # A damped oscillator, the hardest: x = 2.5 * exp(-0.3 * t) * cos(1.7 * t).
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0.0, 10.0, 300))
    write("damped.csv", {"t": t, "x": 2.5 * np.exp(-0.3 * t) * np.cos(1.7 * t)})
    # Units decide (lawfinder fit examples/ohm_units.csv --target V --units "I=A,R=Ohm,V=V"): a current held near
    # 1 A and 1 % noise, so |R| (volts from ohms: dimensionally wrong) fits nearly as well as I * R and is shorter.
    rng = np.random.default_rng(3)
    current = rng.uniform(0.995, 1.005, 300)
    resistance = rng.uniform(10.0, 100.0, 300)
    write("ohm_units.csv", {"I": current, "R": resistance,
                            "V": current * resistance * (1.0 + 0.01 * rng.standard_normal(300))})


if __name__ == "__main__":
    main()
