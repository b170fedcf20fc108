"""Tests of imdb_lab.grader.grading without kernels: private folders, the kernel's environment, limits, the table."""

import json
import os
import random
import time
from pathlib import Path

import pytest

from imdb_lab.errors import GradingDataError
from imdb_lab.grader import grading, records, reports
from imdb_lab.grader.records import ScorerResult


def test_each_kernel_gets_a_verified_private_copy_of_the_data_and_no_secret(prepared_data, tmp_path, monkeypatch):
    from imdb_lab.data import cache

    monkeypatch.setenv("IMDB_LAB_CACHE", "/somewhere/shared")
    monkeypatch.setenv("IMDB_LAB_SECRET", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")  # a cell's error message reaches the student
    monkeypatch.setenv("TF_TOKEN_app_terraform_io", "x")  # Terraform's, though its prefix is TensorFlow's
    monkeypatch.setenv("TF_VAR_db_password", "x")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "2")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    env = grading._environment(tmp_path / "box", prepared_data)
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["KERAS_BACKEND"] == "jax"
    assert not any(name.startswith(("TF_TOKEN", "TF_VAR")) for name in env)
    assert env["TF_NUM_INTRAOP_THREADS"] == "2" and env["LC_ALL"] == "C.UTF-8"
    assert set(env) - {"IMDB_LAB_DATA", "IMDB_LAB_CACHE", "HOME", "KERAS_HOME", "TMPDIR", "IPYTHONDIR",
                       "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR", "MPLBACKEND", "PYTHONDONTWRITEBYTECODE"} <= set(
        grading.KERNEL_ENV)  # nothing else, by exact name
    assert not any(name.startswith("IMDB_LAB_") and name not in ("IMDB_LAB_DATA", "IMDB_LAB_CACHE") for name in env)
    assert env["IMDB_LAB_CACHE"] == str(tmp_path / "box" / "cache")
    for name in ("HOME", "KERAS_HOME", "TMPDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR"):
        assert Path(env[name]).is_dir() and Path(env[name]).parent == tmp_path / "box"
    # a prepared file, in the box: the kernel neither reads the archive nor downloads
    copy = Path(env["IMDB_LAB_DATA"])
    assert copy.parent == tmp_path / "box" / "data" and cache.is_data_file(copy)
    assert copy.read_bytes() == prepared_data.kernel_file.read_bytes()
    # the grader's own copy altered: no kernel gets it
    with open(prepared_data.kernel_file, "r+b") as file:
        file.seek(100)
        file.write(b"\0\1\2")
    with pytest.raises(GradingDataError, match="changed during grading"):
        grading._environment(tmp_path / "other", prepared_data)


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


@pytest.mark.parametrize("limits, error, message", [
    ({"timeout": 0}, ValueError, r"timeout \(seconds\) must be > 0, got 0"),
    ({"timeout": float("inf")}, ValueError, r"timeout \(seconds\) must be a finite number, got inf"),
    ({"timeout": "10"}, TypeError, r"timeout \(seconds\) must be a number, not '10'"),
    ({"timeout": True}, TypeError, r"timeout \(seconds\) must be a number, not True"),
    ({"memory": 1000}, ValueError, r"memory \(bytes\) must be >= 1048576, got 1000"),
    ({"memory": 2.5e9}, TypeError, r"memory \(bytes\) must be an int of bytes"),
    ({"target": 85}, ValueError, r"target \(an accuracy\) must be >= 0 and <= 1, got 85"),
])
def test_grade_notebook_rejects_bad_limits(limits, error, message, tmp_path):
    with pytest.raises(error, match=message):
        grading.grade_notebook(tmp_path / "x.ipynb", **limits)


def test_grade_notebooks_rejects_bad_jobs(tmp_path):
    with pytest.raises(ValueError, match="jobs must be >= 1, got 0"):
        grading.grade_notebooks([tmp_path / "x.ipynb"], jobs=0)


def test_grade_notebook_gives_a_row_for_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grading.grade_notebook(path, timeout=10)
    assert result.status.startswith("not a notebook: ")
    assert result.accuracy is None and not result.passed


SECRET = "root:x:0:0:the grader's secret"


@pytest.mark.parametrize("make, status", [
    (lambda folder: (folder / "x.ipynb").write_text(SECRET), "not a notebook: not JSON"),
    (lambda folder: (folder / "x.ipynb").write_bytes(b"\xff\xfe" + SECRET.encode()), "not a notebook: not UTF-8 text"),
    (lambda folder: (folder / "x.ipynb").write_text('{"cells": "' + SECRET + '"}'),
     "not a notebook: not a Jupyter notebook"),
    (lambda folder: (folder / "x.ipynb").mkdir(), "not a notebook: a folder, not a notebook file"),
    (lambda folder: (folder / "x.ipynb").symlink_to(folder / "secret"),
     "not a notebook: a symbolic link: hand in the notebook file itself"),
])
def test_a_refused_or_unreadable_notebook_gets_a_row_that_quotes_nothing_of_it(tmp_path, make, status):
    (tmp_path / "secret").write_text(SECRET)
    make(tmp_path)
    result = grading.grade_notebook(tmp_path / "x.ipynb", timeout=10)
    assert result.status.startswith(status) and result.accuracy is None and not result.passed
    assert "root:x" not in result.status and "secret" not in result.status


def test_a_notebook_reached_through_a_symlinked_folder_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "x.ipynb").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert grading.refusal(tmp_path / "link" / "x.ipynb") == "its path goes through a symbolic link: give the " \
                                                            "folder's real path"
    assert grading.refusal(tmp_path / "real" / "x.ipynb") is None
    assert grading.refusal(tmp_path / "real" / "gone.ipynb") == "no such file"


def test_the_private_folder_leaves_symbolic_links_out(tmp_path):
    # a student folder that ships a link to the class folder could write through it into a classmate's notebook
    class_folder, student = tmp_path / "class", tmp_path / "class" / "ana"
    student.mkdir(parents=True)
    (student / "IMDB_in_Keras.ipynb").write_text("{}")
    (student / "notes.txt").write_text("mine")
    (student / "class").symlink_to(class_folder)
    (student / "inside").symlink_to(student / "notes.txt")
    (tmp_path / "scratch").mkdir()
    copy = grading._private_folder(student / "IMDB_in_Keras.ipynb", tmp_path / "scratch", [])
    assert sorted(p.name for p in copy.parent.iterdir()) == ["IMDB_in_Keras.ipynb", "notes.txt"]
    assert not any(p.is_symlink() for p in copy.parent.rglob("*"))


@pytest.mark.parametrize("reported, believed", [
    ("no model", True), ("error in cell 3: ValueError: bad", True), ("exported", False),
    ("passed", False), ("scored", False), ("below target", False), ({"status": "passed"}, False),
    ("no model\nPASSED", True),
])
def test_the_runners_report_is_believed_only_where_it_can_give_it(reported, believed, prepared_data, tmp_path,
                                                                  monkeypatch):
    # the notebook runs in the runner's kernel, so it can write the runner's status file itself
    notebook = tmp_path / "class" / "alice.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    scratch = tmp_path / "scratch"
    (scratch / "box").mkdir(parents=True)

    def forge(command, limits, **kwargs):
        report = {"status": reported, "drawn": {}}
        (scratch / "box" / "status.json").write_text(json.dumps(report))
        for name in ("model.keras", "settings.json"):  # what the scorer is given (mocked below)
            (scratch / "box" / "export" / name).write_text("{}")
        return None, 0, ""

    monkeypatch.setattr(grading.processes_module, "run_watched", forge)
    monkeypatch.setattr(grading, "run_scorer", lambda *args: ScorerResult("model not loadable safely: x"))
    limits = grading.processes_module.Limits(time.monotonic() + 60, 2**30)
    status, accuracy, _ = grading._grade_contained(notebook, scratch, prepared_data, limits, [])
    assert accuracy is None and status != "passed" and "\n" not in status
    if believed:
        assert status == reported.splitlines()[0]
    elif reported == "exported":
        assert status == "model not loadable safely: x"  # an export is only a claim: the scorer decides
    elif not isinstance(reported, str):
        assert status == "grading failed: the notebook runner's report is not one it writes"
    else:
        assert status == "grading failed: the notebook runner reported a status it cannot give"


def test_exercises_the_scorer_failed_to_judge_cost_nothing_and_say_why(prepared_data, tmp_path, monkeypatch):
    # the lost points of before: the scorer measured the accuracy, then its judging of the model, training and
    # prediction raised; the row kept the accuracy and gave those exercises 0 with "(scored)", a word never shown
    import nbformat

    from conftest import naive_multi_hot
    from imdb_lab.check.encoding_check import draw_hidden_cases
    from imdb_lab.grader import kernel_probe

    notebook = tmp_path / "class" / "alice.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    cases = draw_hidden_cases(random.Random(0))

    def run_honestly(command, limits, **kwargs):
        box = Path(kwargs["cwd"])
        calls = [[case["sequences"], case["num_words"]] for case in cases]
        kernel_probe.call_function({"multi_hot": naive_multi_hot}, {"function": "multi_hot", "calls": calls,
                                                                    "path": str(box / "export" / "encoding.json")})
        records.write_record(box / "status.json", records.RunnerReport("exported", {"encoding": cases}))
        for name in ("model.keras", "settings.json"):  # what the scorer is given (mocked below)
            (box / "export" / name).write_text("{}")
        return None, 0, ""

    monkeypatch.setattr(grading.processes_module, "run_watched", run_honestly)
    monkeypatch.setattr(grading, "run_scorer", lambda *args: ScorerResult(
        "scored", 0.9, error="RuntimeError: a bug in the grader"))
    result = grading.grade_notebook(notebook, data=prepared_data, sandbox=False, target=0.85)
    verdicts = {e["exercise"]: e for e in result.exercises}
    assert result.status == "passed" and result.accuracy == 0.9
    assert {name: e["verdict"] for name, e in verdicts.items()} == {
        "encoding": "correct", "model": "grader failed", "training": "grader failed", "accuracy": "correct",
        "prediction": "grader failed"}
    assert (result.points, result.max_points) == (7, 7)  # what it did not measure costs nothing
    page = reports.feedback_page(result, target=0.85)
    assert "## The model: a compiled binary classifier" in page and ": 0 of 0" in page
    assert "Grader failed: the grader failed while judging this exercise (RuntimeError: a bug in the grader)" in page
    assert "tell your instructor" in page
    table = reports.format_table([result])
    for text in (page, table, json.dumps(reports.gradescope_results(result, target=0.85))):
        assert "scored" not in text and "exported" not in text  # no internal status word reaches a row


def test_the_private_folder_leaves_named_pipes_out(tmp_path):
    # a pipe beside the notebook: copying it would block (or crash) the grader for the whole class
    student = tmp_path / "alice"
    student.mkdir()
    (student / "IMDB_in_Keras.ipynb").write_text("{}")
    os.mkfifo(student / "pipe")
    (student / "data").mkdir()
    os.mkfifo(student / "data" / "another")
    copy = grading._private_folder(student / "IMDB_in_Keras.ipynb", tmp_path / "scratch", [])
    assert sorted(str(p.relative_to(copy.parent)) for p in copy.parent.rglob("*")) == ["IMDB_in_Keras.ipynb", "data"]


def test_a_notebook_whose_grading_raises_gets_its_own_row_and_the_class_is_still_graded(tmp_path, monkeypatch):
    class Data:
        source = None

    monkeypatch.setattr(grading, "prepare_grading_data", lambda folder: Data())
    monkeypatch.setattr(grading.processes_module, "become_subreaper", lambda: None)

    def grade(path, **kwargs):
        if Path(path).name == "bob.ipynb":
            raise OSError(5, "Input/output error")  # anything the grader did not foresee
        return grading.GradeResult(str(path), "no model", None, 1.0, True, [])

    monkeypatch.setattr(grading, "grade_notebook", grade)
    seen = []
    paths = [tmp_path / f"{name}.ipynb" for name in ("alice", "bob", "carol")]
    results = grading.grade_notebooks(paths, jobs=2, sandbox=False, on_result=lambda i, r: seen.append(i))
    assert [result.status for result in results] == [
        "no model", "grading failed: OSError: [Errno 5] Input/output error", "no model"]
    assert sorted(seen) == [0, 1, 2] and {e["verdict"] for e in results[1].exercises} == {"not judged"}
