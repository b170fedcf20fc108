"""The answer checks' core: verdicts, reading the notebook's variables, and what counts as untouched."""

import inspect

from imdb_lab.models.evaluation import TARGET

CORRECT = "Correct:"
INCORRECT = "Incorrect:"
NOT_ATTEMPTED = "Not attempted:"
HINT = "Hint:"
TARGET_ACCURACY = TARGET
MISSING = object()


class Verdict:
    """The result of one check: its status (CORRECT, INCORRECT or NOT_ATTEMPTED), message and hint."""

    def __init__(self, status, message, hint=""):
        self.status, self.message, self.hint = status, message, hint

    def __str__(self):
        """Return the verdict as the check prints it: status and message, then the hint on its own line."""
        text = f"{self.status} {self.message}"
        return f"{text}\n{HINT} {self.hint}" if self.hint else text

    def __repr__(self):
        """Return a short debugging form: status and message."""
        return f"Verdict({self.status!r}, {self.message!r})"


def correct(message):
    """Return a "Correct:" verdict."""
    return Verdict(CORRECT, message)


def incorrect(message, hint=""):
    """Return an "Incorrect:" verdict with a hint that points the way."""
    return Verdict(INCORRECT, message, hint)


def not_attempted(message):
    """Return a "Not attempted:" verdict, for a TODO still untouched."""
    return Verdict(NOT_ATTEMPTED, message)


def lookup(given, name, namespace):
    """Return ``given``, or the notebook variable ``name`` when no value was given (``MISSING`` if none)."""
    if given is not MISSING:
        return given
    return namespace.get(name, MISSING)


def caller_namespace():
    """Return the globals of the code that called the public check (the notebook's namespace)."""
    frame = inspect.currentframe().f_back.f_back
    try:
        return dict(frame.f_globals)
    finally:
        del frame


def report(verdict):
    """Print ``verdict``: the checks show their answer instead of raising."""
    print(verdict)


def is_missing(value):
    """Return True for a TODO left untouched: a variable that is missing or None."""
    return value is MISSING or value is None
