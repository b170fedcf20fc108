"""Argument checks shared by the package, with messages that say what to pass instead."""

import math
import numbers

from imdb_lab.errors import LabTypeError, LabValueError


def is_whole(value):
    """Return whether ``value`` is a whole number: an int or a NumPy integer, and not a bool (``True == 1``)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value):
    """Return whether ``value`` is a real number (an int, a float or a NumPy one), and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def valid_int(name, value, minimum=None, hint=""):
    """Return ``value`` as an int; raise TypeError unless it is an int (not a bool), ValueError below ``minimum``."""
    if not is_whole(value):
        extra = f" {hint}" if hint else ""
        raise LabTypeError(f"{name} must be an int{extra}, not {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise LabValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def valid_number(name, value, *, low=None, high=None, include_low=True, include_high=True, hint=""):
    """Return ``value`` as a float; raise TypeError unless it is a real number (not a bool), ValueError outside range.

    The range is ``low`` to ``high`` (either may be None), each end included
    unless ``include_low`` / ``include_high`` is False; NaN and infinities are
    never in it.

    Args:
        name: how the message names the value.
        value: the value to check.
        low, high: the ends of the range (None: open on that side).
        include_low, include_high: whether each end is in the range.
        hint: what the value is, for the TypeError's message.
    """
    if not is_real(value):
        extra = f" {hint}" if hint else ""
        raise LabTypeError(f"{name} must be a number{extra}, not {value!r} ({type(value).__name__})")
    value = float(value)
    too_low = low is not None and (value < low or (value == low and not include_low))
    too_high = high is not None and (value > high or (value == high and not include_high))
    if not math.isfinite(value):
        raise LabValueError(f"{name} must be a finite number, got {value}")
    if too_low or too_high:
        left = "" if low is None else f"{'>=' if include_low else '>'} {low:g}"
        right = "" if high is None else f"{'<=' if include_high else '<'} {high:g}"
        wanted = " and ".join(part for part in (left, right) if part) or "a number"
        raise LabValueError(f"{name} must be {wanted}, got {value:g}")
    return value
