"""Tests of imdb_lab.grader.gradebook: the table, the rows file --resume reads, the CSV, Gradescope's file, progress."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from conftest import assert_gradescope_format
from imdb_lab.check.core import correct, incorrect
from imdb_lab.grader import gradebook
from imdb_lab.grader.exercises import EXERCISES, Rubric, judge_accuracy, not_judged, verdict
from imdb_lab.grader.grading import GradeResult

RUBRIC = Rubric()
ALICE = [RUBRIC.award(verdict(name, correct(f"{name} is right"))) for name in EXERCISES[:3]] + [
    RUBRIC.award(judge_accuracy(0.88123, 0.85)),
    RUBRIC.award(verdict("prediction", incorrect("predict_sentiment gives classes", "return probabilities")))]
BOB = [RUBRIC.award(not_judged(name, "the grader had nothing to judge it on")) for name in EXERCISES]
PASSED = GradeResult("class/alice.ipynb", "passed", 0.88123, 41.25, True, ALICE)
FAILED = GradeResult("class/bob.ipynb", "error in cell 3: NameError: name 'x' is not defined", None, 3.0, False, BOB)


@pytest.mark.parametrize("notebook, pattern, expected", [
    ("class/alice.ipynb", None, "alice"),
    ("submissions/bob/IMDB_in_Keras.ipynb", None, "bob"),
    ("IMDB_in_Keras.ipynb", None, "IMDB_in_Keras"),
    ("class/lab1_s1234_late.ipynb", r"_(?P<id>s\d+)_", "s1234"),
    ("class/lab1_s1234.ipynb", r"(s\d+)", "s1234"),
    ("class/s99.ipynb", r"s\d+", "s99"),
])
def test_student_id_from_the_file_name_or_a_pattern(notebook, pattern, expected):
    assert gradebook.student_id(notebook, pattern) == expected


def test_student_id_pattern_errors_say_what_to_fix():
    with pytest.raises(ValueError, match=r"pattern 's\\\\d\+' does not match class/alice.ipynb: fix the pattern"):
        gradebook.student_id("class/alice.ipynb", r"s\d+")
    with pytest.raises(ValueError, match=r"pattern '\(' is not a regular expression"):
        gradebook.student_id("class/alice.ipynb", "(")
    with pytest.raises(TypeError, match="must be a regular expression \\(str\\), not int"):
        gradebook.student_id("class/alice.ipynb", 5)


def test_csv_gradebook_has_the_documented_columns(tmp_path):
    path = tmp_path / "grades.csv"
    gradebook.write_csv([PASSED, FAILED], path)
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(gradebook.CSV_COLUMNS)
    assert rows[0] == {"notebook": "class/alice.ipynb", "student_id": "alice", "status": "passed",
                       "accuracy": "0.8812", "points_encoding": "1", "points_model": "1", "points_training": "1",
                       "points_accuracy": "6", "points_prediction": "0", "score": "9", "max_score": "10",
                       "seconds": "41.2", "sandboxed": "yes"}
    assert rows[1]["sandboxed"] == "no" and rows[1]["points_accuracy"] == "0" and rows[1]["max_score"] == "10"
    assert rows[1]["status"] == FAILED.status  # a comma-free message, kept whole
    assert (rows[1]["accuracy"], rows[1]["score"]) == ("", "0")
    # a row of an older run, without exercises: 1 point for a pass, as before
    gradebook.write_csv([GradeResult("class/carol.ipynb", "passed", 0.9, 1.0)], path)
    with open(path, newline="", encoding="utf-8") as file:
        row = next(csv.DictReader(file))
    assert (row["score"], row["max_score"], row["points_model"]) == ("1", "1", "")
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_csv_gradebook_defuses_spreadsheet_formulas(tmp_path):
    path = tmp_path / "grades.csv"
    evil = GradeResult("class/=HYPERLINK(1).ipynb", "=1+1", None, 1.0)
    gradebook.write_csv([evil], path, pattern=r"(=\w+)")
    with open(path, newline="", encoding="utf-8") as file:
        row = next(csv.DictReader(file))
    assert row["status"] == "'=1+1"
    assert row["notebook"].startswith("class/")  # only a leading sign is a formula
    assert row["student_id"] == "'=HYPERLINK"


def test_gradescope_results_follow_the_autograder_format(tmp_path):
    gradebook.write_gradescope(PASSED, tmp_path, target=0.85)
    results = json.loads((tmp_path / "results.json").read_text())
    assert_gradescope_format(results)
    assert isinstance(results["score"], float) and results["score"] == 9.0
    assert isinstance(results["execution_time"], int) and results["execution_time"] == 41
    assert "0.8812" in results["output"] and "reaches the target of 0.85" in results["output"]
    # a test per exercise, with its points, verdict and hint
    assert [test["number"] for test in results["tests"]] == ["1", "2", "3", "4", "5"]
    assert [(test["score"], test["max_score"]) for test in results["tests"]] == [(1, 1), (1, 1), (1, 1), (6, 6), (0, 1)]
    assert [test["status"] for test in results["tests"]] == ["passed"] * 4 + ["failed"]
    assert results["tests"][4]["output"] == "Incorrect: predict_sentiment gives classes\nHint: return probabilities"
    assert results["leaderboard"] == [{"name": "Test accuracy", "value": 0.8812, "order": "desc"}]


def test_gradescope_results_of_a_row_without_exercises_keep_one_test():
    results = gradebook.gradescope_results(GradeResult("a.ipynb", "passed", 0.9, 2.0), target=0.85)
    assert_gradescope_format(results)
    assert [(test["score"], test["max_score"]) for test in results["tests"]] == [(1.0, 1.0)]


def test_gradescope_results_of_a_notebook_that_was_not_scored():
    results = gradebook.gradescope_results(FAILED, target=0.85)
    assert_gradescope_format(results)
    assert results["score"] == 0.0 and "leaderboard" not in results
    assert results["output"] == f"Your notebook was not scored: {FAILED.status}. (The notebook ran without a sandbox.)"
    assert "sandbox" not in gradebook.gradescope_results(PASSED, target=0.85)["output"]
    assert {test["status"] for test in results["tests"]} == {"failed"}


def test_feedback_pages_give_each_exercise_its_verdict_hint_and_points(tmp_path):
    gradebook.write_feedback([PASSED, FAILED], tmp_path, target=0.85)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alice.md", "bob.md"]
    page = (tmp_path / "alice.md").read_text()
    assert page.startswith("# Feedback: alice.ipynb\n\n**9 of 10 points.**")
    assert "## New reviews: predict_sentiment(texts): 0 of 1\n\nIncorrect: predict_sentiment gives classes  \n" \
           "Hint: return probabilities\n" in page
    assert "## Test accuracy, measured by the grader: 6 of 6" in page
    assert "Not judged: the grader had nothing to judge it on" in (tmp_path / "bob.md").read_text()
    with pytest.raises(ValueError, match="no such folder for the feedback pages"):
        gradebook.write_feedback([PASSED], tmp_path / "missing", target=0.85)


def test_gradescope_needs_an_existing_folder(tmp_path):
    with pytest.raises(ValueError, match="no such folder for the Gradescope results"):
        gradebook.write_gradescope(PASSED, tmp_path / "missing", target=0.85)


@pytest.fixture
def notebooks(tmp_path):
    """Three notebook files in a class folder."""
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.ipynb"
        path.write_text(f"notebook {name}")
        paths.append(str(path))
    return paths


def test_results_log_is_rewritten_row_by_row_in_the_order_given(tmp_path, notebooks):
    log = gradebook.ResultsLog(tmp_path / "rows.json", notebooks)
    log.record(GradeResult(notebooks[2], "passed", 0.9, 1.0))
    log.record(GradeResult(notebooks[0], "no model", None, 2.0))
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [row["notebook"] for row in rows] == [notebooks[0], notebooks[2]]
    assert set(rows[0]) == set(gradebook.ResultsLog.KEYS)
    assert rows[1]["notebook_sha256"] == gradebook.notebook_sha256(notebooks[2])


def test_resume_skips_finished_notebooks_unless_they_changed(tmp_path, notebooks):
    first = gradebook.ResultsLog(tmp_path / "rows.json", notebooks)
    for notebook in notebooks[:2]:
        first.record(GradeResult(notebook, "passed", 0.9, 1.0))
    with open(notebooks[1], "a") as file:
        file.write(" changed")
    again = gradebook.ResultsLog(tmp_path / "rows.json", notebooks)
    finished = again.load()
    assert list(finished) == [notebooks[0]]
    assert finished[notebooks[0]] == GradeResult(notebooks[0], "passed", 0.9, 1.0)
    again.record(GradeResult(notebooks[2], "below target", 0.6, 1.0))
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [row["notebook"] for row in rows] == [notebooks[0], notebooks[2]]  # the old row is kept


def test_resume_grades_again_the_rows_the_grader_failed_on(tmp_path, notebooks):
    from imdb_lab.grader.exercises import grader_failed

    first = gradebook.ResultsLog(tmp_path / "rows.json", notebooks)
    failed_judging = [*ALICE[:1], *(RUBRIC.award(grader_failed(name, "RuntimeError: bug")) for name in EXERCISES[1:3]),
                      *ALICE[3:]]
    first.record(GradeResult(notebooks[0], "passed", 0.88123, 1.0, True, failed_judging))
    first.record(GradeResult(notebooks[1], "grading failed: the scorer exited with code 1", None, 1.0, True, BOB))
    first.record(GradeResult(notebooks[2], "passed", 0.88123, 1.0, True, ALICE))
    assert list(gradebook.ResultsLog(tmp_path / "rows.json", notebooks).load()) == [notebooks[2]]


def test_resume_from_a_file_that_is_not_a_rows_file_is_refused(tmp_path, notebooks):
    path = tmp_path / "rows.json"
    for content, why in (("{ not json", "Expecting"), (json.dumps({"a": 1}), "not a rows file"),
                         (json.dumps([{"notebook": "x"}]), "a rows file of an older imdb-lab")):
        path.write_text(content)
        with pytest.raises(ValueError, match=f"cannot resume from .*rows.json: .*{why}.*grade without --resume"):
            gradebook.ResultsLog(path, notebooks).load()
    assert gradebook.ResultsLog(tmp_path / "none.json", notebooks).load() == {}


def rows_file(path, rows, notebooks, shard=(1, 1)):
    """Write ``rows`` as a rows file of the grader's format, its header signed with the grader's key."""
    header = {"format": gradebook.ROWS_FORMAT, "shard": list(shard), "notebooks": notebooks}
    header["signature"] = gradebook.sign_row(header, gradebook.rows_key())
    Path(path).write_text(json.dumps({**header, "rows": rows}))


def forged(notebook, status="passed", accuracy=0.99, signature="0" * 64):
    """A row as a notebook could write it: the right notebook and SHA-256, a status of its choice."""
    return {"notebook": notebook, "status": status, "accuracy": accuracy, "seconds": 1.0, "sandboxed": True,
            "exercises": None, "notebook_sha256": gradebook.notebook_sha256(notebook), "signature": signature}


def test_resume_refuses_rows_the_grader_did_not_sign(tmp_path, notebooks):
    path = tmp_path / "rows.json"
    rows_file(path, [forged(notebooks[0])], notebooks)
    with pytest.raises(ValueError, match=r"cannot resume from .*: row 1 is not signed with this grader's key"):
        gradebook.ResultsLog(path, notebooks).load()
    # signed with another grader's key (another user, another machine): refused the same way
    row = forged(notebooks[0])
    row["signature"] = gradebook.sign_row(row, b"another key")
    rows_file(path, [row], notebooks)
    with pytest.raises(ValueError, match="row 1 is not signed"):
        gradebook.ResultsLog(path, notebooks).load()


@pytest.mark.parametrize("change, problem", [
    ({"status": "passed", "accuracy": 0.5}, "'passed' with accuracy 0.5000 does not fit the target 0.85"),
    ({"status": "below target", "accuracy": 0.9}, "does not fit the target"),
    ({"status": "passed", "accuracy": None}, "a row 'passed' needs accuracy"),
    ({"status": "no model", "accuracy": 0.9}, "a row 'no model' has no accuracy"),
    ({"status": "excellent"}, "'excellent' is no status the grader gives"),
    ({"accuracy": "0.99"}, "its accuracy must be empty or a number from 0 to 1"),
    ({"accuracy": 1.5}, "its accuracy must be empty or a number from 0 to 1"),
    ({"seconds": -1}, "its seconds must be a number, 0 or more"),
    ({"status": 1}, "its notebook and status must be text"),
    ({"notebook_sha256": "abc"}, "its notebook_sha256 must be a SHA-256 in hex"),
    ({"sandboxed": "yes"}, "its sandboxed must be true, false or null"),
    ({"exercises": [{"exercise": "accuracy", "points": 6, "max_points": 6, "verdict": "correct"}]},
     "its exercises must be the verdicts of encoding, model, training, accuracy, prediction, in that order"),
    ({"exercises": [{**e, "points": 60 if e["exercise"] == "accuracy" else e["points"]} for e in ALICE]},
     "the points of accuracy must be numbers from 0 to its most"),
    ({"exercises": [{**e, "verdict": "splendid"} for e in ALICE]}, "'splendid' is no verdict the grader gives"),
])
def test_resume_refuses_signed_rows_the_grader_cannot_have_written(tmp_path, notebooks, change, problem):
    # even signed (the key stolen, or a row of a run with another --target), an impossible row is refused
    row = {**forged(notebooks[0]), **change}
    row["signature"] = gradebook.sign_row(row, gradebook.rows_key())
    rows_file(tmp_path / "rows.json", [row], notebooks)
    expected = r"cannot resume from .*: row 1 cannot be the grader's \(.*" + re.escape(problem)
    with pytest.raises(ValueError, match=expected):
        gradebook.ResultsLog(tmp_path / "rows.json", notebooks).load(target=0.85)


def test_the_grader_key_is_private_and_kept(tmp_path):
    key = gradebook.rows_key()
    path = gradebook.state_folder() / "rows.key"
    assert len(key) == 32 and gradebook.rows_key() == key
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o077 == 0
    path.write_text("damaged")
    with pytest.raises(ValueError, match="the grader's key .*rows.key is damaged: delete it"):
        gradebook.rows_key()


def test_graders_starting_at_once_share_one_whole_key(tmp_path, monkeypatch):
    # the shares of a class started together (a SLURM array): each makes or reads the key at the same moment, and
    # none may read a key file that another has created but not yet written
    import threading

    for attempt in range(40):
        monkeypatch.setenv("IMDB_LAB_STATE", str(tmp_path / f"state{attempt}"))
        start, keys, errors = threading.Barrier(8), [], []

        def grader(start=start, keys=keys, errors=errors):  # this attempt's, bound now
            start.wait()
            try:
                keys.append(gradebook.rows_key())
            except ValueError as error:
                errors.append(str(error))

        threads = [threading.Thread(target=grader) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"attempt {attempt}: {errors[0]}"
        assert len(keys) == 8 and len(set(keys)) == 1
        state = gradebook.state_folder()
        assert [path.name for path in state.iterdir()] == ["rows.key"], "a temporary key file was left behind"
        assert (state / "rows.key").stat().st_mode & 0o777 == 0o600


def test_a_symlinked_notebook_has_no_sha256_and_is_never_resumed(tmp_path, notebooks):
    link = tmp_path / "link.ipynb"
    link.symlink_to(notebooks[0])
    assert gradebook.notebook_sha256(link) is None
    log = gradebook.ResultsLog(tmp_path / "rows.json", [*notebooks, str(link)])
    log.record(GradeResult(str(link), "not a notebook: a symbolic link: hand in the notebook file itself", None, 0.0))
    assert gradebook.ResultsLog(tmp_path / "rows.json", [*notebooks, str(link)]).load() == {}


def test_a_failed_write_leaves_the_rows_file_as_it_was(tmp_path, notebooks, monkeypatch):
    log = gradebook.ResultsLog(tmp_path / "rows.json", notebooks)
    log.record(GradeResult(notebooks[0], "passed", 0.9, 1.0))
    before = (tmp_path / "rows.json").read_text()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gradebook.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        log.record(GradeResult(notebooks[1], "passed", 0.9, 1.0))
    assert (tmp_path / "rows.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_prints_a_line_per_notebook_in_a_log():
    stream = io.StringIO()
    progress = gradebook.Progress(2, stream)
    progress.update(PASSED)
    progress.update(FAILED)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[:2] == [
        "[1/2] class/alice.ipynb: passed 0.8812 (41.2 s)",
        f"[2/2] class/bob.ipynb: {FAILED.status} (3.0 s)",
    ]
    # then the final bar, once: a log holds no control characters
    assert len(lines) == 3 and lines[2].startswith(f"[{'=' * 30}] 2/2 graded, 1 passed, ")
    assert "\r" not in stream.getvalue() and "\033" not in stream.getvalue()


def test_progress_draws_a_bar_on_a_terminal():
    stream = FakeTerminal()
    progress = gradebook.Progress(4, stream)
    progress.update(PASSED)
    assert stream.getvalue().endswith("[=======.......................] 1/4 graded, 1 passed, 0.0 s")
    assert "\r\033[K[1/4] class/alice.ipynb: passed" in stream.getvalue()


def test_shares_are_deterministic_and_cover_the_class_once():
    notebooks = [f"class/s{i:02}.ipynb" for i in (7, 3, 11, 1, 5, 9, 2)]
    shares = [gradebook.share_of(notebooks, (k, 3)) for k in (1, 2, 3)]
    assert sorted(sum(shares, [])) == sorted(notebooks)
    assert all(share == [n for n in notebooks if n in share] for share in shares)  # the order given
    assert gradebook.share_of(list(reversed(notebooks)), (2, 3)) == list(reversed(shares[1]))  # any order: same
    assert gradebook.share_of(notebooks, (1, 1)) == notebooks
    assert gradebook.share_of(notebooks[:2], (3, 3)) == []


def graded_shares(tmp_path, notebooks, n, skip=()):
    """Write the rows file of each of ``n`` shares of ``notebooks``, every row passed; return their paths."""
    paths = []
    for k in range(1, n + 1):
        share = gradebook.share_of(notebooks, (k, n))
        log = gradebook.ResultsLog(tmp_path / f"rows-{k}.json", share, shard=(k, n), class_notebooks=notebooks)
        for notebook in share:
            if notebook not in skip:
                log.record(GradeResult(notebook, "passed", 0.9, 1.0))
        if not (tmp_path / f"rows-{k}.json").exists():  # a share with nothing to grade still writes its file
            (tmp_path / f"rows-{k}.json").write_text(json.dumps({**log.header, "rows": []}))
        paths.append(tmp_path / f"rows-{k}.json")
    return paths


def test_merge_joins_the_shares_in_the_class_order(tmp_path, notebooks):
    paths = graded_shares(tmp_path, notebooks, 2)
    merged = gradebook.merge(list(reversed(paths)))
    assert [r.notebook for r in merged] == notebooks and all(r.passed for r in merged)
    four = graded_shares(tmp_path, notebooks, 4)  # more shares than notebooks: one share is empty
    assert [r.notebook for r in gradebook.merge(four)] == notebooks


def test_merge_refuses_what_is_not_the_shares_of_one_class(tmp_path, notebooks):
    paths = graded_shares(tmp_path, notebooks, 3)
    with pytest.raises(ValueError, match=r"share\(s\) 2/3 missing: grade them, then merge all 3"):
        gradebook.merge([paths[0], paths[2]])
    with pytest.raises(ValueError, match="are both share 1/3"):
        gradebook.merge([*paths, paths[0]])
    other = tmp_path / "other"
    other.mkdir()
    (other_rows,) = graded_shares(other, notebooks[:2], 1)
    with pytest.raises(ValueError, match="is a share of another class or number of shares"):
        gradebook.merge([*paths, other_rows])
    (tmp_path / "stopped").mkdir()
    stopped = graded_shares(tmp_path / "stopped", notebooks, 3, skip={notebooks[1]})
    with pytest.raises(ValueError, match=r"has no row for .*b.ipynb: grade that share again with --resume"):
        gradebook.merge(stopped)
    forged_file = tmp_path / "forged.json"
    content = json.loads(paths[0].read_text())
    content["shard"] = [2, 3]  # a share renamed: its header no longer matches its signature
    forged_file.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="cannot merge .*forged.json: its header is not signed"):
        gradebook.merge([forged_file, paths[0], paths[2]])


def test_resume_refuses_the_rows_file_of_another_share(tmp_path, notebooks):
    (rows_1,) = graded_shares(tmp_path, notebooks, 2)[:1]
    log = gradebook.ResultsLog(rows_1, gradebook.share_of(notebooks, (2, 2)), shard=(2, 2), class_notebooks=notebooks)
    with pytest.raises(ValueError, match=r"cannot resume from .*rows-1.json: it holds share 1/2, not 2/2"):
        log.load()
