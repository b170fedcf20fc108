"""Tests of imdb_lab/arguments.py: the one int check and the one number check, with messages that say what to pass."""

import math

import numpy as np
import pytest

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.errors import LabTypeError, LabValueError


@pytest.mark.parametrize("value, expected", [(3, 3), (np.int64(7), 7), (0, 0)])
def test_check_int_accepts_ints_and_returns_a_python_int(value, expected):
    result = valid_int("n", value, minimum=0)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value, error, message", [
    (True, LabTypeError, r"n must be an int or None, not True \(bool\)"),
    (2.0, LabTypeError, r"n must be an int or None, not 2.0 \(float\)"),
    ("3", LabTypeError, r"n must be an int or None, not '3' \(str\)"),
    (-1, LabValueError, "n must be >= 0, got -1"),
])
def test_check_int_names_the_mistake(value, error, message):
    with pytest.raises(error, match=message):
        valid_int("n", value, minimum=0, hint="or None")


@pytest.mark.parametrize("value, kwargs, expected", [
    (0.5, {"low": 0, "high": 1}, 0.5), (0, {"low": 0}, 0.0), (1, {"high": 1}, 1.0), (np.float32(0.25), {}, 0.25),
])
def test_check_number_accepts_numbers_in_range(value, kwargs, expected):
    result = valid_number("x", value, **kwargs)
    assert result == expected and type(result) is float


@pytest.mark.parametrize("value, kwargs, error, message", [
    (False, {}, LabTypeError, r"x must be a number, not False \(bool\)"),
    ("0.5", {"hint": "(a fraction)"}, LabTypeError, r"x must be a number \(a fraction\), not '0.5' \(str\)"),
    (None, {}, LabTypeError, r"x must be a number, not None \(NoneType\)"),
    (math.nan, {}, LabValueError, "x must be a finite number, got nan"),
    (math.inf, {"low": 0}, LabValueError, "x must be a finite number, got inf"),
    (0, {"low": 0, "include_low": False}, LabValueError, "x must be > 0, got 0"),
    (1, {"low": 0, "high": 1, "include_high": False}, LabValueError, "x must be >= 0 and < 1, got 1"),
    (-0.5, {"low": 0, "high": 1}, LabValueError, "x must be >= 0 and <= 1, got -0.5"),
    (2, {"high": 1}, LabValueError, "x must be <= 1, got 2"),
])
def test_check_number_names_the_mistake(value, kwargs, error, message):
    with pytest.raises(error, match=message):
        valid_number("x", value, **kwargs)
