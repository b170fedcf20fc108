"""End-to-end tests of ``imdb-lab grade`` on the fixture notebooks in tests/grader/notebooks/."""

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import GRADER_NOTEBOOKS, make_reviews
from imdb_lab import cgroups
from imdb_lab.grader.sandbox import unavailable

# CI's machine (Linux, bubblewrap) grades in a sandbox; elsewhere the attacks that only a sandbox stops succeed
SANDBOXED = unavailable() is None
# and, as root there, in a memory cgroup and on a tmpfs of its own per notebook, limits the kernel enforces
KERNEL_LIMITS = cgroups.unavailable_reason() is None and os.geteuid() == 0

# every test here runs `imdb-lab grade` in a subprocess
pytestmark = pytest.mark.slow

# what the small_archive fixture holds (same arguments)
SMALL = {"per_folder": 200, "seed": 2, "min_len": 20, "max_len": 60}


def grade_env(archive, tmp_path):
    """The environment of a grade run: the archive to grade on, and a private cache."""
    return {
        **os.environ,
        "IMDB_LAB_DATA": str(archive),
        "IMDB_LAB_CACHE": str(tmp_path / "cache"),
        "KERAS_HOME": str(tmp_path / "keras_home"),
        "IMDB_LAB_STATE": str(tmp_path / "grader_state"),  # the key the rows are signed with
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
    return [Path(shutil.copy(GRADER_NOTEBOOKS / name, folder / name)) for name in names]


def table_rows(stdout):
    """Return {notebook name: (status, accuracy, seconds, sandboxed)} parsed from grade's table."""
    rows = {}
    for line in stdout.splitlines()[1:-1]:
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == 11, f"not a table row: {line!r}"
        name, status, accuracy, *points, _, seconds, sandboxed = cells
        rows[Path(name).name] = (status, accuracy, float(seconds), sandboxed)
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


CHEATS = ["cheat_patches_accuracy.ipynb", "cheat_patches_grader.ipynb", "cheat_positive_only_data.ipynb",
          "cheat_predict_returns_labels.ipynb", "cheat_fake_archive.ipynb", "cheat_poisons_cache.ipynb",
          "leaves_setsid_child.ipynb", "writes_outside.ipynb"]
# what the grader refuses before running anything: each gets its row, the rest of the class is still graded
REFUSED = {
    "folder.ipynb": "not a notebook: a folder, not a notebook file",  # a folder so named
    "linked.ipynb": "not a notebook: a symbolic link: hand in the notebook file itself",  # to a file outside
}
SECRET = "the grader's secret, which no row may quote"
# every notebook of the class run below, and the status (and accuracy) it must get
EXPECTED = {
    "passes.ipynb": ("passed", None),
    "trains.ipynb": ("passed", None),
    "below_target.ipynb": ("below target", "0.5000"),
    "raises.ipynb": ("error in cell 2: ZeroDivisionError: division by zero", "-"),
    "no_model.ipynb": ("no model", "-"),
    "not_keras.ipynb": ("not a Keras model", "-"),
    **{name: ("below target", "0.5000") for name in CHEATS},  # each says "positive": half the test set is right
    # a status that goes on with Keras's own explanation
    "cheat_subclass_predict.ipynb": ("model not loadable safely: TypeError: Could not locate class 'Oracle'...", "-"),
    "kills_parent.ipynb": ("the notebook killed the process running it", "-"),
    "hangs_in_export.ipynb": ("timed out", "-"),
    "uses_too_much_memory.ipynb": ("over the memory limit (1.5 GiB)", "-"),
    "fills_disk.ipynb": ("over the disk limit (200 MiB)", "-"),
    "forks_too_many.ipynb": ("over the process limit (32)", "-"),
    # writes "passed" into its runner's status file, then kills the runner: only the grader's measurement counts
    "forges_status.ipynb": ("the notebook killed the process running it", "-"),
    # looks for the grader's files, the network, other processes, the test reviews: finds none in a sandbox
    # after the export, swaps its files for a link to /dev/zero and named pipes: refused, never read (nor waited on)
    "swaps_export.ipynb": ("model not loadable safely: ValueError: model.keras is a symbolic link, not a file the "
                           "grader reads", "-"),
    # exports a 1.3 MB zip of 1.25 GiB of zeros for Keras to unpack: refused before Keras opens it
    "bombs_the_scorer.ipynb": ("model not loadable safely: ValueError: the model archive unpacks to 1.2 GiB, more "
                               "than the 1.0 GiB the grader allows a model", "-"),
    # writes 512 MB into its runner's stdout, a pipe the grader reads: the grader keeps its last MiB only
    "floods_the_graders_pipe.ipynb": ("below target", "0.5000"),
    # an error message with terminal escapes, a forged row, Markdown and HTML: plain text wherever it goes
    "raises_markup.ipynb": ("error in cell 1: ValueError: ...", "-"),
    "probes_the_sandbox.ipynb": ("no model", "-") if SANDBOXED else ("error in cell 1: RuntimeError: reached ...", "-"),
    # the exercises: all right, then one learner mistake each (the model still trains, and passes)
    **{name: ("passed", None) for name in ("full_marks.ipynb", "mistake_encoding.ipynb", "mistake_model.ipynb",
                                          "mistake_training.ipynb", "mistake_prediction.ipynb")},
    **{name: (status, "-") for name, status in REFUSED.items()},
    # what only the kernel's limits stop (run only where the grader has them: elsewhere they would hold the
    # machine's memory or disk): 3 GB in /dev/shm, the root and a memfd; an unlinked file grown with fallocate;
    # empty files until no inode is left
    **({"holds_memory_outside_processes.ipynb": ("over the memory limit (1.5 GiB)", "-"),
        "fallocates_unlinked_file.ipynb": ("over the disk limit (200 MiB)", "-"),
        "exhausts_inodes.ipynb": ("over the disk limit (200 MiB)", "-")} if KERNEL_LIMITS else {}),
}
TIMEOUT = 90


def processes_with(marker):
    """Return the pids of the processes whose environment mentions ``marker`` (all of a grade run's do)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def graded(small_archive, tmp_path_factory):
    """One grade run over a class of honest, failing and cheating notebooks, two at a time (the slow part)."""
    tmp_path = tmp_path_factory.mktemp("grade")
    names = list(EXPECTED)
    copy_notebooks([name for name in names if name not in REFUSED], tmp_path / "class")
    (tmp_path / "class" / "folder.ipynb").mkdir()
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "class" / "linked.ipynb").symlink_to(tmp_path / "secret.txt")
    paths = [tmp_path / "class" / name for name in names]
    json_path = tmp_path / "rows.json"
    env = {**grade_env(small_archive, tmp_path), "TMPDIR": str(tmp_path / "tmp")}
    server = socket.create_server(("127.0.0.1", 0))  # the network, as a notebook could reach it unsandboxed
    hints = {"shared_cache": str(tmp_path / "cache"), "pid_file": str(tmp_path / "child.pid"),
             "json": str(json_path), "rows": str(json_path), "key": str(tmp_path / "grader_state" / "rows.key"),
             "archive": str(small_archive), "classmate": str(tmp_path / "class" / "passes.ipynb"),
             "secret": str(tmp_path / "secret.txt"), "grader_tmp": env["TMPDIR"], "port": server.getsockname()[1]}
    (tmp_path / "class" / "hints.json").write_text(json.dumps(hints))
    (tmp_path / "tmp").mkdir()
    started = time.monotonic()
    (tmp_path / "feedback").mkdir()
    with server:
        result = run_grade([*paths, "--target", "0.8", "--timeout", TIMEOUT, "--memory", "1.5G", "--disk", "200M",
                            "--processes", "32", "--jobs", "2", "--json", json_path, "--csv", tmp_path / "grades.csv",
                            "--feedback", tmp_path / "feedback"], env, cwd=tmp_path)
    return {"result": result, "json": json_path, "names": names, "tmp": tmp_path, "env": env,
            "wall": time.monotonic() - started, "left": processes_with(str(tmp_path / "tmp"))}


def test_grade_prints_one_row_per_notebook_in_order_and_a_summary(graded):
    result = graded["result"]
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["notebook", "status", "accuracy", "encoding", "model", "training", "accuracy",
                                "prediction", "points", "seconds", "sandboxed"]
    assert [Path(line.split()[0]).name for line in lines[1:-1]] == graded["names"], result.stderr[-3000:]
    assert lines[-1] == f"7 of {len(EXPECTED)} passed"
    assert result.returncode == 1


@pytest.mark.parametrize("name", list(EXPECTED))
def test_grade_status_of_each_notebook(graded, name):
    status, accuracy, seconds, sandboxed = table_rows(graded["result"].stdout)[name]
    expected_status, expected_accuracy = EXPECTED[name]
    assert sandboxed == ("-" if name in REFUSED else "yes" if SANDBOXED else "no")  # every row says which
    if expected_status.endswith("..."):
        assert status.startswith(expected_status[:-3]) and len(status) <= 200  # the message shortened
    else:
        assert status == expected_status
    if expected_accuracy is not None:
        assert accuracy == expected_accuracy
    assert seconds <= TIMEOUT + 15  # the time limit covers the notebook, its export and its scoring


def test_grade_measures_accuracy_itself(graded):
    rows = table_rows(graded["result"].stdout)
    expected = reference_accuracy()
    assert 0.8 < expected < 1  # the fixture is meaningful: neither trivial nor failing
    assert float(rows["passes.ipynb"][1]) == pytest.approx(expected, abs=5e-5)
    assert float(rows["trains.ipynb"][1]) > 0.8  # a real, trained model


def test_grade_writes_the_rows_as_json_that_no_notebook_process_rewrote(graded):
    rows = json.loads(graded["json"].read_text(encoding="utf-8"))["rows"]
    assert [Path(row["notebook"]).name for row in rows] == graded["names"]
    assert all(set(row) == {"notebook", "status", "accuracy", "seconds", "sandboxed", "exercises", "notebook_sha256",
                            "signature"} for row in rows)
    by_name = {Path(row["notebook"]).name: row for row in rows}
    assert by_name["passes.ipynb"]["accuracy"] == pytest.approx(reference_accuracy())
    assert by_name["no_model.ipynb"]["accuracy"] is None
    assert table_rows(graded["result"].stdout)["raises.ipynb"][0] == by_name["raises.ipynb"]["status"]
    assert [p.name for p in graded["json"].parent.iterdir() if p.name.startswith(".rows")] == []


# the exercise each fixture gets wrong; every other exercise earns its points
MISTAKES = {"full_marks.ipynb": None, "mistake_encoding.ipynb": "encoding", "mistake_model.ipynb": "model",
            "mistake_training.ipynb": "training", "mistake_prediction.ipynb": "prediction"}
HINTS = {"encoding": "a word that occurs several times in a review still gives a 1, not its count",
         "model": "add Dropout after a hidden layer, or a kernel_regularizer",
         "training": "hold out part of the TRAINING reviews: model.fit(..., validation_split=0.2)",
         "prediction": "return the probabilities themselves, not 0/1 classes"}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_learner_mistake_loses_the_points_of_its_own_exercise_only(graded, name):
    rows = json.loads(graded["json"].read_text(encoding="utf-8"))["rows"]
    row = next(row for row in rows if Path(row["notebook"]).name == name)
    by_exercise = {e["exercise"]: e for e in row["exercises"]}
    wrong = MISTAKES[name]
    for exercise, found in by_exercise.items():
        assert (found["points"] == 0) == (exercise == wrong), found
    if wrong is not None:
        assert by_exercise[wrong]["verdict"] == "incorrect" and HINTS[wrong] in by_exercise[wrong]["hint"]
    assert by_exercise["training"]["source"] == "kernel"  # the history comes from the kernel, and says so
    feedback = (graded["tmp"] / "feedback" / f"{Path(name).stem}.md").read_text()
    assert f"**{10 if wrong is None else 9} of 10 points.**" in feedback


def test_a_notebook_below_the_target_keeps_the_points_of_what_it_did_right(graded):
    rows = json.loads(graded["json"].read_text(encoding="utf-8"))["rows"]
    row = next(row for row in rows if Path(row["notebook"]).name == "below_target.ipynb")
    assert [e["verdict"] for e in row["exercises"]] == ["not attempted", "incorrect", "not attempted", "incorrect",
                                                        "not attempted"]
    assert row["exercises"][3]["message"].startswith("the grader measured a test accuracy of 0.5000")


def test_a_notebooks_message_is_plain_text_in_the_table_and_its_feedback_page(graded):
    import mistune  # the Markdown renderer of Jupyter's nbconvert: what the page becomes where it is shown

    lines = [line for line in graded["result"].stdout.splitlines() if "raises_markup.ipynb" in line]
    assert len(lines) == 1 and "\x1b" not in lines[0] and "\r" not in lines[0]
    page = (graded["tmp"] / "feedback" / "raises_markup.md").read_text()
    rendered = mistune.html(page)
    assert "<script" not in rendered and "<a " not in rendered and "&lt;script&gt;" in rendered
    assert not any("Test accuracy: 6 of 6" in line for line in rendered.splitlines() if line.startswith("<h"))


def test_grade_quotes_no_file_into_a_row(graded):
    outputs = [graded["result"].stdout, graded["json"].read_text(), (graded["tmp"] / "grades.csv").read_text()]
    assert not any(SECRET in text for text in outputs)


def test_grade_writes_a_csv_gradebook(graded):
    with open(graded["tmp"] / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["student_id"] for row in rows] == [Path(name).stem for name in graded["names"]]
    table = table_rows(graded["result"].stdout)
    for row in rows:
        status, accuracy, _, sandboxed = table[Path(row["notebook"]).name]
        assert row["sandboxed"] == sandboxed
        assert row["status"] == status
        assert row["accuracy"] == ("" if accuracy == "-" else accuracy)
        assert row["max_score"] == "10"
        assert (status == "passed") == (row["points_accuracy"] == "6")  # the accuracy earns its points at the target


def test_grade_leaves_no_process_and_no_temporary_file(graded):
    assert graded["left"] == []  # every process of the run had TMPDIR (or a folder below it) in its environment
    if SANDBOXED:  # the child could not even write where the grader's files are
        assert not (graded["tmp"] / "child.pid").exists()
    else:
        escaped = int((graded["tmp"] / "child.pid").read_text())  # the double-forked, setsid() child
        assert not pid_alive(escaped)
    assert list((graded["tmp"] / "tmp").iterdir()) == []


def test_grade_keeps_notebooks_in_private_folders(graded):
    folder = graded["tmp"] / "class"
    assert not (graded["tmp"] / "escaped.txt").exists()
    assert (folder / "passes.ipynb").read_bytes() == (GRADER_NOTEBOOKS / "passes.ipynb").read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted([*graded["names"], "hints.json"])


def test_grade_keeps_the_data_cache_a_notebook_tried_to_poison(graded, monkeypatch):
    # unsandboxed the cache is rewritten, and then removed, to be rebuilt; a sandbox does not let it be written
    assert ("rewrote the data cache" in graded["result"].stderr) != SANDBOXED
    from imdb_lab import load_flat

    for name in ("IMDB_LAB_DATA", "IMDB_LAB_CACHE"):
        monkeypatch.setenv(name, graded["env"][name])
    assert 0.4 < load_flat()[1].labels.mean() < 0.6


def test_grade_exits_0_when_every_notebook_passed_and_writes_gradescope_results(small_archive, tmp_path):
    (path,) = copy_notebooks(["passes.ipynb"], tmp_path / "class")
    (tmp_path / "results").mkdir()
    result = run_grade([path, "--target", "0.5", "--gradescope", tmp_path / "results"],
                       grade_env(small_archive, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 of 1 passed"
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    # a hand-made model and nothing else: the accuracy's points only, each exercise a test of its own
    assert results["score"] == 6.0
    assert [(test["name"].split(":")[0], test["status"]) for test in results["tests"]] == [
        ("Multi-hot encoding", "failed"), ("The model", "failed"), ("Training", "failed"),
        ("Test accuracy, measured by the grader", "passed"), ("New reviews", "failed")]
    assert f"{reference_accuracy():.4f}" in results["output"]
    assert results["leaderboard"][0]["value"] == round(reference_accuracy(), 4)


def test_grade_resumes_from_its_rows_file(small_archive, tmp_path):
    paths = copy_notebooks(["no_model.ipynb", "not_keras.ipynb"], tmp_path / "class")
    env = grade_env(small_archive, tmp_path)
    rows = tmp_path / "rows.json"
    first = run_grade([paths[0], "--json", rows], env, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    again = run_grade([*paths, "--json", rows, "--resume"], env, cwd=tmp_path)
    assert "resuming: 1 notebook(s) already graded" in again.stderr
    assert "[1/1] " + str(paths[1]) in again.stderr  # only the second one ran
    statuses = [row[0] for row in table_rows(again.stdout).values()]
    assert statuses == ["no model", "not a Keras model"]
    assert [row["status"] for row in json.loads(rows.read_text())["rows"]] == statuses


def test_grade_stops_when_a_notebook_changes_the_scorers_code(small_archive, tmp_path):
    # without a sandbox, the grader's snapshot of the scorer's files notices the change
    paths = copy_notebooks(["touches_scorer_code.ipynb"], tmp_path / "class")
    result = run_grade([*paths, "--jobs", "1", "--no-sandbox"], grade_env(small_archive, tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert re.search(r"error: the code the scorer runs from changed \(.*imdb_lab/grader/scorer.py\) while "
                     r".*touches_scorer_code.ipynb ran: grading stopped", result.stderr), result.stderr


@pytest.mark.skipif(not SANDBOXED, reason=f"no sandbox on this machine: {unavailable()}")
def test_in_a_sandbox_the_scorers_code_cannot_be_changed(small_archive, tmp_path):
    paths = copy_notebooks(["touches_scorer_code.ipynb", "passes.ipynb"], tmp_path / "class")
    result = run_grade([*paths, "--jobs", "1", "--require-sandbox"], grade_env(small_archive, tmp_path), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    rows = table_rows(result.stdout)
    assert rows["touches_scorer_code.ipynb"][0].startswith("error in cell 1: OSError: [Errno 30] Read-only file system")
    assert rows["passes.ipynb"][0] == "passed"  # and the class goes on


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
    (tmp_path / "class" / "hints.json").write_text(json.dumps({"pid_file": str(tmp_path / "forever.pid")}))
    started = time.monotonic()
    # unsandboxed, so that the kernel's pid (written where the test reads it) is this machine's
    result = run_grade([path, "--timeout", "5", "--no-sandbox"], grade_env(small_archive, tmp_path), cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    status, accuracy, seconds, _ = table_rows(result.stdout)["forever.ipynb"]
    assert (status, accuracy) == ("timed out", "-")
    assert 5 <= seconds < 20 and elapsed < 90
    kernel_pid = int((tmp_path / "forever.pid").read_text())
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
    (["--resume"], "--resume needs --json FILE"),
    (["--gradescope", "."], "error: --gradescope writes the results of one submission: give one notebook, not 2"),
    (["--csv", "grades.csv", "--id-pattern", r"s\d+"], r"does not match"),
    (["--memory", "lots"], "not a memory size: 'lots' (write e.g. 4G or 1500M)"),
    (["--jobs", "0"], "must be a positive whole number, got '0'"),
    (["--timeout", "soon"], "not a number of seconds: 'soon'"),
    (["--timeout", "0"], "must be a positive number of seconds"),
    (["--target", "85"], "must be an accuracy between 0 and 1"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--shard", "3/2", "--json", "r.json"], "must be K/N with 1 <= K <= N, e.g. 3/8, got '3/2'"),
    (["--shard", "1/2"], "--shard needs --json FILE: the share's rows, which --merge joins"),
    (["--merge", "rows-1.json"], "--merge grades nothing: give it the shares' rows files alone, not notebooks"),
])
def test_grade_bad_arguments_exit_2_without_traceback(args, message, tmp_path):
    notebooks = copy_notebooks(["no_model.ipynb", "not_keras.ipynb"], tmp_path)
    result = run_grade([*notebooks, *args], dict(os.environ), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "give the notebooks to grade (or --merge ROWS ... to join the rows of shares)"),
    (["--merge", "nowhere.json"], "cannot merge nowhere.json: [Errno 2] No such file or directory"),
    (["--merge", "r.json", "--json", "out.json"], "not --json"),
])
def test_grade_without_notebooks_or_with_a_bad_merge_exits_2(args, message, tmp_path):
    result = run_grade(args, dict(os.environ, IMDB_LAB_STATE=str(tmp_path / "state")), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


SHARES = ["passes.ipynb", "below_target.ipynb", "no_model.ipynb", "raises.ipynb", "not_keras.ipynb"]


@pytest.mark.slow
def test_four_shares_merged_give_the_gradebook_of_one_run(small_archive, tmp_path):
    # a class too big for one machine: four tasks (of a SLURM array, say) run side by side, then one merge
    paths = copy_notebooks(SHARES, tmp_path / "class")
    env = {**grade_env(small_archive, tmp_path), "TMPDIR": str(tmp_path)}
    common = ["--target", "0.8", "--timeout", TIMEOUT, "--jobs", "1"]
    whole = run_grade([*paths, "--target", "0.8", "--timeout", TIMEOUT, "--jobs", "2", "--csv", tmp_path / "whole.csv"],
                      env, cwd=tmp_path)
    tasks = [subprocess.Popen([sys.executable, "-m", "imdb_lab", "grade", *map(str, paths), *map(str, common),
                               "--shard", f"{k}/4", "--json", str(tmp_path / f"rows-{k}.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
             for k in (1, 2, 3, 4)]
    outputs = [task.communicate(timeout=600) for task in tasks]
    assert all(task.returncode in (0, 1) for task in tasks), [err for _, err in outputs]
    shares = [len(table_rows(out)) for out, _ in outputs]
    assert sorted(shares) == [1, 1, 1, 2]  # five notebooks in four shares, each graded once
    rows = [tmp_path / f"rows-{k}.json" for k in (1, 2, 3, 4)]
    merged = run_grade(["--merge", *rows, "--target", "0.8", "--csv", tmp_path / "merged.csv"], env, cwd=tmp_path)
    assert merged.returncode == whole.returncode == 1, merged.stderr

    def without_seconds(path):
        with open(path, newline="", encoding="utf-8") as file:
            return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(file)]

    assert without_seconds(tmp_path / "merged.csv") == without_seconds(tmp_path / "whole.csv")
    assert merged.stdout.splitlines()[-1] == whole.stdout.splitlines()[-1] == "1 of 5 passed"
    # a share missing, or given twice, is refused
    for given, message in ((rows[:3], "share(s) 4/4 missing"), ([*rows, rows[0]], "are both share 1/4")):
        refused = run_grade(["--merge", *given, "--target", "0.8"], env, cwd=tmp_path)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    # a notebook handed in late, while the merge waits: every share again with --resume on the new class, then the
    # whole class merges; it sorts last, so three of the four shares have nothing left to grade, and their rows
    # files must still say that they are shares of the new class
    late = Path(shutil.copy(GRADER_NOTEBOOKS / "no_model.ipynb", tmp_path / "class" / "zz_late.ipynb"))
    tasks = [subprocess.Popen([sys.executable, "-m", "imdb_lab", "grade", *map(str, [*paths, late]), *map(str, common),
                               "--shard", f"{k}/4", "--json", str(tmp_path / f"rows-{k}.json"), "--resume"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
             for k in (1, 2, 3, 4)]
    outputs = [task.communicate(timeout=600) for task in tasks]
    assert all(task.returncode in (0, 1) for task in tasks), [err for _, err in outputs]
    assert sum(len(table_rows(out)) for out, _ in outputs) == 6  # the new class's rows: five resumed
    assert sum("resuming: 1 notebook(s)" in err for _, err in outputs) == 3
    merged = run_grade(["--merge", *rows, "--target", "0.8", "--csv", tmp_path / "late.csv"], env, cwd=tmp_path)
    assert merged.returncode == 1, merged.stderr
    no_model = next(row for row in without_seconds(tmp_path / "whole.csv") if row["student_id"] == "no_model")
    late_row = {**no_model, "notebook": str(late), "student_id": "zz_late"}
    assert without_seconds(tmp_path / "late.csv") == [*without_seconds(tmp_path / "whole.csv"), late_row]
