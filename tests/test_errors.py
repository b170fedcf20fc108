"""The package's error type: every expected mistake is a LabError and also the built-in error a caller expects."""

import pytest

from imdb_lab import errors
from imdb_lab.backend import BackendError
from imdb_lab.cache import CacheError
from imdb_lab.commands import CommandError
from imdb_lab.grading_data import GradingDataError
from imdb_lab.sources import DownloadError


@pytest.mark.parametrize("kind, builtin", [
    (errors.LabValueError, ValueError), (errors.LabTypeError, TypeError),
    (errors.LabFileNotFoundError, FileNotFoundError), (BackendError, ValueError), (CacheError, OSError),
    (DownloadError, ConnectionError), (GradingDataError, RuntimeError), (CommandError, Exception),
])
def test_each_expected_mistake_is_a_lab_error_and_its_builtin_kind(kind, builtin):
    assert issubclass(kind, errors.LabError) and issubclass(kind, builtin)


def test_error_name_shows_the_builtin_kind_of_a_lab_error():
    assert errors.error_name(errors.LabValueError("x")) == "ValueError"
    assert errors.error_name(errors.LabTypeError("x")) == "TypeError"
    assert errors.error_name(CacheError("/tmp", "read-only")) == "OSError"
    assert errors.error_name(KeyError("x")) == "KeyError"  # anything else keeps its own name


def test_argument_checks_raise_lab_errors():
    from imdb_lab.arguments import check_int

    with pytest.raises(errors.LabTypeError, match="num_words must be an int"):
        check_int("num_words", 1.5)
    with pytest.raises(errors.LabValueError, match="num_words must be >= 1, got 0"):
        check_int("num_words", 0, minimum=1)
