"""Grade student notebooks: run each one contained, export its ``model``, score that model in a clean process.

Nothing a notebook computes, prints or changes is believed. For each notebook:

1. Before any notebook runs, ``grading_data.prepare_grading_data`` encodes
   the data from the archive itself and writes the test reviews, with their
   SHA-256 kept in memory; it also checks the scoring process once.
2. The notebook runs in a private copy of its folder, with a private copy of
   the data cache, in a fresh kernel started by ``imdb_lab.grader.runner``
   (not by the grader: a kernel that kills its parent kills that runner, not
   the grader). The runner then saves the notebook's ``model`` and its
   ``num_words`` / ``skip_top``.
3. Every process the notebook started is killed when it ends: the runner and
   the grader adopt orphans on Linux (``imdb_lab.grader.processes``), so ``setsid``
   does not escape. The grader watches the memory of the whole process tree
   and the wall clock: one ``timeout`` and one ``memory`` limit cover the
   notebook, its export and its scoring.
4. ``imdb_lab.grader.scorer`` loads the exported model with ``safe_mode=True`` in a
   new, isolated interpreter and measures its accuracy on the verified test
   reviews. The grader stops if the archive or the scorer's code changed.
"""

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.errors import GradingDataError
from imdb_lab.grader import processes
from imdb_lab.grader.launch import run_scorer, runner_command
from imdb_lab.grader.statuses import (
    BELOW_TARGET, EXPORTED, GRADING_FAILED, NOT_A_NOTEBOOK, PASSED, RUNNER_KILLED, SCORED, detailed, from_runner,
)
from imdb_lab.grader.trusted_data import SharedCache, prepare_grading_data
from imdb_lab.models.evaluation import TARGET

DEFAULT_TIMEOUT = 1800.0
DEFAULT_MEMORY = 4 * 2**30
__all__ = ["GradeResult", "grade_notebook", "grade_notebooks"]


@dataclasses.dataclass
class GradeResult:
    """One notebook's row: its name, status, accuracy on the test set (or None) and seconds taken."""

    notebook: str
    status: str
    accuracy: float | None
    seconds: float

    @property
    def passed(self):
        """True when the notebook's model reached the target."""
        return self.status == PASSED

    def as_dict(self):
        """Return the row as a JSON-ready dict (notebook, status, accuracy, seconds)."""
        return dataclasses.asdict(self)


def _validate_limits(timeout, memory, target):
    valid_number("timeout (seconds)", timeout, low=0, include_low=False)
    valid_int("memory (bytes)", memory, minimum=2**20, hint="of bytes, at least 1 MiB")
    valid_number("target (an accuracy)", target, low=0, high=1)


def refusal(path):
    """Return why the grader refuses to run ``path`` (a path given as a notebook), or None to run it.

    A symbolic link (or a path through one) could point at anything, a
    classmate's notebook or a system file; a folder or a device is no notebook.
    """
    path = Path(path)
    if path.is_symlink():
        return "a symbolic link: hand in the notebook file itself"
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "a folder, not a notebook file"
    if Path(os.path.abspath(path)) != path.resolve():
        return "its path goes through a symbolic link: give the folder's real path"
    if not path.is_file():
        return "not a regular file"
    return None


def _unreadable(error):
    """Return why a notebook file could not be read, in words of our own: never the file's content."""
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, ValueError) and type(error).__name__ in ("NotJSONError", "JSONDecodeError"):
        return "not JSON"
    if isinstance(error, OSError):
        return f"cannot be read ({type(error).__name__})"
    return f"not a Jupyter notebook ({type(error).__name__})"


def _private_folder(notebook, scratch, others):
    """Copy the notebook's folder into ``scratch/work`` (classmates' notebooks left out); return the copy's path.

    Symbolic links are left out: one that points outside the folder would let
    the notebook read or overwrite what it points at (a classmate's folder).
    """
    work = scratch / "work"
    skip = {Path(other).resolve() for other in others} - {notebook.resolve()}

    def ignore(folder, names):
        paths = {name: Path(folder) / name for name in names}
        return [name for name, path in paths.items() if path.is_symlink() or path.resolve() in skip
                or name in (".ipynb_checkpoints", "__pycache__")]

    shutil.copytree(notebook.parent, work, symlinks=True, ignore=ignore)
    return work / notebook.name


def _environment(scratch, data):
    """Return the kernel's environment: the grader's, with the data, caches and temporary files made private."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("IMDB_LAB_")}
    folders = {"KERAS_HOME": "keras", "TMPDIR": "tmp", "IPYTHONDIR": "ipython", "JUPYTER_RUNTIME_DIR": "runtime",
               "MPLCONFIGDIR": "matplotlib", "IMDB_LAB_CACHE": "cache"}
    for name, folder in folders.items():
        (scratch / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(scratch / folder)
    if data.source is None:
        data.copy_kernel_file(scratch / "keras" / "datasets" / "imdb.npz")
    else:
        env["IMDB_LAB_DATA"] = str(data.source)
        data.copy_kernel_file(scratch / "cache" / data.kernel_file.name)
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    return env


def grade_notebook(path, *, timeout=DEFAULT_TIMEOUT, target=TARGET, memory=DEFAULT_MEMORY, data=None, others=()):
    """Run the notebook at ``path`` contained, score the model it exports; return a GradeResult.

    ``timeout`` seconds and ``memory`` bytes cover the whole of it: the
    notebook's cells get all but min(60 s, a quarter) of the time, the export
    and the scoring the rest. ``data``: from ``prepare_grading_data``, made
    once per run (made here when None). ``others``: the other notebooks being
    graded, left out of this one's private folder. This process becomes a
    subreaper (Linux) and kills its child processes that the grader did not
    start: call it from a process of its own, as ``imdb-lab grade`` does.
    """
    _validate_limits(timeout, memory, target)
    path = Path(path)
    started = time.monotonic()
    refused = refusal(path)
    if refused is not None:
        return GradeResult(str(path), detailed(NOT_A_NOTEBOOK, refused), None, 0.0)
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - a broken file is a row, not a crash
        return GradeResult(str(path), detailed(NOT_A_NOTEBOOK, _unreadable(error)), None, 0.0)
    processes.become_subreaper()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-", ignore_cleanup_errors=True) as folder:
        if data is None:
            (Path(folder) / "data").mkdir()
            data = prepare_grading_data(Path(folder) / "data")
            started = time.monotonic()  # preparing the data is not the notebook's time
        status, accuracy = _grade_contained(path, Path(folder), data, started + timeout, memory, others)
    if status == SCORED:
        status = PASSED if accuracy >= target else BELOW_TARGET
    return GradeResult(str(path), status, accuracy, round(time.monotonic() - started, 1))


def _grade_contained(path, scratch, data, deadline, memory, others):
    """Run, export and score one notebook inside ``scratch``; return ``(status, accuracy)``."""
    budget = deadline - time.monotonic()
    reserve = min(60.0, budget / 4)  # for exporting and scoring the model
    export = scratch / "export"
    export.mkdir()
    config = {"notebook": str(_private_folder(path, scratch, others)), "workdir": str(scratch / "work"),
              "export_dir": str(export), "status_path": str(scratch / "status.json"),
              "cells_seconds": budget - reserve, "export_seconds": reserve / 3}
    (scratch / "config.json").write_text(json.dumps(config), encoding="utf-8")
    command = runner_command(scratch / "config.json")
    run_deadline = min(deadline, time.monotonic() + budget - reserve * 2 / 3 + 10)
    outcome, code, _ = processes.run_watched(command, run_deadline, memory, env=_environment(scratch, data),
                                             cwd=scratch)
    data.check_unchanged(path)
    if outcome is not None:
        return outcome, None
    try:
        status = from_runner(json.loads((scratch / "status.json").read_text(encoding="utf-8"))["status"])
    except (OSError, ValueError, KeyError, TypeError):
        exited = detailed(GRADING_FAILED, f"the notebook runner exited with {code}")
        status = RUNNER_KILLED if code and code < 0 else exited
    if status != EXPORTED:
        return str(status), None
    result = run_scorer([export / "model.keras", export / "settings.json", data.test_path, data.test_sha256],
                        scratch / "scorer", deadline, memory)
    return result["status"], result.get("accuracy")


def grade_notebooks(paths, *, jobs=1, on_result=None, exclude=(), **limits):
    """Grade ``paths`` with ``jobs`` notebooks at a time; return their GradeResults in the order given.

    ``on_result(index, result)`` is called as each notebook finishes (from a
    worker thread). ``limits``: ``timeout``, ``target``, ``memory`` of
    ``grade_notebook``; ``exclude``: more notebooks to leave out of private
    folders. The data is prepared once, before any notebook runs.
    Raises GradingDataError (once the notebooks in flight are done; its
    ``results`` holds the rows so far, None where not graded) if the data
    archive or the scorer's code changed under the grader, or (with
    ``results`` None) if the scorer does not work on this machine. Process-wide: this
    process becomes a subreaper and stops writing bytecode (see grade_notebook).
    """
    paths = [Path(path) for path in paths]
    _validate_limits(limits.get("timeout", DEFAULT_TIMEOUT), limits.get("memory", DEFAULT_MEMORY),
                  limits.get("target", TARGET))
    valid_int("jobs", jobs, minimum=1)
    processes.become_subreaper()
    sys.dont_write_bytecode = True  # a .pyc this process wrote would look like a change to the scorer's code
    results = [None] * len(paths)
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-", ignore_cleanup_errors=True) as folder:
        (Path(folder) / "data").mkdir()
        data = prepare_grading_data(Path(folder) / "data")
        shared_cache = SharedCache(data)

        def grade(index):
            if stop.is_set():
                return
            try:
                result = grade_notebook(paths[index], data=data, others=[*paths, *exclude], **limits)
            except GradingDataError:
                stop.set()
                raise
            results[index] = result
            if on_result is not None:
                on_result(index, result)

        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(grade, index) for index in range(len(paths))]
            for future in futures:
                try:
                    future.result()
                except GradingDataError as error:
                    raise GradingDataError(str(error), results=results) from error
        finally:
            shared_cache.restore()
    return results
