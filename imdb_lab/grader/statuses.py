"""Every status a grade row can have, in one place: the README's table of statuses is checked against ``ROW_STATUSES``.

A row's status is a ``Status``: one of these words (its kind), alone or
followed by ``: detail`` (or, for a cell, its number), as the row shows it.
``EXPORTED`` and ``SCORED`` are what the runner and the scorer report to the
grader; the grader turns them into a row's status and never shows them.
"""

from imdb_lab.errors import describe, first_line, printable
from imdb_lab.memory import format_bytes

PASSED = "passed"
BELOW_TARGET = "below target"
ERROR_IN_CELL = "error in cell"
KERNEL_DIED = "kernel died"
KERNEL_ERROR = "kernel error"
TIMED_OUT = "timed out"
OVER_MEMORY = "over the memory limit"
OVER_DISK = "over the disk limit"
OVER_PROCESSES = "over the process limit"
NO_MODEL = "no model"
NOT_A_KERAS_MODEL = "not a Keras model"
NOT_EXPORTABLE = "model not exportable"
NOT_LOADABLE = "model not loadable safely"
NOT_SCORABLE = "model cannot be scored"
TAMPERED = "grading data was altered"
RUNNER_KILLED = "the notebook killed the process running it"
NOT_A_NOTEBOOK = "not a notebook"
GRADING_FAILED = "grading failed"

# an exercise's verdict, besides the checks' own words (correct, incorrect, not attempted): NOT_JUDGED when the
# notebook gave the grader nothing to judge it on; GRADER_FAILED when the grader itself failed while judging it,
# which is not the notebook's fault and costs nothing (its points are left out of the score)
NOT_JUDGED = "not judged"
GRADER_FAILED = "grader failed"
VERDICT_WORDS = ("correct", "incorrect", "not attempted", NOT_JUDGED, GRADER_FAILED)

# reported by the child processes, never a row's status
EXPORTED = "exported"
SCORED = "scored"

# (status, what follows it in a row, what it means), in the order of the README's table
ROW_STATUSES = (
    (PASSED, "", "the grader measured the model's test accuracy: at or above the target"),
    (BELOW_TARGET, "", "the grader measured the model's test accuracy: below the target"),
    (ERROR_IN_CELL, " N: Name: message", "cell In [N] of a fresh run raised"),
    (KERNEL_DIED, " in cell N", "the kernel died while running cell In [N] (or while exporting the model)"),
    (KERNEL_ERROR, ": Name: message", "the kernel could not be started or talked to"),
    (TIMED_OUT, "", "the notebook, its export or its scoring ran past `--timeout`"),
    (OVER_MEMORY, " (SIZE)", "its processes together used more than `--memory` (as the kernel counts it, where the "
                             "grader has a memory cgroup)"),
    (OVER_DISK, " (SIZE)", "its private folder grew past `--disk`, or its own tmpfs ran out of space or files"),
    (OVER_PROCESSES, " (N)", "it ran more than `--processes` processes at once"),
    (NO_MODEL, "", "the notebook defines no `model`"),
    (NOT_A_KERAS_MODEL, "", "its `model` is not a Keras model"),
    (NOT_EXPORTABLE, ": Name: message", "`model.save` failed"),
    (NOT_LOADABLE, ": Name: message",
     "the saved model needs code to be rebuilt (a custom layer, a `Lambda`), or is broken; or the export is not a "
     "regular file of 1 GiB at most, or an archive that unpacks past 1 GiB"),
    (NOT_SCORABLE, ": Name: message", "the model loaded but cannot read the lab's multi-hot test reviews"),
    (TAMPERED, ": message", "the test reviews the scorer read were not the grader's"),
    (RUNNER_KILLED, "", "the process running the notebook was killed from inside the notebook"),
    (NOT_A_NOTEBOOK, ": message", "the file is not a readable Jupyter notebook"),
    (GRADING_FAILED, ": message", "a grader process ended without a result: a bug or a broken installation"),
)


# what the runner may report: it runs the notebook, so a notebook can forge its report, and anything else (a
# "passed", a score) is not believed; a forged failure only fails the forger
RUNNER_STATUSES = (EXPORTED, NO_MODEL, NOT_A_KERAS_MODEL, TIMED_OUT, ERROR_IN_CELL, KERNEL_DIED, KERNEL_ERROR,
                   NOT_EXPORTABLE)


# what the scorer may report besides SCORED (its own checks' outcomes)
SCORER_STATUSES = (NOT_LOADABLE, NOT_SCORABLE, TAMPERED)


class Status(str):
    """A row's status as a value: its ``kind`` (a word of ``ROW_STATUSES``, or EXPORTED / SCORED) and its
    ``detail``, which is the text a row shows (a ``str``, so it is written, compared and shown as that text).

    The grader makes statuses with the functions below; ``Status.parse`` reads
    one back from text, where a status arrives from another process or a file.
    """

    def __new__(cls, kind, detail="", text=None):
        """Return the status of ``kind`` with ``detail``, shown as ``text`` (default ``kind: detail``): one line of
        printable characters and single spaces, wherever a notebook's text in it came from, so that it is the same
        text in the table (whose columns two spaces part), the CSV, the rows file and the feedback."""
        detail = one_line(detail)
        status = super().__new__(cls, one_line(text) if text is not None else (f"{kind}: {detail}" if detail else kind))
        status.kind, status.detail = kind, detail
        return status

    def __getnewargs__(self):
        """Return what ``copy`` and ``pickle`` make it again from."""
        return self.kind, self.detail, str(self)

    @classmethod
    def parse(cls, text):
        """Return the status that ``text`` shows, its kind the longest status word it starts with (None: no status
        the grader gives)."""
        word = max((word for word, _, _ in ROW_STATUSES if text == word or text.startswith((word + " ", word + ":"))),
                   key=len, default=None)
        return cls(word, text[len(word):].lstrip(" :") if word else text, text)


def one_line(text):
    """Return ``text`` with its control characters (``errors.printable``) and runs of spaces made single spaces."""
    return " ".join(printable(text).split())


def kind(status):
    """Return the kind of ``status``: a ``Status``'s own, or the status word that a text starts with (``error in
    cell 3: ...``: ``error in cell``), None for text that is no status the grader gives."""
    return status.kind if isinstance(status, Status) else Status.parse(status).kind


def from_runner(reported):
    """Return the status the runner ``reported`` (text), if it is one the runner gives, else a GRADING_FAILED one."""
    line = first_line(reported, limit=300) if isinstance(reported, str) else None  # an honest one is shorter
    if line == EXPORTED:
        return Status(EXPORTED)
    status = None if line is None else Status.parse(line)
    if status is not None and status.kind in RUNNER_STATUSES[1:]:
        return status
    return detailed(GRADING_FAILED, "the notebook runner reported a status it cannot give")


def detailed(status, detail):
    """Return ``status: detail``: a status with what caused it, in one line (an exception is described)."""
    return Status(status, describe(detail) if isinstance(detail, BaseException) else str(detail))


def error_in_cell(number, name, message):
    """Return the status of a notebook whose cell In [``number``] raised ``name``: ``message``."""
    return Status(ERROR_IN_CELL, f"{name}: {message}", f"{ERROR_IN_CELL} {number}: {name}: {message}")


def kernel_died_in_cell(number):
    """Return the status of a notebook whose kernel died in cell In [``number``]."""
    return Status(KERNEL_DIED, f"in cell {number}", f"{KERNEL_DIED} in cell {number}")


def over_memory(limit):
    """Return the status of a notebook stopped for using more than ``limit`` bytes."""
    size = format_bytes(limit, binary=True)
    return Status(OVER_MEMORY, size, f"{OVER_MEMORY} ({size})")


def over_disk(limit):
    """Return the status of a notebook stopped for writing more than ``limit`` bytes."""
    size = format_bytes(limit, binary=True)
    return Status(OVER_DISK, size, f"{OVER_DISK} ({size})")


def over_processes(limit):
    """Return the status of a notebook stopped for running more than ``limit`` processes at once."""
    return Status(OVER_PROCESSES, str(limit), f"{OVER_PROCESSES} ({limit})")
