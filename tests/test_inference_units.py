"""Units: SI strings to base dimensions, dimensional consistency of candidates, and the ranking they change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lawfinder import Regressor
from lawfinder.inference.units import (consistency, format_dims, parse_units, parse_units_option, unit_levels)
from lawfinder.simplipy import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("text, expected", [
    ("m/s^2", "m/s^2"), ("kg*m^2", "m^2*kg"), ("m s^-2", "m/s^2"), ("N", "m*kg/s^2"), ("J", "m^2*kg/s^2"),
    ("W", "m^2*kg/s^3"), ("V", "m^2*kg/(s^3*A)"), ("Ohm", "m^2*kg/(s^3*A^2)"), ("Hz", "1/s"), ("Pa", "kg/(m*s^2)"),
    ("A", "A"), ("", "1"), ("m^(1/2)", "m^1/2"), ("V/A", "m^2*kg/(s^3*A^2)"),
])
def test_units_parse_to_base_dimensions(text, expected):
    assert format_dims(parse_units(text)) == expected


def test_volt_is_ohm_times_ampere_and_unknown_units_are_named():
    assert parse_units("Ohm*A") == parse_units("V")
    with pytest.raises(ValueError, match="unknown unit 'km'"):
        parse_units("km/s")
    with pytest.raises(ValueError, match="column 'Q'"):
        parse_units_option("Q=A", ["I", "R", "V"])
    assert parse_units_option("V=V, I=A,R=Ohm", ["I", "R", "V"]) == {"V": "V", "I": "A", "R": "Ohm"}


@pytest.mark.parametrize("expression, level", [
    ("x1 * x2", 0), ("C * x1 * x2", 0), ("C * x2", 1), ("C * x1 + C * x2", 1), ("x1 + x2", 2), ("abs(x2)", 2),
    ("C * exp(x1) * x2", 2), ("sin(x1) * x2", 2), ("x1 * x2 * exp(C * x1 / x1)", 0),
])
def test_consistency_levels_for_ohms_law(expression, level):
    assert consistency(parse(expression), [parse_units("A"), parse_units("Ohm")], parse_units("V")) == level


def test_gravity_needs_one_dimensionful_scale_constant():
    x = [parse_units("kg"), parse_units("kg"), parse_units("m")]
    assert consistency(parse("C * x1 * x2 / x3**2"), x, parse_units("N")) == 1
    assert consistency(parse("C * x1 * x2 / x3"), x, parse_units("N")) == 1  # any scale constant can fix one term
    assert consistency(parse("C * x1 * x2 / x3 + x3"), x, parse_units("N")) == 2


def test_unit_levels_checks_one_unit_per_column():
    with pytest.raises(ValueError, match="2 column"):
        unit_levels([parse("x1")], ["A"], "V", 2)


def test_the_right_law_wins_with_units_where_a_wrong_one_fits_nearly_as_well():
    table = np.genfromtxt(EXAMPLES / "ohm_units.csv", delimiter=",", names=True)
    X, y = np.column_stack([table["I"], table["R"]]), table["V"]
    candidates = [parse("abs(x2)"), parse("x1 * x2"), parse("C * x2"), parse("x1 + x2")]
    plain = Regressor(proposer=lambda X, y: candidates, random_state=0).fit(X, y, feature_names=["I", "R"])
    # Shorter, and nearly as good: without units a wrong law wins (``C * R``, its C = 1.00... snapped to 1 because
    # the noisy data cannot tell them apart; ``abs(R)`` fits the same but is one token longer).
    assert plain.best_.expression == "R" and plain.candidates_[1].expression == "abs(R)"
    assert plain.units_ is None
    wrong, right = plain.candidates_[0], next(e for e in plain.candidates_ if e.expression == "I * R")
    assert wrong.fvu < 1.5 * right.fvu
    united = Regressor(proposer=lambda X, y: candidates, random_state=0).fit(
        X, y, feature_names=["I", "R"], X_units=["A", "Ohm"], y_units="V")
    assert united.best_.expression == "I * R"
    assert united.units_ == "y [V] = f(I [A], R [Ohm]): dimensionally consistent (dimensionless constants)"
    assert united.candidates_[-1].expression in ("abs(R)", "I + R")  # inconsistent ones rank last
