"""Reading CSV tables: the happy path and errors that name the offending column or row."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder.tables import read_table


def _write(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_reads_features_and_target(tmp_path):
    table = read_table(_write(tmp_path, "a,b,y\n1,2,3\n4,5,9\n"), target="y")
    assert table.feature_names == ["a", "b"] and table.target_name == "y"
    np.testing.assert_array_equal(table.X, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(table.y, [3, 9])


def test_nan_is_reported_with_column_and_row(tmp_path):
    with pytest.raises(ValueError, match=r"'b'.*row"):
        read_table(_write(tmp_path, "a,b,y\n1,2,3\n4,,9\n"), target="y")


def test_nan_rows_can_be_dropped(tmp_path):
    table = read_table(_write(tmp_path, "a,b,y\n1,2,3\n4,,9\n7,8,15\n"), target="y", drop_nan=True)
    assert table.X.shape == (2, 2)


def test_missing_target_and_text_columns_are_named(tmp_path):
    with pytest.raises(ValueError, match="'z'"):
        read_table(_write(tmp_path, "a,y\n1,2\n3,4\n"), target="z")
    with pytest.raises(ValueError, match="'a'"):
        read_table(_write(tmp_path, "a,y\nfoo,2\nbar,4\n"), target="y")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(tmp_path / "nope.csv", target="y")
