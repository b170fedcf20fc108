"""What ``imdb-lab grade`` shows and writes: the table, the rows file it resumes from, a CSV gradebook, Gradescope's
``results.json``, and the progress on stderr."""

import csv
import json
import re
import threading
from pathlib import Path

from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.files import atomic_write, sha256_file
from imdb_lab.grader.grading import GradeResult
from imdb_lab.progress import ProgressBar

CSV_COLUMNS = ("notebook", "student_id", "status", "accuracy", "score", "seconds")
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


def points(result):
    """Return the points of a row: 1 when the model passed, else 0."""
    return 1 if result.passed else 0


def _cell(text):
    return f"'{text}" if str(text).startswith(_FORMULA_START) else str(text)


def write_csv(results, path, *, pattern=None):
    """Write the rows as a CSV gradebook (``CSV_COLUMNS``) to ``path``, atomically."""
    rows = [(_cell(r.notebook), _cell(student_id(r.notebook, pattern)), _cell(r.status),
             "" if r.accuracy is None else f"{r.accuracy:.4f}", points(r), f"{r.seconds:.1f}") for r in results]
    with atomic_write(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)


def gradescope_results(result, *, target):
    """Return Gradescope's autograder ``results.json`` content for one graded notebook."""
    if result.accuracy is None:
        summary = f"Your notebook was not scored: {result.status}."
    else:
        verdict = "reaches" if result.passed else "does not reach"
        summary = (f"The model your notebook trains has a test accuracy of {result.accuracy:.4f}, measured by the "
                   f"grader; it {verdict} the target of {target:.2f}.")
    score = float(points(result))
    return {
        "score": score,
        "execution_time": int(round(result.seconds)),
        "output": summary,
        "tests": [{
            "name": f"Test accuracy of the notebook's model (target {target:.2f})",
            "score": score,
            "max_score": 1.0,
            "status": "passed" if result.passed else "failed",
            "output": f"{result.status}" + ("" if result.accuracy is None else f": {result.accuracy:.4f}"),
        }],
    }


def write_gradescope(result, folder, *, target):
    """Write ``results.json`` for Gradescope into ``folder`` (e.g. /autograder/results), atomically."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabValueError(f"no such folder for the Gradescope results: {folder} (on Gradescope: /autograder/results)")
    with atomic_write(folder / "results.json", "w", encoding="utf-8") as file:
        json.dump(gradescope_results(result, target=target), file, indent=2)
        file.write("\n")


def notebook_sha256(path):
    """Return the SHA-256 of the notebook file's bytes: a changed notebook is graded again."""
    return sha256_file(path)


class ResultsLog:
    """The rows file (``--json``), rewritten atomically after each notebook; ``--resume`` skips what it holds."""

    KEYS = ("notebook", "status", "accuracy", "seconds", "notebook_sha256")

    def __init__(self, path, notebooks):
        self.path = Path(path)
        self.notebooks = [str(notebook) for notebook in notebooks]
        self.rows = {}  # notebook as given -> row
        self.lock = threading.Lock()

    def load(self):
        """Return {notebook: GradeResult} of the rows already in the file whose notebook has not changed since."""
        if not self.path.exists():
            return {}
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(rows, list) or not all(isinstance(row, dict) and set(row) == set(self.KEYS)
                                                     for row in rows):
                raise LabValueError("not a list of grade rows with their notebook_sha256")
        except (ValueError, UnicodeDecodeError) as error:
            raise LabValueError(f"cannot resume from {self.path}: {error}; give another --json file, or grade "
                                "without --resume to start again") from None
        by_path = {Path(row["notebook"]).resolve(): row for row in rows}
        finished = {}
        for notebook in self.notebooks:
            row = by_path.get(Path(notebook).resolve())
            if row is not None and row["notebook_sha256"] == notebook_sha256(notebook):
                finished[notebook] = GradeResult(notebook, row["status"], row["accuracy"], row["seconds"])
                self.rows[notebook] = {**row, "notebook": notebook}
        return finished

    def record(self, result):
        """Add ``result``'s row and rewrite the file (rows in the order the notebooks were given)."""
        row = {**result.as_dict(), "notebook_sha256": notebook_sha256(result.notebook)}
        with self.lock:
            self.rows[result.notebook] = row
            ordered = [self.rows[notebook] for notebook in self.notebooks if notebook in self.rows]
            with atomic_write(self.path, "w", encoding="utf-8") as file:
                json.dump(ordered, file, indent=2)
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
        line = f"[{done}/{self.bar.total}] {result.notebook}: {result.status}{accuracy} ({result.seconds:.1f} s)"
        self.bar.update(done, note=f"{self.passed} passed", line=line)

    def close(self):
        """Draw the final bar (as far as grading went)."""
        self.bar.close(complete=False)


def format_table(results):
    """Return the grade table (notebook, status, accuracy, seconds) and a summary line, as text."""
    header = ("notebook", "status", "accuracy", "seconds")
    rows = [
        (r.notebook, r.status, "-" if r.accuracy is None else f"{r.accuracy:.4f}", f"{r.seconds:.1f}")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = []
    for row in [header, *rows]:
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} passed")
    return "\n".join(lines)
