"""The runner: runs one notebook for the grader, then exports its ``model`` (``python -m imdb_lab.grader.runner``).

This process runs the notebook's cells in a fresh kernel (nbclient), in the
private working folder the grader made, against a deadline (its
``records.RunnerConfig``). Then it runs ``kernel_probe``'s steps in the kernel:
the export of ``model`` and the notebook's ``num_words`` / ``skip_top`` to
files the grader chose, and the student's functions on inputs drawn now. It
measures nothing:
the grader scores the exported model in another, clean process. At the end it
kills every process the notebook left behind (it adopts them: see
``imdb_lab.grader.processes``) and writes its ``records.RunnerReport``. The grader
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

from imdb_lab.data.sources import get_word_index
from imdb_lab.errors import RecordError, first_line
from imdb_lab.files import atomic_write
from imdb_lab.grader import exercises, kernel_probe, processes, records
from imdb_lab.grader.statuses import (
    EXPORTED, KERNEL_DIED, KERNEL_ERROR, NO_MODEL, NOT_A_KERAS_MODEL, NOT_EXPORTABLE, TIMED_OUT, Status, detailed,
    error_in_cell, kernel_died_in_cell, kind,
)

KERNEL_STARTUP_TIMEOUT = 60


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
            return Status(TIMED_OUT)
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            return Status(TIMED_OUT)
        except CellExecutionError as error:
            return error_in_cell(number, error.ename, first_line(error.evalue))
        except DeadKernelError:
            return kernel_died_in_cell(number)
    return None


def _run_probe(client, nb, step, request):
    """Run ``kernel_probe``'s ``step`` with ``request`` in the kernel, as a cell kept out of its history."""
    nb.cells.append(nbformat.v4.new_code_cell(kernel_probe.probe_line(step, request)))
    client.execute_cell(nb.cells[-1], len(nb.cells) - 1, store_history=False)


def _export(client, nb, export_dir, deadline):
    """Run the export in the kernel; return its status."""
    export_dir = Path(export_dir)
    if time.monotonic() >= deadline:
        return Status(TIMED_OUT)
    try:
        _run_probe(client, nb, "export", {"model_path": str(export_dir / "model.keras"),
                                          "settings_path": str(export_dir / "settings.json"),
                                          "result_path": str(export_dir / "export.json")})
        outcome = records.read_record(export_dir / "export.json", records.ExportRecord).outcome
    except CellTimeoutError:
        return Status(TIMED_OUT)
    except CellExecutionError as error:
        return detailed(NOT_EXPORTABLE, f"{error.ename}: {first_line(error.evalue)}")
    except DeadKernelError:
        return Status(KERNEL_DIED, "while exporting the model", f"{KERNEL_DIED} while exporting the model")
    except RecordError as error:
        return detailed(NOT_EXPORTABLE, error)
    return Status({kernel_probe.EXPORTED: EXPORTED, kernel_probe.NO_MODEL: NO_MODEL,
                   kernel_probe.NOT_KERAS: NOT_A_KERAS_MODEL}[outcome])


def _exercises(client, nb, export_dir, deadline):
    """Run each exercise's probe in the kernel (``exercises.REGISTRY``), on inputs drawn now, each record into
    ``export_dir/<exercise>.json``; return the inputs drawn, ``{exercise: inputs}``.

    A probe that fails costs its own exercise only; the deadline, or a dead kernel, ends them all.
    """
    export_dir = Path(export_dir)
    rng, num_words, drawn = random.SystemRandom(), _num_words(export_dir / "settings.json"), {}
    for graded in exercises.REGISTRY:
        probe, path = graded.probe, str(export_dir / f"{graded.name}.json")
        if probe is None:
            continue
        if probe.function is None:
            step, request = "history", {"path": path}
        else:
            inputs = probe.draw(rng, num_words, get_word_index) if probe.draw is not None else None
            if probe.draw is not None and inputs is None:
                continue  # nothing to call it on (no usable num_words)
            if inputs is not None:
                drawn[graded.name] = inputs
            step, request = "call_function", {"function": probe.function, "path": path,
                                              "calls": probe.arguments(inputs)}
        if time.monotonic() >= deadline:
            break
        try:
            _run_probe(client, nb, step, request)
        except CellExecutionError:
            continue
        except (CellTimeoutError, DeadKernelError):
            break
    return drawn


def _num_words(settings_path):
    """Return the notebook's ``num_words`` from the settings the export wrote, or None."""
    try:
        return records.read_record(settings_path, records.Settings).num_words
    except RecordError:
        return None


def run_notebook(config):
    """Run the notebook of ``config`` (a ``records.RunnerConfig``) with its cells' time limit, export its model;
    return the ``records.RunnerReport``.

    When the model is exported (or there is none), the student's functions
    then run on inputs drawn now, which the report holds.
    """
    nb = nbformat.read(config.notebook, as_version=4)
    deadline = {"at": None}
    drawn = {}

    def cell_timeout(cell):
        # nbclient treats 0 as "no limit": give at least one second
        return max(1, math.ceil(deadline["at"] - time.monotonic())) if deadline["at"] else KERNEL_STARTUP_TIMEOUT

    client = NotebookClient(
        nb, timeout_func=cell_timeout, startup_timeout=KERNEL_STARTUP_TIMEOUT,
        kernel_manager_class=_kernel_manager_class(), shutdown_kernel="immediate", allow_errors=False,
        resources={"metadata": {"path": config.workdir}},
    )
    try:
        # the kernel's own log lines (TensorFlow's start-up chatter) would drown the grader's table
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            deadline["at"] = time.monotonic() + config.cells_seconds
            status = _run_cells(client, nb, deadline["at"])
            if status is None:
                deadline["at"] = time.monotonic() + config.export_seconds
                status = _export(client, nb, config.export_dir, deadline["at"])
                if kind(status) in (EXPORTED, NO_MODEL, NOT_A_KERAS_MODEL, NOT_EXPORTABLE):
                    drawn = _exercises(client, nb, config.export_dir, deadline["at"])
    except (RuntimeError, TimeoutError) as error:
        status = detailed(KERNEL_ERROR, error)
    return records.RunnerReport(status, drawn)


def main(argv=None):
    """Read the grader's JSON config (argv[0]), run and export the notebook, write the status file."""
    argv = sys.argv[1:] if argv is None else argv
    config = records.read_record(argv[0], records.RunnerConfig)
    processes.become_subreaper()
    try:
        report = run_notebook(config)
    finally:
        # whatever the notebook started, double-forked or setsid() included, ends with it
        processes.kill_descendants()
    # written once no process of the notebook is left: the inputs drawn are the runner's own
    with atomic_write(config.status_path, "w", encoding="utf-8") as file:
        json.dump(report.to_json(), file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
