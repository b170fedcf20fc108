"""What ``imdb-lab grade`` shows and writes for people: the table, the progress on stderr, the CSV gradebook, the
feedback pages and Gradescope's ``results.json``. Student text in them is the grader's rows' (``GradeResult``)."""

import csv
import html
import json
import re
from pathlib import Path

from imdb_lab.errors import LabTypeError, LabValueError, printable
from imdb_lab.files import atomic_write
from imdb_lab.grader.exercises import EXERCISES, TITLES
from imdb_lab.grader.records import USER
from imdb_lab.grader.statuses import one_line
from imdb_lab.progress import ProgressBar

CSV_COLUMNS = ("notebook", "student_id", "status", "accuracy", *(f"points_{name}" for name in EXERCISES), "score",
               "max_score", "seconds", "sandboxed")


# what Gradescope's results say, to the instructor only, of a notebook graded uncontained
UNCONTAINED = ("This submission ran uncontained, as the grader's own user: bubblewrap could not run here, and there "
               "is no account imdb-lab-notebook for notebooks to run as (the autograder's setup.sh creates it, as "
               "root). Its code could have written this result itself: grade it again where it is contained.")

# the lab's own file name: when every student hands in a file of that name, their folder names them
LAB_NAME = "IMDB_in_Keras"


# a cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def student_id(notebook, pattern=None):
    """Return the student id of ``notebook``: ``pattern``'s group ``id`` (or 1) in its path, else its file name."""
    path = Path(notebook)
    if pattern is None:
        return path.parent.name if path.stem == LAB_NAME and path.parent.name else path.stem
    if not isinstance(pattern, str):
        raise LabTypeError(f"the student id pattern must be a regular expression (str), not {type(pattern).__name__}")
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise LabValueError(f"the student id pattern {pattern!r} is not a regular expression: {error}") from None
    match = regex.search(path.as_posix())
    if match is None:
        raise LabValueError(f"the student id pattern {pattern!r} does not match {path.as_posix()}: fix the pattern")
    if "id" in regex.groupindex:
        return match.group("id")
    return match.group(1) if regex.groups else match.group(0)


def _number(value):
    return f"{value:g}"


def exercise_points(result):
    """Return ``{exercise: points}`` of a row."""
    return {e["exercise"]: e["points"] for e in result.exercises}


def _cell(text):
    text = printable(text)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


_CONTAINMENT_WORDS = {True: "yes", USER: "user", False: "no"}


def sandbox_word(result):
    """Return how a row says whether its notebook ran contained: yes (bubblewrap's sandbox), user (as the notebooks'
    own account), no, or - (it did not run)."""
    return _CONTAINMENT_WORDS.get(result.sandboxed, "-")


def write_csv(results, path, *, pattern=None):
    """Write the rows as a CSV gradebook (``CSV_COLUMNS``) to ``path``, atomically."""
    rows = []
    for r in results:
        earned = exercise_points(r)
        rows.append((_cell(r.notebook), _cell(student_id(r.notebook, pattern)), _cell(r.status),
                     "" if r.accuracy is None else f"{r.accuracy:.4f}",
                     *(_number(earned[name]) if name in earned else "" for name in EXERCISES),
                     _number(r.points), _number(r.max_points), f"{r.seconds:.1f}", sandbox_word(r)))
    with atomic_write(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)


def summary(result, *, target):
    """Return what a student reads first of a graded notebook: its measured accuracy against the target, or why it
    was not scored, and whether it ran without a sandbox."""
    if result.accuracy is None:
        text = f"Your notebook was not scored: {result.status}."
    else:
        verdict = "reaches" if result.passed else "does not reach"
        text = (f"The model your notebook trains has a test accuracy of {result.accuracy:.4f}, measured by the "
                f"grader; it {verdict} the target of {target:.2f}.")
    return text + (" (The notebook ran without a sandbox.)" if result.sandboxed is False else "")


def feedback_text(exercise_verdict, *, escape=printable):
    """Return an exercise's verdict as the student reads it: the verdict and message, then the hint on a line of its
    own; each of them passed through ``escape`` (default ``printable``: one line, no control character)."""
    text = f"{exercise_verdict['verdict'].capitalize()}: {escape(exercise_verdict['message'])}"
    if exercise_verdict.get("source") == "kernel":
        text += " (This part comes from what your notebook reported, not from the grader's own measurement.)"
    return f"{text}\nHint: {escape(exercise_verdict['hint'])}" if exercise_verdict.get("hint") else text


def gradescope_results(result, *, target):
    """Return Gradescope's autograder ``results.json`` content for one graded notebook: a test per exercise, the
    total score, and the accuracy on the leaderboard.

    Every output is declared plain text (``output_format``,
    ``test_output_format``): Gradescope then shows a message's HTML or
    Markdown as the characters they are, never as a heading or a link.
    """
    tests = [{
        "name": TITLES[e["exercise"]],
        "number": str(number),
        "score": float(e["points"]),
        "max_score": float(e["max_points"]),
        "status": "passed" if e["verdict"] == "correct" else "failed",
        "output": feedback_text(e),
        "visibility": "visible",
    } for number, e in enumerate(result.exercises, start=1)]
    content = {"score": float(result.points), "execution_time": int(round(result.seconds)),
               "output": printable(summary(result, target=target)), "output_format": "text",
               "test_output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}
    if result.sandboxed is False:
        # for the instructor only (a hidden test): this score rests on a notebook that could have written it
        tests.append({"name": "Containment", "score": 0.0, "max_score": 0.0, "status": "failed",
                      "output": UNCONTAINED, "visibility": "hidden"})
    if result.accuracy is not None:
        content["leaderboard"] = [{"name": "Test accuracy", "value": round(result.accuracy, 4), "order": "desc"}]
    return content


# what starts a construct in (CommonMark or GitHub's) Markdown wherever it stands in a line: a backslash makes each
# the character itself; <, > and & become HTML's entities, so that no tag reaches the page
_MARKDOWN = re.compile(r"([\\`*_\[\]#|~!])")


def markdown_text(text):
    """Return ``text`` (a notebook's, or quoting one) as Markdown that shows it as it is: one line, no control
    character, HTML's and Markdown's special characters escaped. No message can then add a heading, a link, an
    image or a tag to a feedback page."""
    return _MARKDOWN.sub(r"\\\1", html.escape(printable(text), quote=False))


def feedback_page(result, *, target):
    """Return the feedback page of one notebook as Markdown: its points, and each exercise's verdict and hint; every
    text a notebook can influence (its name, its status, the messages) escaped (``markdown_text``)."""
    lines = [f"# Feedback: {markdown_text(Path(result.notebook).name)}", "",
             f"**{_number(result.points)} of {_number(result.max_points)} points.** "
             + markdown_text(summary(result, target=target)), ""]
    for e in result.exercises:
        lines += [f"## {TITLES[e['exercise']]}: {_number(e['points'])} of {_number(e['max_points'])}", "",
                  feedback_text(e, escape=markdown_text).replace("\n", "  \n"), ""]
    return "\n".join(lines)


def write_feedback(results, folder, *, target, pattern=None):
    """Write one feedback page per notebook into ``folder``, named by student id (``ID.md``), atomically."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabValueError(f"no such folder for the feedback pages: {folder}")
    for result in results:
        name = re.sub(r"[^\w.-]", "_", student_id(result.notebook, pattern)) or "notebook"
        with atomic_write(folder / f"{name}.md", "w", encoding="utf-8") as file:
            file.write(feedback_page(result, target=target))


def write_gradescope(result, folder, *, target):
    """Write ``results.json`` for Gradescope into ``folder`` (e.g. /autograder/results), atomically."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabValueError(f"no such folder for the Gradescope results: {folder} (on Gradescope: /autograder/results)")
    with atomic_write(folder / "results.json", "w", encoding="utf-8") as file:
        json.dump(gradescope_results(result, target=target), file, indent=2)
        file.write("\n")


class Progress:
    """The grader's progress on stderr: a line per finished notebook, and on a terminal a bar under them."""

    def __init__(self, total, stream=None):
        self.passed = 0
        self.bar = ProgressBar("", total, "graded", stream=stream)

    def update(self, result):
        """Report one finished notebook."""
        self.passed += result.passed
        accuracy = "" if result.accuracy is None else f" {result.accuracy:.4f}"
        done = self.bar.done + 1
        line = printable(f"[{done}/{self.bar.total}] {result.notebook}: {result.status}{accuracy} "
                         f"({result.seconds:.1f} s)")
        self.bar.update(done, note=f"{self.passed} passed", line=line)

    def close(self):
        """Draw the final bar (as far as grading went)."""
        self.bar.close(complete=False)


def format_table(results):
    """Return the grade table (notebook, status, accuracy, the points of each exercise and in all, seconds,
    sandboxed) and a summary line, as text; a notebook's text in it has no control character (``printable``) and
    no run of spaces (``statuses.one_line``), so that no row can move the cursor, erase a line, or print another row or
    column."""
    header = ("notebook", "status", "accuracy", *EXERCISES, "points", "seconds", "sandboxed")
    rows = []
    for r in results:
        earned = exercise_points(r)
        rows.append((one_line(r.notebook), one_line(r.status), "-" if r.accuracy is None else f"{r.accuracy:.4f}",
                     *(_number(earned[name]) if name in earned else "-" for name in EXERCISES),
                     f"{_number(r.points)}/{_number(r.max_points)}", f"{r.seconds:.1f}", sandbox_word(r)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    left = {0, 1, len(header) - 1}  # text columns; numbers align right
    lines = ["  ".join(f"{cell:<{widths[i]}}" if i in left else f"{cell:>{widths[i]}}" for i, cell in enumerate(row))
             .rstrip() for row in [header, *rows]]
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} passed")
    return "\n".join(lines)
