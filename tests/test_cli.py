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


@pytest.mark.parametrize("command, low_memory", [("train", False), ("predict", False), ("explain", False),
                                                 ("grade", True)])
def test_only_grade_asks_the_backend_for_low_memory(monkeypatch, command, low_memory):
    """grade's kernels and scorer run under a memory limit; train, predict and explain take TensorFlow's speed."""
    from imdb_lab.commands import explain, grade, predict, train

    asked = []
    monkeypatch.setattr(cli, "choose_backend", lambda **keywords: asked.append(keywords))
    module = {"train": train, "predict": predict, "explain": explain, "grade": grade}[command]
    monkeypatch.setattr(module, "run", lambda args: 0)
    arguments = {"predict": ["--model", "model.keras", "text"], "explain": ["--model", "model.keras", "text"],
                 "grade": ["folder"]}
    assert cli.main([command, *arguments.get(command, [])]) == 0
    assert asked == [{"low_memory": low_memory}]
