"""The command line's error handling: an expected mistake is one line and exit 2, a bug shows its traceback."""

import pytest

from imdb_lab import cli
from imdb_lab.errors import CommandError
from imdb_lab.errors import LabValueError


def run_failing(monkeypatch, capsys, error):
    """Run ``imdb-lab make-student`` with its run() raising ``error``; return (exit code, stderr)."""
    from imdb_lab.commands import make_student

    def fail(args):
        raise error

    monkeypatch.setattr(make_student, "run", fail)
    code = cli.main(["make-student"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("error", [CommandError("no such notebook: x.ipynb\nsecond line"),
                                   LabValueError("no such notebook: x.ipynb\nsecond line")])
def test_an_expected_mistake_is_one_line_and_exit_2(monkeypatch, capsys, error):
    code, err = run_failing(monkeypatch, capsys, error)
    assert code == 2 and err == "imdb-lab make-student: error: no such notebook: x.ipynb\n"


def test_a_refused_file_is_one_line_and_exit_2(monkeypatch, capsys):
    code, err = run_failing(monkeypatch, capsys, PermissionError(13, "Permission denied", "/root/out.keras"))
    assert code == 2 and "Permission denied: '/root/out.keras'" in err


@pytest.mark.parametrize("error", [ValueError("a bug inside the package"), TypeError("a bug"),
                                   OSError("no file involved")])
def test_a_bug_is_not_reported_as_bad_input(monkeypatch, capsys, error):
    with pytest.raises(type(error), match="bug|no file"):
        run_failing(monkeypatch, capsys, error)
