"""Reading JSON that another process wrote, where a notebook could have written it: every field checked once.

Each function returns the checked value or raises ``RecordError`` saying what
was wrong, in words that quote nothing long of the content.
"""

import math

from imdb_lab.arguments import is_real, is_whole
from imdb_lab.errors import RecordError

# the longest text a record keeps of a field (a message, a name)
MAX_TEXT = 300


def json_object(content, what, required, optional=()):
    """Return ``content`` after checking that it is a JSON object with the ``required`` keys and no key but those
    and ``optional``; RecordError naming ``what`` otherwise."""
    if not isinstance(content, dict):
        raise RecordError(f"a {what} must be a JSON object, not {type(content).__name__}")
    missing = [name for name in required if name not in content]
    unknown = sorted(str(name) for name in set(content) - set(required) - set(optional))
    if missing or unknown:
        found = f"has no {missing[0]!r}" if missing else f"has an unknown field {unknown[0][:40]!r}"
        raise RecordError(f"a {what} {found}")
    return content


def text(value, what, *, optional=False, limit=MAX_TEXT):
    """Return ``value``, text, cut to ``limit`` characters (None too when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what} must be text")
    return value[:limit]


def whole(value, what, low=0, high=2**31 - 1):
    """Return ``value``, a whole number from ``low`` to ``high`` (not a bool), as an int."""
    if not is_whole(value) or not low <= value <= high:
        raise RecordError(f"{what} must be a whole number from {low} to {high}")
    return int(value)


def real(value, what, low=-math.inf, high=math.inf, *, nan=False):
    """Return ``value``, a number from ``low`` to ``high`` (NaN too when ``nan``; not a bool), as a float.

    Args:
        value: the field's value.
        what: how the message names it.
        low, high: the range, ends included.
        nan: whether NaN is allowed (a logged loss can be NaN).
    """
    if not is_real(value) or not (low <= value <= high or (nan and math.isnan(value))):
        raise RecordError(f"{what} must be a number from {low:g} to {high:g}")
    return float(value)


def json_list(value, what, limit):
    """Return ``value``, a list of at most ``limit`` items (each still to be checked)."""
    if not isinstance(value, list) or len(value) > limit:
        raise RecordError(f"{what} must be a list of at most {limit}")
    return value
