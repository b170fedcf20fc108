"""The package's error type: every expected mistake is a LabError and also the built-in error a caller expects."""

import pytest

from imdb_lab import errors
from imdb_lab.errors import BackendError, CacheError, CommandError, DownloadError, GradingDataError


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
    from imdb_lab.arguments import valid_int

    with pytest.raises(errors.LabTypeError, match="num_words must be an int"):
        valid_int("num_words", 1.5)
    with pytest.raises(errors.LabValueError, match="num_words must be >= 1, got 0"):
        valid_int("num_words", 0, minimum=1)


@pytest.mark.parametrize("text, expected", [
    ("short", "short"),
    ("first line\nsecond line", "first line"),
    ("\n  \nafter blank lines  \nmore", "after blank lines"),
    ("", ""),
    ("x" * 200, "x" * 117 + "..."),
])
def test_first_line_keeps_the_first_line_shortened(text, expected):
    assert errors.first_line(text) == expected
    assert errors.first_line(ValueError(text)) == expected


def test_first_line_without_a_limit_keeps_the_whole_line():
    assert errors.first_line("x" * 200 + "\nmore", limit=None) == "x" * 200


def test_describe_names_the_error_and_its_first_line():
    assert errors.describe(errors.LabValueError("bad value\nmore")) == "ValueError: bad value"
    assert errors.describe(KeyError()) == "KeyError"


def test_every_error_type_of_the_package_is_defined_in_the_errors_module():
    import ast
    from pathlib import Path

    import imdb_lab

    found = []
    for path in Path(imdb_lab.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or any(
                    getattr(base, "id", "").endswith("Error") for base in node.bases)):
                found.append((path.name, node.name))
    assert {name for _, name in found} >= {"LabError", "GradingDataError", "CommandError"}  # the walk saw them
    assert all(module == "errors.py" for module, _ in found), found


def test_printable_makes_every_control_character_a_space():
    from imdb_lab.errors import printable

    assert printable("a\tb\nc\r\x1b[2Kd\x7f\x9be\u00e9") == "a b c  [2Kd  e\u00e9"
