"""Reading what another process wrote, where a notebook could have written it: every field checked once.

Each function returns the checked value or raises ``RecordError`` saying what
was wrong, in words that quote nothing long of the content. The files such
JSON comes in are opened as hostile too (``open_regular``): regular files of a
bounded size only, never through a link.
"""

import contextlib
import math
import os
import stat
from pathlib import Path

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


# where the system has them: O_NOFOLLOW refuses a link in the last place of a path, O_NONBLOCK keeps a named pipe
# from blocking the open (and so the grader), O_CLOEXEC keeps the descriptor out of processes started meanwhile
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20


@contextlib.contextmanager
def open_regular(path, limit):
    """Open the file a notebook left at ``path`` for reading, as a binary file object, if it is a regular file of at
    most ``limit`` bytes; RecordError otherwise (a link, a named pipe, a device, a folder, a larger file).

    It is opened without following a link and without waiting on a pipe:
    a file a notebook swapped for a link to ``/dev/zero`` or for a named pipe
    is refused, not read forever. FileNotFoundError passes through. Open it
    only when no process of the notebook is left (the file can no longer grow
    or change under the reader: the size checked is the size read).
    """
    path = Path(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as error:  # ELOOP: a link where O_NOFOLLOW refuses one
        kind = "a symbolic link" if os.path.islink(path) else f"unreadable ({type(error).__name__})"
        raise RecordError(f"{path.name} is {kind}, not a file the grader reads") from None
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            raise RecordError(f"{path.name} is not a regular file (a pipe, a device or a folder)")
        if mode.st_size > limit:
            raise RecordError(f"{path.name} is {mode.st_size} bytes, more than the {limit} the grader reads")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        yield file


def read_regular(path, limit):
    """Return the content of the regular file at ``path`` (``open_regular``): at most ``limit`` bytes."""
    with open_regular(path, limit) as file:
        content = file.read(limit + 1)
    if len(content) > limit:  # a file that grew after all (a writer the caller did not stop)
        raise RecordError(f"{Path(path).name} grew past {limit} bytes while it was read")
    return content


def copy_regular(path, target, limit):
    """Copy the regular file at ``path`` (``open_regular``, at most ``limit`` bytes) to a new file ``target``."""
    copied = 0
    with open_regular(path, limit) as source, open(target, "xb") as copy:
        try:
            while chunk := source.read(_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise RecordError(f"{Path(path).name} grew past {limit} bytes while it was copied")
                copy.write(chunk)
        except BaseException:
            os.unlink(target)  # no half copy for a reader to take for the file
            raise
