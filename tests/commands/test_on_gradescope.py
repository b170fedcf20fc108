"""Tests of imdb_lab.commands.on_gradescope: what setup.sh and run_autograder call on Gradescope (the whole zip runs
in Gradescope's layout in tests/commands/test_cli_autograder.py)."""

import json

import pytest

from imdb_lab.commands import on_gradescope
from imdb_lab.commands.on_gradescope import AutograderSettings


def layout(tmp_path, settings):
    """Gradescope's folder with the zip's settings unpacked; return its root."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "settings.json").write_text(json.dumps(settings.to_json()))
    return tmp_path


@pytest.mark.parametrize("data", [None, "aclImdb_v1.tar.gz"])
def test_setup_prepares_the_data_shipped_or_downloads_it_with_its_word_index(tmp_path, monkeypatch, data):
    root = layout(tmp_path, AutograderSettings(data=data))
    calls = []
    monkeypatch.delenv("IMDB_LAB_DATA", raising=False)
    monkeypatch.setattr(on_gradescope.cli, "main", lambda argv: calls.append((argv, on_gradescope.os.environ.get(
        "IMDB_LAB_DATA"))) or 0)
    monkeypatch.setattr(on_gradescope, "get_word_index", lambda: calls.append("word index"))
    monkeypatch.setenv("AUTOGRADER", str(root))
    assert on_gradescope.main(["setup"]) == 0
    shipped = str(root / "source" / "data" / data) if data else None
    assert calls == [(["prepare"], shipped)] + ([] if data else ["word index"])


def test_the_lab_notebook_is_graded_first_and_checkpoints_never(tmp_path):
    for name in ("a/notes.ipynb", "b/IMDB_in_Keras.ipynb", ".ipynb_checkpoints/IMDB_in_Keras.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert on_gradescope.chosen_notebook(tmp_path) == tmp_path / "b" / "IMDB_in_Keras.ipynb"
    (tmp_path / "b" / "IMDB_in_Keras.ipynb").unlink()
    assert on_gradescope.chosen_notebook(tmp_path) == tmp_path / "a" / "notes.ipynb"
    (tmp_path / "a" / "notes.ipynb").unlink()
    assert on_gradescope.chosen_notebook(tmp_path) is None


def test_run_grades_the_chosen_notebook_with_the_zips_options(tmp_path, monkeypatch):
    root = layout(tmp_path, AutograderSettings(("--timeout", "300"), "data.tar.gz", rubric=True))
    (root / "submission").mkdir()
    (root / "submission" / "IMDB_in_Keras.ipynb").write_text("{}")
    seen = {}

    def fake_run(command, env, check):
        seen.update(command=command, env=env)
        return on_gradescope.subprocess.CompletedProcess(command, 1)  # graded, below the target

    monkeypatch.setattr(on_gradescope.subprocess, "run", fake_run)
    assert on_gradescope.run(root) == 0
    assert seen["command"][1:] == ["grade", str(root / "submission" / "IMDB_in_Keras.ipynb"), "--gradescope",
                                   str(root / "results"), "--jobs", "1", "--timeout", "300", "--rubric",
                                   str(root / "source" / "rubric.toml")]
    assert seen["env"]["IMDB_LAB_DATA"] == str(root / "source" / "data" / "data.tar.gz")
    assert seen["env"]["IMDB_LAB_STATE"] == str(root / "state")


def test_run_without_a_notebook_writes_a_result_that_says_so(tmp_path, monkeypatch):
    root = layout(tmp_path, AutograderSettings())
    (root / "submission").mkdir()
    monkeypatch.setenv("AUTOGRADER", str(root))
    assert on_gradescope.main(["run"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and results["output"] == on_gradescope.NO_NOTEBOOK


@pytest.mark.parametrize("content", ["not json", "[]", '{"options": "--timeout 3"}',
                                     '{"options": [1], "data": null, "rubric": false, "lab_notebook": "x"}'])
def test_a_damaged_settings_file_says_to_write_the_zip_again(tmp_path, content):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "settings.json").write_text(content)
    with pytest.raises(ValueError, match="write the zip again"):
        AutograderSettings.read(tmp_path)


def test_main_says_how_to_call_it(capsys):
    assert on_gradescope.main(["grade"]) == 2
    assert "usage: python -m imdb_lab.commands.on_gradescope {setup,run}" in capsys.readouterr().err
