"""Tests of imdb_lab.grader.reports: the table's cells, the CSV gradebook, the feedback pages, Gradescope's
``results.json`` and the progress."""

import csv
import io
import json
import re

import pytest

from conftest import accuracy_verdict, assert_gradescope_format, make_row
from imdb_lab.check.core import correct, incorrect
from imdb_lab.grader import reports
from imdb_lab.grader.exercises import EXERCISES, Rubric, verdict

RUBRIC = Rubric()
ALICE = [RUBRIC.award(verdict(name, correct(f"{name} is right"))) for name in EXERCISES[:3]] + [
    RUBRIC.award(accuracy_verdict(0.88123)),
    RUBRIC.award(verdict("prediction", incorrect("predict_sentiment gives classes", "return probabilities")))]
PASSED = make_row("class/alice.ipynb", "passed", 0.88123, 41.25, True, ALICE)
FAILED = make_row("class/bob.ipynb", "error in cell 3: NameError: name 'x' is not defined", None, 3.0, False)

@pytest.mark.parametrize("notebook, pattern, expected", [
    ("class/alice.ipynb", None, "alice"),
    ("submissions/bob/IMDB_in_Keras.ipynb", None, "bob"),
    ("IMDB_in_Keras.ipynb", None, "IMDB_in_Keras"),
    ("class/lab1_s1234_late.ipynb", r"_(?P<id>s\d+)_", "s1234"),
    ("class/lab1_s1234.ipynb", r"(s\d+)", "s1234"),
    ("class/s99.ipynb", r"s\d+", "s99"),
])
def test_student_id_from_the_file_name_or_a_pattern(notebook, pattern, expected):
    assert reports.student_id(notebook, pattern) == expected


def test_student_id_pattern_errors_say_what_to_fix():
    with pytest.raises(ValueError, match=r"pattern 's\\\\d\+' does not match class/alice.ipynb: fix the pattern"):
        reports.student_id("class/alice.ipynb", r"s\d+")
    with pytest.raises(ValueError, match=r"pattern '\(' is not a regular expression"):
        reports.student_id("class/alice.ipynb", "(")
    with pytest.raises(TypeError, match="must be a regular expression \\(str\\), not int"):
        reports.student_id("class/alice.ipynb", 5)


def test_csv_gradebook_has_the_documented_columns(tmp_path):
    path = tmp_path / "grades.csv"
    reports.write_csv([PASSED, FAILED], path)
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(reports.CSV_COLUMNS)
    assert rows[0] == {"notebook": "class/alice.ipynb", "student_id": "alice", "status": "passed",
                       "accuracy": "0.8812", "points_encoding": "1", "points_model": "1", "points_training": "1",
                       "points_accuracy": "6", "points_prediction": "0", "score": "9", "max_score": "10",
                       "seconds": "41.2", "sandboxed": "yes"}
    assert rows[1]["sandboxed"] == "no" and rows[1]["points_accuracy"] == "0" and rows[1]["max_score"] == "10"
    assert rows[1]["status"] == FAILED.status  # a comma-free message, kept whole
    assert (rows[1]["accuracy"], rows[1]["score"]) == ("", "0")
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_csv_gradebook_defuses_spreadsheet_formulas(tmp_path):
    path = tmp_path / "grades.csv"
    evil = make_row("class/=HYPERLINK(1).ipynb", "=1+1", None, 1.0)
    reports.write_csv([evil], path, pattern=r"(=\w+)")
    with open(path, newline="", encoding="utf-8") as file:
        row = next(csv.DictReader(file))
    assert row["status"] == "'=1+1"
    assert row["notebook"].startswith("class/")  # only a leading sign is a formula
    assert row["student_id"] == "'=HYPERLINK"


def test_gradescope_results_follow_the_autograder_format(tmp_path):
    reports.write_gradescope(PASSED, tmp_path, target=0.85)
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


def test_gradescope_results_of_a_notebook_that_was_not_scored():
    results = reports.gradescope_results(FAILED, target=0.85)
    assert_gradescope_format(results)
    assert results["score"] == 0.0 and "leaderboard" not in results
    assert results["output"] == f"Your notebook was not scored: {FAILED.status}. (The notebook ran without a sandbox.)"
    assert "sandbox" not in reports.gradescope_results(PASSED, target=0.85)["output"]
    assert {test["status"] for test in results["tests"]} == {"failed"}


@pytest.mark.parametrize("sandboxed, word", [(True, "yes"), ("user", "user"), (False, "no"), (None, "-")])
def test_every_row_says_how_it_was_contained_and_gradescope_tells_the_instructor_when_it_was_not(sandboxed, word):
    row = make_row("class/alice.ipynb", sandboxed=sandboxed)
    assert reports.sandbox_word(row) == word
    assert reports.format_table([row]).splitlines()[1].split()[-1] == word
    results = reports.gradescope_results(row, target=0.85)
    assert_gradescope_format(results)
    hidden = [test for test in results["tests"] if test["visibility"] == "hidden"]
    if sandboxed is False:  # the score may be the notebook's own writing: the instructor alone is told
        assert [test["name"] for test in hidden] == ["Containment"] and hidden[0]["max_score"] == 0
        assert "ran uncontained" in hidden[0]["output"] and results["score"] == row.points
    else:
        assert hidden == []


def test_feedback_pages_give_each_exercise_its_verdict_hint_and_points(tmp_path):
    reports.write_feedback([PASSED, FAILED], tmp_path, target=0.85)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alice.md", "bob.md"]
    page = (tmp_path / "alice.md").read_text()
    assert page.startswith("# Feedback: alice.ipynb\n\n**9 of 10 points.**")
    assert "## New reviews: predict_sentiment(texts): 0 of 1\n\nIncorrect: predict\\_sentiment gives classes  \n" \
           "Hint: return probabilities\n" in page
    assert "## Test accuracy, measured by the grader: 6 of 6" in page
    assert "Not judged: the grader had nothing to judge it on" in (tmp_path / "bob.md").read_text()
    with pytest.raises(ValueError, match="no such folder for the feedback pages"):
        reports.write_feedback([PASSED], tmp_path / "missing", target=0.85)


def test_gradescope_needs_an_existing_folder(tmp_path):
    with pytest.raises(ValueError, match="no such folder for the Gradescope results"):
        reports.write_gradescope(PASSED, tmp_path / "missing", target=0.85)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_prints_a_line_per_notebook_in_a_log():
    stream = io.StringIO()
    progress = reports.Progress(2, stream)
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
    progress = reports.Progress(4, stream)
    progress.update(PASSED)
    assert stream.getvalue().endswith("[=======.......................] 1/4 graded, 1 passed, 0.0 s")
    assert "\r\033[K[1/4] class/alice.ipynb: passed" in stream.getvalue()


def test_format_table_has_one_row_per_notebook_and_a_summary():
    results = [make_row("a.ipynb", "passed", 0.9123456, 12.34, True),
               make_row("b.ipynb", "no model", None, 1.0, False),
               make_row("c.ipynb", "not a notebook: a folder, not a notebook file", None, 0.0, None)]
    lines = reports.format_table(results).splitlines()
    assert lines[0].split() == ["notebook", "status", "accuracy", "encoding", "model", "training", "accuracy",
                                "prediction", "points", "seconds", "sandboxed"]
    assert lines[1].split() == ["a.ipynb", "passed", "0.9123", "1", "1", "1", "6", "1", "10/10", "12.3", "yes"]
    assert lines[2].split() == ["b.ipynb", "no", "model", "-", "0", "0", "0", "0", "0", "0/10", "1.0", "no"]
    assert lines[3].split()[-2:] == ["0.0", "-"]  # it did not run
    assert lines[4] == "1 of 3 passed"


def test_no_text_of_a_notebook_reaches_the_terminal_or_the_csv_with_a_control_character(tmp_path):
    # an error message that erases its line and prints a classmate's row, as a hostile notebook would raise it
    forged = "ValueError: x\r\x1b[2K\x1b[1Aclass/bob.ipynb  passed  0.9999\x9b31m\x07"
    row = make_row("class/eve\x1b[2J.ipynb", f"error in cell 2: {forged}", None, 2.0, True)
    lines = reports.format_table([row]).splitlines()
    assert len(lines) == 3 and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for line in lines for c in line)
    # nor a run of spaces, the table's column separator: the forged row stays inside its status cell
    assert len(re.split(r"\s{2,}", lines[1].strip())) == len(re.split(r"\s{2,}", lines[0].strip())) == 11
    stream = io.StringIO()
    progress = reports.Progress(1, stream=stream)
    progress.update(row)
    progress.close()
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue().replace("\r\n", "")
    reports.write_csv([row], tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as file:
        written = next(csv.DictReader(file))
    assert written["status"].startswith("error in cell 2: ValueError: x") and "\x1b" not in written["status"]
    assert "\r" not in written["status"] and "\x1b" not in written["notebook"]


# a message as a hostile notebook raises it: a forged heading and points, a script, a link, an image, emphasis
FORGED = ("ValueError: x\n\n## Test accuracy: 6 of 6\n<script>alert(1)</script><img src=x onerror=alert(2)> "
          "**full marks** [regrade here](http://evil.example) ![](http://evil.example/pixel.png) `code` | a | table |")


def test_no_text_of_a_notebook_becomes_markup_in_a_feedback_page_or_on_gradescope():
    import mistune  # the Markdown renderer Jupyter's nbconvert uses: what a page becomes where it is shown

    wrong = verdict("encoding", incorrect(FORGED, hint="a hint with [a link](http://x)"))
    row = make_row("class/<b>eve</b>.ipynb", f"error in cell 2: {FORGED}", None, 2.0, True,
                   exercises=[Rubric().award(wrong if name == "encoding" else verdict(name, correct("right")))
                              for name in EXERCISES])
    page = reports.feedback_page(row, target=0.85)
    rendered = mistune.html(page)
    headings = [line for line in rendered.splitlines() if line.startswith("<h")]
    assert len(headings) == 1 + len(EXERCISES)  # the page's own: none from a message
    assert not any("Test accuracy: 6 of 6" in heading for heading in headings)
    for markup in ("<script", "<img", "<a ", "<b>", "<strong>full", "<table", "<code>"):
        assert markup not in rendered, markup
    # what was escaped is still there to read, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered and "**full marks**" in rendered
    assert "[regrade here](http://evil.example)" in rendered
    results = reports.gradescope_results(row, target=0.85)
    assert_gradescope_format(results)
    assert results["output_format"] == results["test_output_format"] == "text"  # shown as the characters they are
    assert FORGED.replace("\n", " ") in results["output"] and "\n" not in results["output"]


def test_markdown_text_keeps_plain_words_and_numbers_as_they_are():
    assert reports.markdown_text("a test accuracy of 0.8883 (target 0.85).") == \
        "a test accuracy of 0.8883 (target 0.85)."
    assert reports.markdown_text("num_words=10000 *") == "num\\_words=10000 \\*"
