"""Tests of imdb_lab.commands.options: the sub-commands' argument types, on the package's own rules."""

import argparse

import pytest

from imdb_lab.commands import options


@pytest.mark.parametrize("parse, text, value", [
    (options.positive_int, "3", 3), (options.positive_int, " 12 ", 12),
    (options.non_negative_int, "0", 0),
    (options.positive_seconds, "1.5", 1.5), (options.accuracy_target, "0.85", 0.85),
    (options.accuracy_target, "1", 1.0), (options.memory_size, "1500M", 1500 * 2**20),
    (options.memory_size, "2.5G", int(2.5 * 2**30)), (options.memory_size, "4GiB", 4 * 2**30),
])
def test_good_values_parse(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize("parse, text, message", [
    (options.positive_int, "0", "must be a positive whole number, got '0'"),
    (options.positive_int, "1.5", "must be a positive whole number"),
    (options.positive_int, "many", "must be a positive whole number"),
    (options.non_negative_int, "-1", "must be a non-negative whole number, got '-1'"),
    (options.positive_seconds, "soon", "not a number of seconds: 'soon'"),
    (options.positive_seconds, "0", "must be a positive number of seconds"),
    (options.positive_seconds, "inf", "must be a positive number of seconds"),
    (options.positive_seconds, "nan", "must be a positive number of seconds"),
    (options.accuracy_target, "85", "must be an accuracy between 0 and 1"),
    (options.accuracy_target, "high", "not a number: 'high'"),
    (options.memory_size, "lots", "not a memory size"),
    (options.memory_size, "10M", "at least 64M"),
])
def test_bad_values_say_what_to_give(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)
