"""Grade student notebooks: run each one contained, export its ``model``, score that model in a clean process.

Nothing a notebook computes, prints or changes is believed. For each notebook:

1. Before any notebook runs, ``grading_data.prepare_grading_data`` encodes
   the data from the archive itself and writes the test reviews, with their
   SHA-256 kept in memory; it also checks the scoring process once.
2. The notebook runs in its box: a private copy of its folder, a private
   copy of the data without the test reviews, in a fresh kernel started by
   ``imdb_lab.grader.runner`` (not by the grader: a kernel that kills its
   parent kills that runner, not the grader). Where the machine can, runner
   and kernel run in a sandbox that sees nothing else (``imdb_lab.grader.sandbox``).
   The runner then saves the notebook's ``model`` and its ``num_words`` / ``skip_top``.
3. Every process the notebook started is killed when it ends: the runner and
   the grader adopt orphans on Linux (``imdb_lab.grader.processes``), so ``setsid``
   does not escape. The grader watches the memory and the number of the
   processes, the box's size on disk and the wall clock: one ``timeout`` and
   one ``memory`` limit cover the notebook, its export and its scoring.
4. ``imdb_lab.grader.scorer`` loads the exported model with ``safe_mode=True`` in a
   new, isolated interpreter and measures its accuracy on the verified test
   reviews. The grader stops if the archive or the scorer's code changed.
"""

import dataclasses
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.backend import keras_home
from imdb_lab.check.graded import Evidence
from imdb_lab.data import cache
from imdb_lab.errors import GradingDataError, RecordError, SandboxError
from imdb_lab.grader import filesystems
from imdb_lab.grader import processes as processes_module
from imdb_lab.grader import records
from imdb_lab.grader import sandbox as sandbox_module
from imdb_lab.grader.exercises import EXERCISES, REGISTRY, Rubric, grader_failed, not_judged, verdict
from imdb_lab.grader.launch import run_scorer, runner_command
from imdb_lab.grader.processes import DEFAULT_DISK, DEFAULT_MEMORY, DEFAULT_PROCESSES, DEFAULT_TIMEOUT
from imdb_lab.grader.records import (
    SCORER_EXERCISES, GradeResult, RunnerConfig, RunnerReport, ScorerRequest, ScorerResult,
)
from imdb_lab.grader.statuses import (
    BELOW_TARGET, EXPORTED, GRADING_FAILED, NO_MODEL, NOT_A_KERAS_MODEL, NOT_A_NOTEBOOK, NOT_LOADABLE, PASSED,
    RUNNER_KILLED, SCORED, Status, detailed, from_runner,
)
from imdb_lab.grader.scorer import MAX_MODEL_BYTES
from imdb_lab.grader.trusted_data import KERNEL_FILE, SharedCache, prepare_grading_data
from imdb_lab.models.evaluation import TARGET
from imdb_lab.untrusted import copy_regular

# what of the grader's environment a kernel gets, by exact name: how to run (the locale, the backend and its
# threads), never a secret: a cell's error message reaches the student, and other tools share the prefixes
# (Terraform's TF_TOKEN_... and TF_VAR_... are no TensorFlow settings)
KERNEL_ENV = (
    "PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "LANG", "LANGUAGE", "TZ", "KERAS_BACKEND",
    "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC", "LC_TIME",
    "TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS", "TF_FORCE_GPU_ALLOW_GROWTH", "TF_XLA_FLAGS", "TF_DETERMINISTIC_OPS",
    "XLA_FLAGS", "JAX_PLATFORMS", "JAX_ENABLE_X64", "JAX_TRACEBACK_FILTERING",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "TORCH_NUM_THREADS",
    "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
)
__all__ = ["GradeResult", "grade_notebook", "grade_notebooks"]


def _validate_limits(timeout=DEFAULT_TIMEOUT, memory=DEFAULT_MEMORY, target=TARGET, disk=DEFAULT_DISK,
                     processes=DEFAULT_PROCESSES):
    valid_number("timeout (seconds)", timeout, low=0, include_low=False)
    valid_int("memory (bytes)", memory, minimum=2**20, hint="of bytes, at least 1 MiB")
    valid_number("target (an accuracy)", target, low=0, high=1)
    valid_int("disk (bytes)", disk, minimum=2**20, hint="of bytes, at least 1 MiB")
    valid_int("processes", processes, minimum=4, hint="of processes at once, at least 4 (the runner and its kernel)")


def use_sandbox(choice=None):
    """Return how notebooks are contained: True (bubblewrap's sandbox), ``sandbox.USER`` (run as the unprivileged
    ``sandbox.NOTEBOOK_USER``, where bubblewrap cannot run and the grader is root) or False (uncontained).

    ``choice`` True requires either containment (SandboxError, saying why
    neither can be had, if the machine gives none), ``sandbox.USER`` that
    one, False runs without; None (the default) takes the first the machine
    gives.
    """
    if choice not in (None, True, False, sandbox_module.USER):
        raise TypeError(f"sandbox must be True, False, None or {sandbox_module.USER!r}, not {choice!r}")
    if choice is False:
        return False
    if choice == sandbox_module.USER:
        if sandbox_module.user_unavailable():
            raise SandboxError(f"cannot grade as {sandbox_module.NOTEBOOK_USER}: {sandbox_module.user_unavailable()}")
        return sandbox_module.USER
    reason = sandbox_module.unavailable()
    if reason is None:
        return True
    if sandbox_module.notebook_user() is not None:
        return sandbox_module.USER
    if choice:
        raise SandboxError(f"cannot grade in a sandbox: {reason}; nor as {sandbox_module.NOTEBOOK_USER}: "
                           f"{sandbox_module.user_unavailable()}")
    return False


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

    Only regular files and folders are copied. Symbolic links are left out:
    one that points outside the folder would let the notebook read or
    overwrite what it points at (a classmate's folder). Named pipes, sockets
    and devices are left out too: reading one would block the grader, or never
    end.
    """
    work = scratch / "work"
    skip = {Path(other).resolve() for other in others} - {notebook.resolve()}

    def ignore(folder, names):
        paths = {name: Path(folder) / name for name in names}
        return [name for name, path in paths.items() if not _regular_or_folder(path) or path.resolve() in skip
                or name in (".ipynb_checkpoints", "__pycache__")]

    shutil.copytree(notebook.parent, work, symlinks=True, ignore=ignore)
    return work / notebook.name


def _regular_or_folder(path):
    """Return whether ``path`` itself (not what a link points at) is a regular file or a folder."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _environment(box, data):
    """Return the kernel's environment: how to run (no secret of the grader's), its own folders and data copy."""
    env = {name: value for name, value in os.environ.items()
           if name in KERNEL_ENV}
    folders = {"HOME": "home", "KERAS_HOME": "keras", "TMPDIR": "tmp", "IPYTHONDIR": "ipython",
               "JUPYTER_RUNTIME_DIR": "runtime", "MPLCONFIGDIR": "matplotlib", "IMDB_LAB_CACHE": "cache"}
    for name, folder in folders.items():
        (box / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(box / folder)
    # a prepared file: nothing to build or download, and no test review in it (trusted_data.without_test_reviews)
    env["IMDB_LAB_DATA"] = str(box / "data" / KERNEL_FILE)
    data.copy_kernel_file(box / "data" / KERNEL_FILE)
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    return env


def _hidden(data, notebooks):
    """Return what a sandbox must not show even where it lies among the files Python runs from: the grader's
    working folders, the classmates' folders, the data and its caches."""
    # the temporary folder holds every notebook's box and every grading run's data
    hidden = {Path(tempfile.gettempdir()), Path(data.folder).parent,
              *(Path(notebook).absolute().parent for notebook in notebooks)}
    hidden |= {cache.cache_dir(), keras_home() / "datasets"}
    if data.source is not None:
        hidden.add(Path(data.source))
    return hidden


def grade_notebook(path, *, timeout=DEFAULT_TIMEOUT, target=TARGET, memory=DEFAULT_MEMORY, disk=DEFAULT_DISK,
                   processes=DEFAULT_PROCESSES, sandbox=None, rubric=None, data=None, others=(), hidden=()):
    """Run the notebook at ``path`` contained, score the model it exports; return a GradeResult.

    ``timeout`` seconds and ``memory`` bytes cover the whole of it: the
    notebook's cells get all but min(60 s, a quarter) of the time, the export
    and the scoring the rest. ``disk``: bytes its private folder may hold;
    ``processes``: how many it may run at once. ``sandbox``: see
    ``use_sandbox``. ``rubric``: the points of each exercise (``exercises.Rubric``,
    default its defaults). ``data``: from ``prepare_grading_data``, made once per
    run (made here when None). ``others``: the other notebooks being graded,
    left out of this one's private folder and hidden from its sandbox, as are
    ``hidden`` paths (the grader's outputs). This process becomes a subreaper
    (Linux) and kills its child processes that the grader did not start: call
    it from a process of its own, as ``imdb-lab grade`` does.

    Args:
        path: the notebook file.
        timeout: seconds for the whole of it.
        target: the test accuracy to pass.
        memory: bytes of all its processes together.
        disk: bytes its private folder may hold.
        processes: processes it may run at once.
        sandbox: see ``use_sandbox``.
        rubric: the points of each exercise (default: ``exercises.Rubric()``).
        data: the grader's data (``prepare_grading_data``; None: made here).
        others: the other notebooks of the class, kept out of its folder and sight.
        hidden: more paths its sandbox must not show.
    """
    _validate_limits(timeout, memory, target, disk, processes)
    sandboxed = use_sandbox(sandbox)
    rubric = Rubric() if rubric is None else rubric
    path = Path(path)
    started = time.monotonic()
    refused = refusal(path)
    if refused is not None:
        status = detailed(NOT_A_NOTEBOOK, refused)
        return GradeResult(str(path), status, None, 0.0, None, _priced_verdicts({}, status, rubric))
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - a broken file is a row, not a crash
        status = detailed(NOT_A_NOTEBOOK, _unreadable(error))
        return GradeResult(str(path), status, None, 0.0, None, _priced_verdicts({}, status, rubric))
    processes_module.become_subreaper()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-", ignore_cleanup_errors=True) as folder:
        if data is None:
            (Path(folder) / "data").mkdir()
            data = prepare_grading_data(Path(folder) / "data")
            started = time.monotonic()  # preparing the data is not the notebook's time
        (Path(folder) / "box").mkdir()
        mounted = filesystems.mount_box(Path(folder) / "box", disk)
        try:
            limits = processes_module.Limits(started + timeout, memory, disk, None, processes, filesystem=mounted)
            box = sandbox_module.Box(Path(folder) / "box", hidden=[*_hidden(data, [path, *others]), *hidden]) \
                if sandboxed is True else None
            user = sandbox_module.notebook_user() if sandboxed == sandbox_module.USER else None
            status, accuracy, found = _grade_contained(path, Path(folder), data, limits, others, box, target,
                                                       user=user)
        finally:
            if mounted:
                filesystems.unmount_box(Path(folder) / "box")
    if status == SCORED:
        status = Status(PASSED if accuracy >= target else BELOW_TARGET)
    return GradeResult(str(path), status, accuracy, round(time.monotonic() - started, 1), sandboxed,
                       _priced_verdicts(found, status, rubric))


def _priced_verdicts(found, status, rubric):
    """Return every exercise's verdict with its points under ``rubric``: those ``found``, and "not judged" for the
    rest, with the row's ``status`` (a status a row shows: never SCORED or EXPORTED) as the reason."""
    why = f"the grader had nothing to judge it on ({status})"
    return [rubric.award(found.get(name) or not_judged(name, why)) for name in EXERCISES]


def _grade_contained(path, scratch, data, limits, others, box=None, target=TARGET, *, user=None):
    """Run, export and score one notebook inside ``scratch``, in ``box`` (a sandbox.Box) if given, or as ``user``
    (a sandbox.NotebookUser) if given; return ``(status, accuracy, {exercise: verdict})``.

    Args:
        path: the notebook file.
        scratch: this notebook's folder of the grader's; its ``box`` is what the notebook's processes may write.
        data: the grader's data (``prepare_grading_data``).
        limits: a ``processes.Limits`` for the whole of it.
        others: the classmates' notebooks, left out of its private folder.
        box: the sandbox to run in (None: none).
        target: the test accuracy to pass.
        user: the account to run as (None: the grader's).
    """
    budget = limits.deadline - time.monotonic()
    reserve = min(60.0, budget / 4)  # for exporting and scoring the model
    inside = scratch / "box"  # all the notebook's processes may write: its folder, its data, /tmp, its export
    export = inside / "export"
    export.mkdir()
    config = RunnerConfig(str(_private_folder(path, inside, others)), str(inside / "work"), str(export),
                          str(inside / "status.json"), budget - reserve, reserve / 3)
    records.write_record(inside / "config.json", config)
    env = _environment(inside, data)
    command = runner_command(inside / "config.json")
    if box is not None:
        command, env = box.command(command, env=env, cwd=inside), {"PATH": os.environ.get("PATH", os.defpath)}
    if user is not None:
        scratch.chmod(0o711)  # the account reaches its box by path; it can list and read nothing else here
        user.hand_over(inside)
    run_limits = dataclasses.replace(limits, folder=inside,
                                     deadline=min(limits.deadline, time.monotonic() + budget - reserve * 2 / 3 + 10))
    outcome, code, _ = processes_module.run_watched(command, run_limits, env=env, cwd=inside, user=user)
    if user is not None:
        processes_module.kill_user(user.uid)  # none of the account's processes lives on while the export is read
    data.check_unchanged(path)
    if outcome is not None:
        return outcome, None, {}
    # killed by a signal (a negative code, or bubblewrap's 128 + the signal), and not by the grader: from inside;
    # whatever the status file says then was written by the notebook
    if code and (code < 0 or (box is not None and code > 128)):
        return Status(RUNNER_KILLED), None, {}
    try:
        report = records.read_record(inside / "status.json", RunnerReport, missing_ok=True)
    except RecordError:  # a notebook can write the runner's report: it is then its own
        return detailed(GRADING_FAILED, "the notebook runner's report is not one it writes"), None, {}
    if report is None:
        return detailed(GRADING_FAILED, f"the notebook runner exited with {code}"), None, {}
    status = from_runner(report.status)
    evidence = {graded.name: (report.drawn.get(graded.name), _kernel_record(export, graded.name))
                for graded in REGISTRY if graded.probe is not None}
    result = ScorerResult(status)
    if status == EXPORTED:
        result = _score_export(export, scratch / "scorer", data, limits, target, evidence)
    found = dict(result.verdicts)
    if result.error is not None:
        # the scorer measured the accuracy but failed to judge the rest: the grader's fault, so it costs nothing
        found.update({name: grader_failed(name, result.error) for name in SCORER_EXERCISES})
    for graded in REGISTRY:
        # the scorer judged those it judges; without a model of the notebook's, they are judged here, on nothing
        if graded.in_scorer and status not in (NO_MODEL, NOT_A_KERAS_MODEL):
            continue
        inputs, record = evidence.get(graded.name, (None, None))
        judged = graded.judge(Evidence(status, inputs, record, accuracy=result.accuracy, target=target))
        if judged is not None:
            found[graded.name] = verdict(graded.name, judged)
    return result.status, result.accuracy, found


def _score_export(export, folder, data, limits, target, evidence):
    """Run the scorer on a copy of the notebook's export, with the ``evidence`` of the exercises it judges; return
    its ``ScorerResult``.

    The export is read only now, when every process of the notebook has
    ended: its files are copied into the scorer's folder, which no notebook
    can reach, as regular files of a bounded size, never through a link (a
    file swapped for a named pipe or a link to ``/dev/zero`` is the
    notebook's ``not loadable`` row, not a grader that waits or fills its
    memory).
    """
    folder.mkdir(mode=0o700)
    try:
        if not stat.S_ISDIR(os.lstat(export).st_mode):
            raise RecordError("the export folder was replaced by a file or a link")
        for name in ("model.keras", "settings.json"):
            copy_regular(export / name, folder / name, MAX_MODEL_BYTES)
    except FileNotFoundError as error:
        return ScorerResult(detailed(NOT_LOADABLE, f"{Path(error.filename).name} is missing from the export"))
    except RecordError as error:
        return ScorerResult(detailed(NOT_LOADABLE, error))
    request = ScorerRequest(str(folder / "model.keras"), str(folder / "settings.json"), str(data.test_path),
                            data.test_sha256, target, str(data.kernel_file),
                            {name: evidence[name] for name in SCORER_EXERCISES if name in evidence})
    records.write_record(folder / "request.json", request)
    return run_scorer([folder / "request.json"], folder, limits.deadline, limits.memory)


def _kernel_record(export, name):
    """Return what the kernel wrote for exercise ``name`` in ``export`` (``records.kernel_record_type``), or None
    when it wrote none or one it could not have written honestly (that exercise is then judged as not done)."""
    try:
        return records.read_record(export / f"{name}.json", records.kernel_record_type(name), missing_ok=True)
    except RecordError:
        return None


def grade_notebooks(paths, *, jobs=1, on_result=None, exclude=(), hidden=(), sandbox=None, rubric=None, **limits):
    """Grade ``paths`` with ``jobs`` notebooks at a time; return their GradeResults in the order given.

    ``on_result(index, result)`` is called as each notebook finishes (from a
    worker thread). ``limits``: ``timeout``, ``target``, ``memory``, ``disk``,
    ``processes`` of ``grade_notebook``; ``rubric``: the points of each exercise;
    ``exclude``: more notebooks to leave
    out of private folders; ``hidden``: more paths no sandbox may show (the
    grader's outputs); ``sandbox``: see ``use_sandbox`` (decided once, before
    any notebook runs). The data is prepared once, before any notebook runs.
    Raises SandboxError when a sandbox is required and the machine has none,
    and GradingDataError (once the notebooks in flight are done; its
    ``results`` holds the rows so far, None where not graded) if the data
    archive or the scorer's code changed under the grader, or (with
    ``results`` None) if the scorer does not work on this machine. Notebooks run as
    ``sandbox.NOTEBOOK_USER`` are graded one at a time, whatever ``jobs``: one
    could signal another's processes. Process-wide: this
    process becomes a subreaper and stops writing bytecode (see grade_notebook).

    Args:
        paths: the notebooks.
        jobs: how many are graded at once.
        on_result: called as ``on_result(index, result)`` when each finishes.
        exclude: more notebooks to keep out of every private folder.
        hidden: more paths no sandbox may show.
        sandbox: see ``use_sandbox``.
        rubric: the points of each exercise.
        **limits: ``timeout``, ``target``, ``memory``, ``disk``, ``processes`` of ``grade_notebook``.
    """
    paths = [Path(path) for path in paths]
    _validate_limits(**limits)
    valid_int("jobs", jobs, minimum=1)
    sandbox = use_sandbox(sandbox)
    if sandbox == sandbox_module.USER:
        jobs = 1  # the account's processes could signal each other's: one notebook at a time
    processes_module.become_subreaper()
    sys.dont_write_bytecode = True  # a .pyc this process wrote would look like a change to the scorer's code
    results = [None] * len(paths)
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-", ignore_cleanup_errors=True) as folder:
        (Path(folder) / "data").mkdir()
        data = prepare_grading_data(Path(folder) / "data")
        shared_cache = SharedCache(data)
        if sandbox == sandbox_module.USER:
            _check_out_of_reach(sandbox_module.notebook_user(), data, paths)

        def grade(index):
            if stop.is_set():
                return
            try:
                result = grade_notebook(paths[index], data=data, others=[*paths, *exclude], hidden=hidden,
                                        sandbox=sandbox, rubric=rubric, **limits)
            except GradingDataError:
                stop.set()
                raise
            except Exception as error:  # noqa: BLE001 - one notebook, one row: the class is still graded
                status = detailed(GRADING_FAILED, error)
                result = GradeResult(str(paths[index]), status, None, 0.0, None,
                                     _priced_verdicts({}, status, Rubric() if rubric is None else rubric))
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
            if sandbox == sandbox_module.USER:
                # none of the account's processes outlives the grading: the results are written after this
                processes_module.kill_user(sandbox_module.notebook_user().uid)
            shared_cache.remove_if_changed()
    return results


def _check_out_of_reach(user, data, notebooks):
    """SandboxError unless ``user`` (the account notebooks run as) can read none of the data's archive and caches,
    and, in a class of several, no notebook: a notebook would read them as that account."""
    secret = [Path(data.source)] if data.source is not None else []
    secret += [path for path in (cache.cache_dir(), keras_home() / "datasets") if path.exists()]
    if len(notebooks) > 1:
        secret += notebooks
    for path in secret:
        targets = [path, *path.rglob("*")] if path.is_dir() else [path]
        readable = next((target for target in targets if sandbox_module.readable_by(user, target)), None)
        if readable is not None:
            raise SandboxError(f"notebooks run as {sandbox_module.NOTEBOOK_USER}, which could read {readable}: make "
                               f"it root's only (chmod go-rwx {path}) and grade again")
