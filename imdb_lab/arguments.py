"""Argument checks shared by the package, with messages that say what to pass instead."""

import numbers

from imdb_lab.errors import LabTypeError, LabValueError


def check_int(name, value, minimum=None, hint=""):
    """Return ``value`` as an int; raise TypeError unless it is an int (not a bool), ValueError below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        extra = f" {hint}" if hint else ""
        raise LabTypeError(f"{name} must be an int{extra}, not {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise LabValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)

