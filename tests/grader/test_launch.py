"""Tests of imdb_lab.grader.launch: the two child processes are started by module paths that exist."""

import importlib
import json
import sys
from pathlib import Path

import imdb_lab
from imdb_lab.grader import launch


def test_the_modules_started_by_name_exist_and_have_a_main():
    for name in (launch.RUNNER_MODULE, launch.SCORER_MODULE):
        assert callable(importlib.import_module(name).main), name


def test_the_runner_command_runs_the_runner_module_on_the_config(tmp_path):
    assert launch.runner_command(tmp_path / "config.json") == [sys.executable, "-m", launch.RUNNER_MODULE,
                                                               str(tmp_path / "config.json")]


def test_the_scorer_command_boots_the_scorer_module():
    command = launch.scorer_command(["a", "b"])
    assert f"from {launch.SCORER_MODULE} import main" in command[5] and command[-2:] == ["a", "b"]


def test_scorer_runs_isolated_without_the_current_folder(tmp_path, monkeypatch, prepared_data):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    arguments = ["model.keras", "settings.json", prepared_data.test_path, prepared_data.test_sha256]
    command = launch.scorer_command(arguments)
    assert command[1:5] == ["-I", "-S", "-B", "-c"]
    path = json.loads(command[6])
    assert str(tmp_path) not in path
    assert path[0] == str(Path(imdb_lab.__file__).resolve().parent.parent)  # imdb_lab is importable
    assert command[-1] == prepared_data.test_sha256

