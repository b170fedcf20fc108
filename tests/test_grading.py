"""Tests of imdb_lab.grading without kernels: the grader's data, private folders and environment, the table."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from imdb_lab import grading, scoring


@pytest.fixture
def grading_data(tiny_archive, monkeypatch, tmp_path):
    """The grader's data for the tiny archive, prepared in a folder of its own."""
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    (tmp_path / "grader").mkdir()
    return grading.prepare_grading_data(tmp_path / "grader")


def test_prepared_test_reviews_are_load_datas_with_every_word(grading_data):
    from imdb_lab import load_data

    test = scoring.read_test_data(grading_data.test_path, grading_data.test_sha256)
    _, (x_test, y_test) = load_data(num_words=10**6)
    assert [list(review) for review in test.sequences()] == [list(review) for review in x_test]
    assert list(test.labels) == list(y_test)


def test_prepared_data_ignores_a_poisoned_shared_cache(tiny_archive, monkeypatch, tmp_path):
    from imdb_lab import archive, cache, data

    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    kind, dataset = archive.find_dataset(tiny_archive)
    encoded, _ = data._encoded(tiny_archive)
    encoded.labels["test"] = np.ones_like(encoded.labels["test"])
    cache.save(cache.cache_path(dataset), encoded, data.cache_key(kind, dataset))  # with a checksum that matches
    assert (data.load_flat()[1].labels == 1).all()
    (tmp_path / "grader").mkdir()
    prepared = grading.prepare_grading_data(tmp_path / "grader")
    test = scoring.read_test_data(prepared.test_path, prepared.test_sha256)
    assert 0 < test.labels.mean() < 1


def test_each_kernel_gets_a_verified_private_copy_of_the_data(grading_data, tmp_path, monkeypatch):
    monkeypatch.setenv("IMDB_LAB_CACHE", "/somewhere/shared")
    monkeypatch.setenv("IMDB_LAB_SECRET", "x")
    env = grading._environment(tmp_path / "scratch", grading_data)
    assert not any(name.startswith("IMDB_LAB_") and name not in ("IMDB_LAB_DATA", "IMDB_LAB_CACHE") for name in env)
    assert env["IMDB_LAB_CACHE"] == str(tmp_path / "scratch" / "cache")
    for name in ("KERAS_HOME", "TMPDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR"):
        assert Path(env[name]).is_dir() and Path(env[name]).parent == tmp_path / "scratch"
    copy = tmp_path / "scratch" / "cache" / grading_data.kernel_file.name
    assert copy.read_bytes() == grading_data.kernel_file.read_bytes()
    # the grader's own copy altered: no kernel gets it
    with open(grading_data.kernel_file, "r+b") as file:
        file.seek(100)
        file.write(b"\0\1\2")
    with pytest.raises(grading.GradingDataError, match="changed during grading"):
        grading._environment(tmp_path / "other", grading_data)


def test_private_folder_copies_the_notebooks_folder_without_classmates(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice.ipynb", "bob.ipynb", "notes.ipynb"):
        (folder / name).write_text(name)
    (folder / "data").mkdir()
    (folder / "data" / "words.txt").write_text("words")
    notebook = grading._private_folder(folder / "alice.ipynb", tmp_path / "scratch",
                                       [folder / "alice.ipynb", folder / "bob.ipynb"])
    assert notebook == tmp_path / "scratch" / "work" / "alice.ipynb"
    names = sorted(str(p.relative_to(notebook.parent)) for p in notebook.parent.rglob("*"))
    assert names == ["alice.ipynb", "data", "data/words.txt", "notes.ipynb"]


def test_scorer_runs_isolated_without_the_current_folder(tmp_path, monkeypatch, grading_data):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    command = grading.scorer_command(tmp_path / "export", grading_data)
    assert command[1:5] == ["-I", "-S", "-B", "-c"]
    path = json.loads(command[6])
    assert str(tmp_path) not in path
    assert path[0] == str(Path(grading.__file__).resolve().parent.parent)  # imdb_lab is importable
    assert command[-1] == grading_data.test_sha256


def test_a_rewritten_shared_cache_is_restored_after_grading(grading_data, tiny_archive):
    from imdb_lab import cache, data

    shared = grading._SharedCache(grading_data)
    assert shared.path == cache.cache_path(grading_data.source)
    assert not shared.restore()  # unchanged: left alone
    shared.path.parent.mkdir(parents=True, exist_ok=True)
    shared.path.write_bytes(b"poisoned")
    with pytest.warns(UserWarning, match="rewrote the data cache"):
        assert shared.restore()
    assert shared.path.read_bytes() == grading_data.kernel_file.read_bytes()
    assert 0 < data.load_flat()[1].labels.mean() < 1


@pytest.mark.parametrize("limits, message", [
    ({"timeout": 0}, "timeout must be a positive number of seconds"),
    ({"timeout": float("inf")}, "timeout must be a positive number of seconds"),
    ({"timeout": "10"}, "timeout must be a positive number of seconds"),
    ({"timeout": True}, "timeout must be a positive number of seconds"),
    ({"memory": 1000}, "memory must be a number of bytes"),
    ({"memory": 2.5e9}, "memory must be a number of bytes"),
    ({"target": 85}, "target must be an accuracy between 0 and 1"),
])
def test_grade_notebook_rejects_bad_limits(limits, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        grading.grade_notebook(tmp_path / "x.ipynb", **limits)


def test_grade_notebooks_rejects_bad_jobs(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive int, got 0"):
        grading.grade_notebooks([tmp_path / "x.ipynb"], jobs=0)


def test_grade_notebook_gives_a_row_for_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grading.grade_notebook(path, timeout=10)
    assert result.status.startswith("not a notebook: ")
    assert result.accuracy is None and not result.passed


def test_format_table_has_one_row_per_notebook_and_a_summary():
    results = [
        grading.GradeResult("a.ipynb", "passed", 0.9123456, 12.34),
        grading.GradeResult("b.ipynb", "no model", None, 1.0),
    ]
    lines = grading.format_table(results).splitlines()
    assert lines[0].split() == ["notebook", "status", "accuracy", "seconds"]
    assert lines[1].split() == ["a.ipynb", "passed", "0.9123", "12.3"]
    assert lines[2].split() == ["b.ipynb", "no", "model", "-", "1.0"]
    assert lines[3] == "1 of 2 passed"
    assert results[0].as_dict() == {"notebook": "a.ipynb", "status": "passed", "accuracy": 0.9123456,
                                    "seconds": 12.34}


def test_write_json_atomically_replaces_the_file(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text("old")
    grading.write_json_atomically([{"a": 1}], path)
    assert json.loads(path.read_text()) == [{"a": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]
    assert os.stat(path).st_mode & 0o777 == 0o644
