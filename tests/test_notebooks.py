"""The learner's notebook runs: untouched, it stops at its first TODO; with the solutions put back, every check passes.

Both runs read the real archive (IMDB_LAB_DATA, else skipped) through one data
cache shared by the two runs, and execute in a fresh kernel of this interpreter;
the run with the solutions puts its kernel in a memory cgroup at the student's
path's target where the machine lets it make one.
"""

import contextlib
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import benchmark_module, cgroup_unavailable, solution_regions
from imdb_lab.check import CORRECT, INCORRECT, NOT_ATTEMPTED
from imdb_lab.student import SOLUTIONS_NAME, STUDENT_NAME, paste_over_todo_cells, todo_message

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 600


def memory_benchmark():
    """Return benchmarks/bench_notebook.py as a module: the notebook's memory targets, its peak-memory cell, and
    kernels in a memory cgroup."""
    return benchmark_module("bench_notebook")


@pytest.fixture(scope="session")
def notebook_cache(tmp_path_factory):
    """One data cache for every notebook run of the session: the archive is tokenized once."""
    return tmp_path_factory.mktemp("notebook_cache")


@pytest.fixture
def notebook_env(real_archive, notebook_cache, monkeypatch, tmp_path):
    """Point the kernels at the real archive and the shared cache; return the folder to run them in."""
    monkeypatch.setenv("IMDB_LAB_DATA", str(real_archive))
    monkeypatch.setenv("IMDB_LAB_CACHE", str(notebook_cache))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def run(nb, folder, km=None):
    """Execute ``nb`` in place in a fresh kernel (``km``'s, else this interpreter's), in ``folder``."""
    from nbclient import NotebookClient

    NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}, record_timing=False).execute()


def text_of(cell):
    """Return everything a code cell printed (stdout, stderr, results, errors) as one string."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        if output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def check_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.lstrip().startswith("check.")]


def test_student_notebook_stops_at_its_first_todo(notebook_env):
    from nbclient.exceptions import CellExecutionError

    student = nbformat.read(ROOT / STUDENT_NAME, as_version=4)
    first_todo = todo_message(solution_regions(nbformat.read(ROOT / SOLUTIONS_NAME, as_version=4))[0][0])
    with pytest.raises(CellExecutionError) as error:
        run(student, notebook_env)
    assert error.value.ename == "NotImplementedError"
    assert first_todo in error.value.evalue

    code = [cell for cell in student.cells if cell.cell_type == "code"]
    failed = next(i for i, cell in enumerate(code) if any(o.output_type == "error" for o in cell.outputs))
    stub = next(i for i, cell in enumerate(code) if "raise NotImplementedError" in cell.source)
    assert failed >= stub, (f"code cell {failed} failed before the first TODO (code cell {stub}):\n"
                            f"{text_of(code[failed])}")
    assert all(cell.execution_count for cell in code[:failed + 1])
    assert all(cell.execution_count is None for cell in code[failed + 1:])
    # the check after the untouched TODO says "not attempted" rather than failing
    checks_run = [cell for cell in code[stub:failed] if cell.source.lstrip().startswith("check.")]
    assert checks_run and all(text_of(cell).startswith(NOT_ATTEMPTED) for cell in checks_run)


@pytest.mark.slow
def test_student_notebook_with_the_solutions_passes_every_check(notebook_env):
    # the student's path must fit the kernels learners get (README, "How much memory"): where this machine can make
    # a memory cgroup, the kernel runs in one at the target, the lab's files evicted from the page cache first, so
    # that the kernel of the machine enforces the limit as a hub's pod does (page cache charged); elsewhere its peak
    # resident set is held to the target plus the run-to-run spread
    from nbclient.exceptions import DeadKernelError

    from imdb_lab.backend import choose_backend

    from imdb_lab import check

    solutions = nbformat.read(ROOT / SOLUTIONS_NAME, as_version=4)
    # a learner who pasted each printed solution (check.<exercise>.solution()) over its whole TODO cell, as shown
    filled = paste_over_todo_cells(nbformat.read(ROOT / STUDENT_NAME, as_version=4),
                                   [exercise.solution_code for exercise in check.EXERCISES])
    assert "raise NotImplementedError" not in "".join(cell.source for cell in filled.cells)
    bench, backend = memory_benchmark(), choose_backend()
    in_cgroup = cgroup_unavailable() is None
    measure_rss = not in_cgroup and sys.platform != "win32"  # getrusage is POSIX
    if measure_rss:
        filled.cells.append(bench.peak_rss_cell())
    # the backend that runs is the only one of the three the lab imports (Keras itself imports JAX where installed)
    filled.cells.append(nbformat.v4.new_code_cell('import sys\nprint("tensorflow" in sys.modules)'))
    with contextlib.ExitStack() as stack:
        km, cgroup = (stack.enter_context(bench.kernel_in_cgroup(bench.target(backend, "student"), notebook_env))
                      if in_cgroup else (None, None))
        try:
            run(filled, notebook_env, km)  # raises CellExecutionError on any error, DeadKernelError if killed
        except DeadKernelError as error:
            raise AssertionError(f"the kernel died on {backend}: {cgroup and cgroup.figures()}") from error
        if cgroup:
            figures = cgroup.figures()
            assert figures["oom_kills"] == 0, f"the memory limit killed a process of the kernel: {figures}"
    tensorflow_imported = text_of(filled.cells.pop()).split()
    assert tensorflow_imported == [str(backend == "tensorflow")], f"TensorFlow imported on {backend}"
    if measure_rss:
        peak = bench.printed_number(filled.cells.pop())
        ceiling = bench.STUDENT_CEILING[backend]
        assert peak <= ceiling, (f"the student's path peaked at {peak / 1e9:.2f} GB on {backend}, "
                                 f"over {ceiling / 1e9} GB")

    checks = check_cells(filled)
    assert len(checks) == len(solution_regions(solutions)), "one check line after each TODO"
    for cell in checks:
        out = text_of(cell)
        assert out.startswith(CORRECT) and INCORRECT not in out and NOT_ATTEMPTED not in out, (
            f"{cell.source} printed:\n{out}")
    # no red log lines from the backend under the learner's cells (TensorFlow's C++ errors start with E0000)
    logged = [cell.source.splitlines()[0] for cell in filled.cells if cell.cell_type == "code"
              and any(line.startswith(("E0000", "W0000")) for line in text_of(cell).splitlines())]
    assert not logged, f"backend log lines under: {logged}"


@pytest.mark.slow
def test_the_notebook_survives_a_second_run_and_the_experiment_sections_rerun_from_section_4(notebook_env):
    """All cells twice in one kernel, then from section 4's model cell to the end (the Experiment section's advice,
    after section 6 freed the training rows): no cell raises, every check is Correct in the end. The kernel runs
    in a memory cgroup at the student's path's target where the machine can make one, as a hub's does."""
    from nbclient import NotebookClient

    from imdb_lab import check
    from imdb_lab.backend import choose_backend

    filled = paste_over_todo_cells(nbformat.read(ROOT / STUDENT_NAME, as_version=4),
                                   [exercise.solution_code for exercise in check.EXERCISES])
    section_4 = next(index for index, cell in enumerate(filled.cells) if cell.source == check.model.solution_code)
    bench, backend = memory_benchmark(), choose_backend()
    with contextlib.ExitStack() as stack:
        km = (stack.enter_context(bench.kernel_in_cgroup(bench.target(backend, "student"), notebook_env))[0]
              if cgroup_unavailable() is None else None)
        client = NotebookClient(filled, km=km, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(notebook_env)}}, record_timing=False)
        with client.setup_kernel():
            for start in (0, 0, section_4):  # raises CellExecutionError on any error
                for index in range(start, len(filled.cells)):
                    client.execute_cell(filled.cells[index], index)
    for cell in check_cells(filled):
        out = text_of(cell)
        assert out.startswith(CORRECT) and INCORRECT not in out and NOT_ATTEMPTED not in out, (
            f"{cell.source} printed:\n{out}")
