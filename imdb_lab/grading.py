"""Grade student notebooks: run each one contained, export its ``model``, score that model in a clean process.

Nothing a notebook computes, prints or changes is believed. For each notebook:

1. Before any notebook runs, ``prepare_grading_data`` encodes the data from
   the archive itself (not from a cache a notebook could have rewritten) and
   writes the test reviews to the grader's folder with their SHA-256, kept in
   memory.
2. The notebook runs in a private copy of its folder, with a private copy of
   the data cache, in a fresh kernel started by ``imdb_lab.notebook_run``
   (not by the grader: a kernel that kills its parent kills that runner, not
   the grader). The runner then saves the notebook's ``model`` and its
   ``num_words`` / ``skip_top``.
3. Every process the notebook started is killed when it ends; the runner and
   the grader adopt orphans on Linux (``imdb_lab.processes``), so ``setsid``
   does not escape. The memory of the whole process tree and the wall clock
   are watched from the grader: one ``timeout`` and one ``memory`` limit cover
   the notebook, its export and its scoring.
4. ``imdb_lab.scoring`` loads the exported model with ``safe_mode=True`` in a
   new interpreter (``python -I -S``, the grader's import path) and measures its
   accuracy on the verified test reviews.
"""

import dataclasses
import hashlib
import json
import math
import numbers
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from imdb_lab import processes
from imdb_lab.evaluation import TARGET
from imdb_lab.files import atomic_path, atomic_write
from imdb_lab.notebook_run import EXPORTED, NO_MODEL, NOT_A_KERAS_MODEL, TIMED_OUT, one_line
from imdb_lab.scoring import SCORED

PASSED = "passed"
BELOW_TARGET = "below target"
OVER_MEMORY = "over the memory limit"
RUNNER_KILLED = "the notebook killed the process running it"
DATA_ALTERED = "the data archive changed while this notebook ran"
DEFAULT_TIMEOUT = 1800.0
DEFAULT_MEMORY = 4 * 2**30
# all words: the grader's copy of the test reviews; each notebook's num_words is applied when scoring
_ALL_WORDS = 2**31 - 1
_POLL_SECONDS = 0.1
_RESULT_PREFIX = "IMDB_LAB_SCORE "
__all__ = ["GradeResult", "GradingData", "prepare_grading_data", "grade_notebook", "grade_notebooks",
           "format_table", "write_json_atomically", "NO_MODEL", "NOT_A_KERAS_MODEL", "TIMED_OUT"]


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


@dataclasses.dataclass
class GradingData:
    """What the grader prepared before any notebook ran: its folder, the data for kernels, the test reviews."""

    folder: Path
    source: Path | None  # the archive or aclImdb folder; None: Keras's imdb.npz
    source_key: dict | None  # the source's fingerprint, to notice a notebook changing it
    kernel_file: Path  # the data cache (or imdb.npz) each notebook gets a copy of
    kernel_file_sha256: str
    test_path: Path
    test_sha256: str


class GradingDataError(RuntimeError):
    """The grader's own data changed under it: the run stops, since later scores could not be trusted."""


def _check_limits(timeout, memory, target):
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0 or math.isinf(timeout):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(memory, bool) or not isinstance(memory, numbers.Integral) or memory < 2**20:
        raise ValueError(f"memory must be a number of bytes (at least 1 MiB), got {memory!r}")
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not 0 <= target <= 1:
        raise ValueError(f"target must be an accuracy between 0 and 1, got {target!r}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_grading_data(folder):
    """Encode the data the grader trusts into ``folder`` (one per run, before any notebook); return GradingData."""
    from imdb_lab import archive, cache, data
    from imdb_lab.scoring import write_test_data

    folder = Path(folder)
    source = data.resolve_source()
    if source is None:  # Keras's download, which keras.utils.get_file checks against its published hash
        npz = data.prepare()
        kernel_file = Path(shutil.copyfile(npz, folder / "imdb.npz"))
        _, test = data.load_flat(num_words=_ALL_WORDS)
        key = None
    else:
        kind, dataset = archive.find_dataset(source)
        key = data.cache_key(kind, dataset)
        # from the archive itself: a cache in a shared folder could have been rewritten by an earlier notebook
        encoded = archive.encode_dataset(kind, dataset)
        kernel_file = cache.cache_path(dataset, folder / "cache")
        cache.save(kernel_file, encoded, key)
        _, test = data.flat_splits(encoded, num_words=_ALL_WORDS)
        source = dataset
    test_path = folder / "test.npz"
    return GradingData(folder, source, key, kernel_file, _sha256(kernel_file), test_path,
                       write_test_data(test, test_path))


def _copy_verified(source, target, sha256):
    """Copy ``source`` to ``target``, checking on the way that its SHA-256 is still ``sha256``."""
    digest = hashlib.sha256()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as reader, open(target, "wb") as writer:
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            digest.update(chunk)
            writer.write(chunk)
    if digest.hexdigest() != sha256:
        raise GradingDataError(f"the grader's copy of the data ({source}) changed during grading")


def _source_changed(data):
    from imdb_lab import archive, data as data_module

    if data.source is None:
        return False
    try:
        return data_module.cache_key(*archive.find_dataset(data.source)) != data.source_key
    except (OSError, ValueError):
        return True


class _Started:
    """The processes the grader started and still waits for: spared when it kills what notebooks left behind."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pids = set()

    def popen(self, command, **kwargs):
        """Start ``command`` as a registered process (new session) and return its Popen."""
        with self.lock:  # no stray-killing between the fork and the registration
            process = subprocess.Popen(command, start_new_session=True, **kwargs)
            self.pids.add(process.pid)
        return process

    def finished(self, process):
        """Forget ``process`` (waited for), then kill whatever it left behind."""
        with self.lock:
            self.pids.discard(process.pid)
            if processes.CONTAINED:
                # orphans of a killed runner were adopted by this (subreaper) process: none may live on
                processes.kill_descendants(spare=tuple(self.pids))


_STARTED = _Started()


def _watch(process, deadline, memory):
    """Wait for ``process`` within ``deadline`` and ``memory`` (its whole tree); return None, TIMED_OUT or OVER_MEMORY."""
    while True:
        try:
            process.wait(timeout=_POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            outcome = TIMED_OUT
        elif processes.resident_bytes([process.pid, *processes.descendants(process.pid)]) > memory:
            outcome = f"{OVER_MEMORY} ({memory / 2**30:.1f} GiB)"
        else:
            continue
        if processes.CONTAINED:
            processes.kill_descendants(process.pid)
        else:
            processes.kill_group(process.pid)
        process.kill()
        process.wait()
        return outcome


def _run_watched(command, deadline, memory, **kwargs):
    """Run ``command`` under the limits; return ``(outcome, returncode, stdout)``."""
    process = _STARTED.popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, **kwargs)
    output = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)
    reader.start()
    try:
        outcome = _watch(process, deadline, memory)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        _STARTED.finished(process)
    reader.join(timeout=5)
    return outcome, process.returncode, b"".join(output).decode("utf-8", "replace")


def _private_folder(notebook, scratch, others):
    """Copy the notebook's folder into ``scratch/work`` (classmates' notebooks left out); return the copy's path."""
    work = scratch / "work"
    skip = {Path(other).resolve() for other in others} - {notebook.resolve()}

    def ignore(folder, names):
        return [name for name in names if (Path(folder) / name).resolve() in skip
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
        _copy_verified(data.kernel_file, scratch / "keras" / "datasets" / "imdb.npz", data.kernel_file_sha256)
    else:
        env["IMDB_LAB_DATA"] = str(data.source)
        _copy_verified(data.kernel_file, scratch / "cache" / data.kernel_file.name, data.kernel_file_sha256)
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    return env


def scorer_path():
    """Return the import path of the scorer: the grader's, without the current folder, where notebooks may write."""
    here = Path.cwd().resolve()
    package_root = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in sys.path if p and Path(p).exists() and Path(p).resolve() != here]
    return [package_root, *[p for p in paths if p != package_root]]


def scorer_command(export, data):
    """Return the command of the clean scoring process: isolated mode, no site hooks (.pth files), fixed path."""
    boot = ("import json, sys; sys.path[:] = json.loads(sys.argv.pop(1)); "
            "from imdb_lab.scoring import main; sys.exit(main())")
    return [sys.executable, "-I", "-S", "-B", "-c", boot, json.dumps(scorer_path()),
            str(export / "model.keras"), str(export / "settings.json"), str(data.test_path), data.test_sha256]


def _scorer_environment(scratch):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "IMDB_LAB_", "LD_PRELOAD"))}
    for name in ("HOME", "TMPDIR", "KERAS_HOME", "MPLCONFIGDIR"):
        env[name] = str(scratch / "scorer")
    (scratch / "scorer").mkdir(exist_ok=True)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def _score(export, data, scratch, deadline, memory):
    """Score the exported model in a clean process; return ``(status, accuracy)``."""
    outcome, code, stdout = _run_watched(scorer_command(export, data), deadline, memory,
                                         env=_scorer_environment(scratch), cwd=scratch / "scorer")
    if outcome is not None:
        return outcome, None
    lines = [line for line in stdout.splitlines() if line.startswith(_RESULT_PREFIX)]
    if code != 0 or not lines:
        return f"grading failed: the scorer exited with code {code}", None
    result = json.loads(lines[-1][len(_RESULT_PREFIX):])
    return result["status"], result["accuracy"]


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
    import nbformat

    _check_limits(timeout, memory, target)
    path = Path(path)
    started = time.monotonic()
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - a broken file is a row, not a crash
        return GradeResult(str(path), f"not a notebook: {one_line(error)}", None, 0.0)
    processes.become_subreaper()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-") as folder:
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
    command = [sys.executable, "-m", "imdb_lab.notebook_run", str(scratch / "config.json")]
    run_deadline = min(deadline, time.monotonic() + budget - reserve * 2 / 3 + 10)
    outcome, code, _ = _run_watched(command, run_deadline, memory, env=_environment(scratch, data), cwd=scratch)
    if _source_changed(data):
        raise GradingDataError(f"{DATA_ALTERED}: {path}")
    if outcome is not None:
        return outcome, None
    try:
        status = json.loads((scratch / "status.json").read_text(encoding="utf-8"))["status"]
    except (OSError, ValueError, KeyError, TypeError):
        status = RUNNER_KILLED if code and code < 0 else f"grading failed: the notebook runner exited with {code}"
    if status != EXPORTED:
        return str(status), None
    return _score(export, data, scratch, deadline, memory)


def grade_notebooks(paths, *, jobs=1, on_result=None, **limits):
    """Grade ``paths`` with ``jobs`` notebooks at a time; return their GradeResults in the order given.

    ``on_result(index, result)`` is called as each notebook finishes (from a
    worker thread). ``limits``: ``timeout``, ``target``, ``memory`` of
    ``grade_notebook``. The data is prepared once, before any notebook runs.
    Raises GradingDataError (after the notebooks in flight) if the data
    archive changed under the grader.
    """
    from concurrent.futures import ThreadPoolExecutor

    paths = [Path(path) for path in paths]
    _check_limits(limits.get("timeout", DEFAULT_TIMEOUT), limits.get("memory", DEFAULT_MEMORY),
                  limits.get("target", TARGET))
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    processes.become_subreaper()
    results = [None] * len(paths)
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-") as folder:
        (Path(folder) / "data").mkdir()
        data = prepare_grading_data(Path(folder) / "data")
        shared_cache = _SharedCache(data)

        def grade(index):
            if stop.is_set():
                return
            try:
                result = grade_notebook(paths[index], data=data, others=paths, **limits)
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
                future.result()  # re-raises a GradingDataError
        finally:
            shared_cache.restore()
    return results


class _SharedCache:
    """The user's own data cache: if a notebook rewrote it during grading, the grader's copy replaces it."""

    def __init__(self, data):
        from imdb_lab import cache

        self.data = data
        self.path = None if data.source is None else cache.cache_path(data.source)
        self.before = self._digest()

    def _digest(self):
        try:
            return None if self.path is None else _sha256(self.path)
        except OSError:
            return None

    def restore(self):
        """Put the grader's data back if the cache changed since grading began; return True if it did."""
        import warnings

        if self.path is None or self._digest() == self.before:
            return False
        with atomic_path(self.path) as temporary:
            _copy_verified(self.data.kernel_file, temporary, self.data.kernel_file_sha256)
        warnings.warn(f"a notebook rewrote the data cache {self.path} during grading: it was restored from the "
                      "grader's own encoding of the archive", stacklevel=3)
        return True


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


def write_json_atomically(data, path):
    """Write ``data`` as JSON to ``path`` through a temporary file and os.replace."""
    with atomic_write(path, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
