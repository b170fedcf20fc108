"""End-to-end tests of ``imdb-lab grade`` on the fixture notebooks in tests/notebooks/."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_reviews

NOTEBOOKS = Path(__file__).parent / "notebooks"
# what the small_archive fixture holds (same arguments)
SMALL = {"per_folder": 200, "seed": 2, "min_len": 20, "max_len": 60}


def grade_env(archive, tmp_path):
    """The environment of a grade run: the archive to grade on, and a private cache."""
    return {
        **os.environ,
        "IMDB_LAB_DATA": str(archive),
        "IMDB_LAB_CACHE": str(tmp_path / "cache"),
        "KERAS_HOME": str(tmp_path / "keras_home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def run_grade(args, env, cwd):
    """Run ``python -m imdb_lab grade ARGS``; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "imdb_lab", "grade", *map(str, args)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )


def copy_notebooks(names, folder):
    """Copy fixture notebooks into ``folder`` (each then runs there); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(NOTEBOOKS / name, folder / name)) for name in names]


def table_rows(stdout):
    """Return {notebook name: (status, accuracy, seconds)} parsed from grade's table."""
    rows = {}
    for line in stdout.splitlines()[1:-1]:
        match = re.fullmatch(r"(\S+)\s{2,}(.+?)\s{2,}(\S+)\s{2,}(\S+)", line)
        assert match, f"not a table row: {line!r}"
        name, status, accuracy, seconds = match.groups()
        rows[Path(name).name] = (status, accuracy, float(seconds))
    return rows


def reference_accuracy():
    """Accuracy of passes.ipynb's hand-made model on small_archive's test reviews, from the raw texts."""
    right = total = 0
    for (split, label), texts in make_reviews(**SMALL).items():
        if split != "test":
            continue
        for text in texts:
            words = set(re.findall(r"[a-z']+", text.lower()))
            score = len(words & {"great", "wonderful"}) - len(words & {"awful", "boring"})
            right += (score > 0) == (label == "pos")
            total += 1
    return right / total


@pytest.fixture(scope="module")
def graded(small_archive, tmp_path_factory):
    """One grade run over five fixture notebooks (the slow part, shared by the tests below)."""
    tmp_path = tmp_path_factory.mktemp("grade")
    names = ["passes.ipynb", "below_target.ipynb", "raises.ipynb", "no_model.ipynb", "not_keras.ipynb"]
    paths = copy_notebooks(names, tmp_path / "class")
    json_path = tmp_path / "rows.json"
    result = run_grade([*paths, "--target", "0.8", "--timeout", "120", "--json", json_path],
                       grade_env(small_archive, tmp_path), cwd=tmp_path)
    return result, json_path, names


def test_grade_prints_one_row_per_notebook_in_order_and_a_summary(graded):
    result, _, names = graded
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["notebook", "status", "accuracy", "seconds"]
    assert [Path(line.split()[0]).name for line in lines[1:-1]] == names
    assert lines[-1] == "1 of 5 passed"
    assert result.returncode == 1


def test_grade_statuses(graded):
    rows = table_rows(graded[0].stdout)
    assert rows["passes.ipynb"][0] == "passed"
    assert rows["below_target.ipynb"][0] == "below target"
    # the markdown cell between them does not count: the division is the second code cell
    assert rows["raises.ipynb"] == ("error in cell 2: ZeroDivisionError: division by zero", "-",
                                    rows["raises.ipynb"][2])
    assert rows["no_model.ipynb"][:2] == ("no model", "-")
    assert rows["not_keras.ipynb"][:2] == ("not a Keras model", "-")


def test_grade_measures_accuracy_itself(graded):
    rows = table_rows(graded[0].stdout)
    expected = reference_accuracy()
    assert 0.8 < expected < 1  # the fixture is meaningful: neither trivial nor failing
    assert float(rows["passes.ipynb"][1]) == pytest.approx(expected, abs=5e-5)
    # below_target.ipynb says "positive" for every review and prints 0.99: half the test set is right
    assert float(rows["below_target.ipynb"][1]) == 0.5


def test_grade_writes_the_rows_as_json(graded):
    result, json_path, names = graded
    rows = json.loads(json_path.read_text(encoding="utf-8"))
    assert [Path(row["notebook"]).name for row in rows] == names
    assert all(set(row) == {"notebook", "status", "accuracy", "seconds"} for row in rows)
    by_name = {Path(row["notebook"]).name: row for row in rows}
    assert by_name["passes.ipynb"]["accuracy"] == pytest.approx(reference_accuracy())
    assert by_name["below_target.ipynb"]["accuracy"] == 0.5
    assert by_name["no_model.ipynb"]["accuracy"] is None
    assert table_rows(result.stdout)["raises.ipynb"][0] == by_name["raises.ipynb"]["status"]
    assert [p.name for p in json_path.parent.iterdir() if p.name.startswith(".rows")] == []


def test_grade_exits_0_when_every_notebook_passed(small_archive, tmp_path):
    (path,) = copy_notebooks(["passes.ipynb"], tmp_path / "class")
    result = run_grade([path, "--target", "0.5"], grade_env(small_archive, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 of 1 passed"


def pid_alive(pid):
    """Return True while process ``pid`` exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_grade_times_out_a_notebook_that_never_ends_and_kills_its_kernel(small_archive, tmp_path):
    (path,) = copy_notebooks(["forever.ipynb"], tmp_path / "class")
    started = time.monotonic()
    result = run_grade([path, "--timeout", "3"], grade_env(small_archive, tmp_path), cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    status, accuracy, seconds = table_rows(result.stdout)["forever.ipynb"]
    assert (status, accuracy) == ("timed out", "-")
    assert 3 <= seconds < 60 and elapsed < 90
    # the notebook ran in its own folder and wrote its kernel's pid there
    kernel_pid = int((tmp_path / "class" / "forever.pid").read_text())
    deadline = time.monotonic() + 10
    while pid_alive(kernel_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(kernel_pid), "the timed-out kernel was left running"


def test_grade_missing_notebook_is_a_one_line_error(tmp_path):
    result = run_grade([tmp_path / "nowhere.ipynb"], dict(os.environ), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"imdb-lab grade: error: no such notebook: {tmp_path / 'nowhere.ipynb'}"
    assert result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--timeout", "soon"], "not a number of seconds: 'soon'"),
    (["--timeout", "0"], "must be a positive number of seconds"),
    (["--target", "85"], "must be an accuracy between 0 and 1"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_grade_bad_arguments_exit_2_without_traceback(args, message, tmp_path):
    notebook = copy_notebooks(["no_model.ipynb"], tmp_path)[0]
    result = run_grade([notebook, *args], dict(os.environ), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
