"""The argument types of the ``imdb-lab`` sub-commands: the package's own rules, said in argparse's words."""

import argparse
import re

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.errors import LabError

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
MIN_MEMORY = 64 * 2**20


def _int_at_least(text, minimum, what):
    """Return ``text`` as an int >= ``minimum`` (``arguments.valid_int``'s rule), or raise ArgumentTypeError."""
    try:
        return valid_int(what, int(text.strip()), minimum=minimum)
    except (ValueError, LabError):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def positive_int(text):
    """Parse a whole number >= 1."""
    return _int_at_least(text, 1, "a positive whole number")


def non_negative_int(text):
    """Parse a whole number >= 0."""
    return _int_at_least(text, 0, "a non-negative whole number")


def _number(text, what):
    """Return ``text`` as a float, or raise ArgumentTypeError naming ``what`` it should be."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def positive_seconds(text):
    """Parse a positive, finite number of seconds."""
    try:
        return valid_number("seconds", _number(text, "a number of seconds"), low=0, include_low=False)
    except LabError:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}") from None


def accuracy_target(text):
    """Parse an accuracy between 0 and 1."""
    try:
        return valid_number("accuracy", _number(text, "a number"), low=0, high=1)
    except LabError:
        raise argparse.ArgumentTypeError(f"must be an accuracy between 0 and 1, got {text!r}") from None


def shard_spec(text):
    """Parse ``K/N``: share K (from 1) of N, e.g. ``3/8``."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"must be K/N with 1 <= K <= N, e.g. 3/8, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def memory_size(text):
    """Parse a memory size such as ``4G``, ``1500M`` or ``2.5G`` (binary units) into bytes, at least 64M."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (write e.g. 4G or 1500M)")
    value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value < MIN_MEMORY:
        raise argparse.ArgumentTypeError(f"must be at least 64M, got {text!r}")
    return value
