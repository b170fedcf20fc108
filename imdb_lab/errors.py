"""The package's error type for expected mistakes (bad arguments, data or files), which the CLI reports in one line.

Each is also the built-in exception a Python caller expects (``ValueError``,
``TypeError``, ...), so ``except ValueError`` keeps working; the CLI catches
``LabError`` alone, so that a bug anywhere else shows its traceback.
"""


class LabError(Exception):
    """A mistake in the user's input, data or files; the message says what to do instead."""


class LabValueError(LabError, ValueError):
    """An argument or data value the lab cannot use."""


class LabTypeError(LabError, TypeError):
    """An argument of a type the lab cannot use."""


class LabFileNotFoundError(LabError, FileNotFoundError):
    """A file or folder the user named (or an environment variable points to) does not exist."""


def error_name(error):
    """Return the name to show for ``error``: a ``LabError``'s built-in kind (``ValueError``), else its class name."""
    if isinstance(error, LabError):
        for base in type(error).__mro__:
            if base.__module__ == "builtins" and base not in (Exception, BaseException, object):
                return base.__name__
    return type(error).__name__
