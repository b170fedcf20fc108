"""Every error type of the package, and how an error is shown in one line.

An expected mistake (bad arguments, data or files) raises a ``LabError``, which
the CLI reports in one line. Each is also the built-in exception a Python caller
expects (``ValueError``, ``TypeError``, ...), so ``except ValueError`` keeps
working; the CLI catches ``LabError`` alone, so that a bug anywhere else shows
its traceback.
"""

# the longest message a one-line report (a grade row, a CLI error) shows
MESSAGE_CHARS = 120


class LabError(Exception):
    """A mistake in the user's input, data or files; the message says what to do instead."""


class LabValueError(LabError, ValueError):
    """An argument or data value the lab cannot use."""


class LabTypeError(LabError, TypeError):
    """An argument of a type the lab cannot use."""


class LabFileNotFoundError(LabError, FileNotFoundError):
    """A file or folder the user named (or an environment variable points to) does not exist."""


class BackendError(LabValueError):
    """No usable Keras backend: the message says which are installed and how to pick one."""


class CacheError(LabError, OSError):
    """The data cache cannot be written (a read-only or full folder): the message says which folder and what to do."""

    def __init__(self, folder, reason):
        super().__init__(f"cannot write the IMDB data cache in {folder} ({reason}): "
                         "set IMDB_LAB_CACHE to a writable folder with ~100 MB free")
        self.folder = str(folder)


class LabMemoryError(LabError, MemoryError):
    """An array the lab was asked for cannot fit the memory left: the message gives its size and what to do instead."""


class DownloadError(LabError, ConnectionError):
    """Keras could not download the IMDB data; the message says how to work offline."""


class GradingDataError(LabError, RuntimeError):
    """The grader's own data or code changed under it: grading stops, since later scores could not be trusted.

    ``results`` holds the rows graded before it stopped (None where a notebook
    was not graded), or is None when it stopped before any notebook ran.
    """

    def __init__(self, message, results=None):
        super().__init__(message)
        self.results = results


class SandboxError(LabError, RuntimeError):
    """A sandbox was required (``--require-sandbox``) and this machine cannot give one; the message says why."""


class RecordError(LabValueError):
    """A record that crossed a process boundary of the grader (a file or line a child process wrote) is not one the
    writer could have written: damaged, forged by a notebook, or from another version of the lab."""


class WrongKeyError(LabValueError):
    """A rows file of ``imdb-lab grade`` signed with another grader's key (another user, machine or
    ``IMDB_LAB_STATE``): the message names both keys and where this grader's is."""


class CommandError(LabError):
    """A problem with the user's input to the ``imdb-lab`` command, reported in one line (exit code 2)."""


def error_name(error):
    """Return the name to show for ``error``: a ``LabError``'s built-in kind (``ValueError``), else its class name."""
    if isinstance(error, LabError):
        for base in type(error).__mro__:
            if base.__module__ == "builtins" and base not in (Exception, BaseException, object):
                return base.__name__
    return type(error).__name__


# control characters: C0 (ESC starts a terminal's escape sequences), DEL and C1; a text a notebook could write keeps
# none of them where a terminal or a one-line format shows it
_CONTROLS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)], " ")


def printable(text):
    """Return ``text`` with every control character (C0, DEL, C1: escape sequences, carriage returns, newlines)
    made a space: one line that a terminal shows as it is."""
    return str(text).translate(_CONTROLS)


def first_line(text, limit=MESSAGE_CHARS):
    """Return the first non-blank line of ``text`` (an error or a string), cut to ``limit`` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if limit is None or len(line) <= limit else line[:limit - 3] + "..."


def describe(error, limit=MESSAGE_CHARS):
    """Return ``error`` in one line: ``Name: first line of its message`` (the name alone when it has none)."""
    message = first_line(error, limit)
    return f"{error_name(error)}: {message}" if message else error_name(error)
