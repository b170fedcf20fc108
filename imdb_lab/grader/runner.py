"""The runner: runs one notebook for the grader, then exports its ``model`` (``python -m imdb_lab.grader.runner``).

This process runs the notebook's cells in a fresh kernel (nbclient), in the
private working folder the grader made, against a deadline. Then one more cell
saves the notebook's ``model`` with ``model.save`` and its ``num_words`` and
``skip_top`` as plain numbers, to files the grader chose. It measures nothing:
the grader scores the exported model in another, clean process. At the end it
kills every process the notebook left behind (it adopts them: see
``imdb_lab.grader.processes``) and writes its status as JSON. The grader
starts it with ``launch.runner_command``.

What it reports is only as trustworthy as the notebook (which could forge it);
that is fine, because a forged "exported" still has to load and score.
"""

import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from imdb_lab.check.prediction_check import probe_texts
from imdb_lab.data.sources import get_word_index
from imdb_lab.errors import first_line
from imdb_lab.files import atomic_write
from imdb_lab.grader import exercises, processes
from imdb_lab.grader.statuses import (
    EXPORTED, KERNEL_DIED, KERNEL_ERROR, NO_MODEL, NOT_A_KERAS_MODEL, NOT_EXPORTABLE, TIMED_OUT, detailed,
    error_in_cell, kernel_died_in_cell, kind,
)

KERNEL_STARTUP_TIMEOUT = 60

# Runs in the student's kernel after its cells; private names, and nothing it computes is believed.
EXPORT_CODE = """\
def _imdb_lab_export(namespace, model_path, settings_path, result_path):
    import json, numbers, sys
    def whole(name):
        value = namespace.get(name)
        return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else None
    keras = sys.modules.get("keras")
    if "model" not in namespace:
        status = {status_no_model!r}
    elif keras is None or not isinstance(namespace["model"], keras.Model):
        status = {status_not_keras!r}
    else:
        namespace["model"].save(model_path)
        with open(settings_path, "w", encoding="utf-8") as file:
            json.dump({{"num_words": whole("num_words"), "skip_top": whole("skip_top")}}, file)
        status = {status_exported!r}
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump({{"status": status}}, file)
_imdb_lab_export(globals(), {model_path!r}, {settings_path!r}, {result_path!r})
del _imdb_lab_export
"""

# Runs in the student's kernel after the export: the student's functions on inputs the runner drew just now, and
# the training history; what they give is recorded as data, which the grader judges (imdb_lab.grader.exercises).
EXERCISES_CODE = """\
def _imdb_lab_exercises(namespace, name, arguments, path):
    import json
    def record(function, *args):
        try:
            value = function(*args)
        except NotImplementedError:
            return {{"not_attempted": True}}
        except Exception as error:
            return {{"raised": (type(error).__name__ + ": " + str(error))[:300]}}
        try:
            import numpy
            array = numpy.asarray(value, dtype=float)
        except Exception:
            return {{"type": type(value).__name__}}
        return {{"shape": list(array.shape)}} if array.size > 100000 else {{"result": array.tolist()}}
    function = namespace.get(name)
    if not callable(function):
        found = {{"missing": None if function is None else type(function).__name__}}
    elif name == "multi_hot":
        found = [record(function, case["sequences"], case["num_words"]) for case in arguments]
    else:
        found = record(function, list(arguments))
    out = {{name: found}}
    logs = getattr(namespace.get("history"), "history", None)
    if name == "multi_hot" and isinstance(logs, dict):
        try:
            params = getattr(namespace["history"], "params", None) or {{}}
            out["history"] = {{"history": {{str(k): [float(v) for v in values] for k, values in logs.items()}},
                              "params": {{k: int(params[k]) for k in ("epochs", "steps") if params.get(k) is not None}}}}
        except Exception:
            pass
    with open(path, "w", encoding="utf-8") as file:
        json.dump(out, file)
_imdb_lab_exercises(globals(), {name!r}, {arguments}, {path!r})
del _imdb_lab_exercises
"""


def _kernel_manager_class():
    """Return an AsyncKernelManager class whose ``python3`` kernel is the current interpreter."""

    class CurrentPythonKernelManager(AsyncKernelManager):
        """A kernel manager that ignores other ``python3`` kernel specs (a user's, another venv's)."""

        @property
        def kernel_spec(self):
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())
            return self._kernel_spec

    return CurrentPythonKernelManager


def _run_cells(client, nb, deadline):
    """Run the notebook's code cells against ``deadline``; return a status, or None when all ran."""
    number = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        number += 1  # the In [N] a fresh run shows
        if time.monotonic() >= deadline:
            return TIMED_OUT
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            return TIMED_OUT
        except CellExecutionError as error:
            return error_in_cell(number, error.ename, first_line(error.evalue))
        except DeadKernelError:
            return kernel_died_in_cell(number)
    return None


def _export(client, nb, export_dir, deadline):
    """Run the export cell in the kernel; return its status."""
    export_dir = Path(export_dir)
    result_path = export_dir / "export.json"
    code = EXPORT_CODE.format(
        status_no_model=NO_MODEL, status_not_keras=NOT_A_KERAS_MODEL, status_exported=EXPORTED,
        model_path=str(export_dir / "model.keras"), settings_path=str(export_dir / "settings.json"),
        result_path=str(result_path))
    nb.cells.append(nbformat.v4.new_code_cell(code))
    if time.monotonic() >= deadline:
        return TIMED_OUT
    try:
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1, store_history=False)
        status = json.loads(result_path.read_text(encoding="utf-8"))["status"]
    except CellTimeoutError:
        return TIMED_OUT
    except CellExecutionError as error:
        return detailed(NOT_EXPORTABLE, f"{error.ename}: {first_line(error.evalue)}")
    except DeadKernelError:
        return f"{KERNEL_DIED} while exporting the model"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return detailed(NOT_EXPORTABLE, error)
    return status if status in (EXPORTED, NO_MODEL, NOT_A_KERAS_MODEL) else detailed(NOT_EXPORTABLE, first_line(status))


def _exercises(client, nb, export_dir, deadline, drawn):
    """Run the student's ``multi_hot`` and ``predict_sentiment`` on inputs drawn now, recording what they give
    (``drawn`` gets the inputs); a failure here costs those exercises only."""
    export_dir = Path(export_dir)
    drawn["encoding"] = exercises.draw_encoding_cases(random.SystemRandom())
    stages = [("multi_hot", drawn["encoding"], export_dir / "encoding.json")]
    num_words = _num_words(export_dir / "settings.json")
    if num_words is not None:
        word_index = get_word_index()
        drawn["texts"] = probe_texts(word_index, num_words, seed=random.SystemRandom().randrange(2**32))
        stages.append(("predict_sentiment", drawn["texts"], export_dir / "prediction.json"))
    for name, arguments, path in stages:
        if time.monotonic() >= deadline:
            return
        code = EXERCISES_CODE.format(name=name, arguments=json.dumps(arguments), path=str(path))
        nb.cells.append(nbformat.v4.new_code_cell(code))
        try:
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1, store_history=False)
        except (CellTimeoutError, CellExecutionError, DeadKernelError):
            return


def _num_words(settings_path):
    """Return the notebook's ``num_words`` from the settings the export wrote, if it is a usable one, else None."""
    try:
        value = json.loads(Path(settings_path).read_text(encoding="utf-8")).get("num_words")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and 4 < value <= 10**6 else None


def run_notebook(notebook, workdir, export_dir, cells_seconds, export_seconds, drawn=None):
    """Run ``notebook`` in ``workdir`` with its cells' time limit, export its model; return the status.

    When the cells ran, the student's functions then run on inputs drawn now;
    ``drawn`` (a dict) gets those inputs.
    """
    nb = nbformat.read(notebook, as_version=4)
    deadline = {"at": None}
    drawn = {} if drawn is None else drawn

    def cell_timeout(cell):
        # nbclient treats 0 as "no limit": give at least one second
        return max(1, math.ceil(deadline["at"] - time.monotonic())) if deadline["at"] else KERNEL_STARTUP_TIMEOUT

    client = NotebookClient(
        nb, timeout_func=cell_timeout, startup_timeout=KERNEL_STARTUP_TIMEOUT,
        kernel_manager_class=_kernel_manager_class(), shutdown_kernel="immediate", allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        # the kernel's own log lines (TensorFlow's start-up chatter) would drown the grader's table
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            deadline["at"] = time.monotonic() + cells_seconds
            status = _run_cells(client, nb, deadline["at"])
            if status is None:
                deadline["at"] = time.monotonic() + export_seconds
                status = _export(client, nb, export_dir, deadline["at"])
                if status in (EXPORTED, NO_MODEL, NOT_A_KERAS_MODEL) or kind(status) == NOT_EXPORTABLE:
                    _exercises(client, nb, export_dir, deadline["at"], drawn)
    except (RuntimeError, TimeoutError) as error:
        status = detailed(KERNEL_ERROR, error)
    return status


def main(argv=None):
    """Read the grader's JSON config (argv[0]), run and export the notebook, write the status file."""
    argv = sys.argv[1:] if argv is None else argv
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    processes.become_subreaper()
    drawn = {}
    try:
        status = run_notebook(config["notebook"], config["workdir"], config["export_dir"],
                              config["cells_seconds"], config["export_seconds"], drawn)
    finally:
        # whatever the notebook started, double-forked or setsid() included, ends with it
        processes.kill_descendants()
    # written once no process of the notebook is left: the inputs drawn are the runner's own
    with atomic_write(config["status_path"], "w", encoding="utf-8") as file:
        json.dump({"status": status, "drawn": drawn}, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
