"""The learner's notebook runs: untouched, it stops at its first TODO; with the solutions put back, every check passes.

Both runs read the real archive (IMDB_LAB_DATA, else skipped) through one data
cache shared by the two runs, and execute in a fresh kernel of this interpreter.
"""

import sys
from pathlib import Path

import nbformat
import pytest

from imdb_lab.check import CORRECT, INCORRECT, NOT_ATTEMPTED
from imdb_lab.student import SOLUTIONS_NAME, STUDENT_NAME, fill_in_solutions, solution_regions, todo_message

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 600


def memory_benchmark():
    """Return benchmarks/bench_notebook.py as a module: the notebook's memory ceilings and its peak-memory cell."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_notebook", ROOT / "benchmarks" / "bench_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def run(nb, folder):
    """Execute ``nb`` in place in a fresh kernel, in ``folder``."""
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}},
                   record_timing=False).execute()


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
    assert failed >= stub, f"code cell {failed} failed before the first TODO (code cell {stub}):\n{text_of(code[failed])}"
    assert all(cell.execution_count for cell in code[:failed + 1])
    assert all(cell.execution_count is None for cell in code[failed + 1:])
    # the check after the untouched TODO says "not attempted" rather than failing
    checks_run = [cell for cell in code[stub:failed] if cell.source.lstrip().startswith("check.")]
    assert checks_run and all(text_of(cell).startswith(NOT_ATTEMPTED) for cell in checks_run)


@pytest.mark.slow
def test_student_notebook_with_the_solutions_passes_every_check(notebook_env):
    solutions = nbformat.read(ROOT / SOLUTIONS_NAME, as_version=4)
    filled = fill_in_solutions(nbformat.read(ROOT / STUDENT_NAME, as_version=4), solutions)
    assert "raise NotImplementedError" not in "".join(cell.source for cell in filled.cells)
    bench = memory_benchmark()
    measure_memory = sys.platform != "win32"  # getrusage is POSIX
    if measure_memory:
        filled.cells.append(bench.peak_rss_cell())
    run(filled, notebook_env)  # raises CellExecutionError on any error
    if measure_memory:
        # the student's path must fit the kernels learners get (README, "How much memory"): no creeping back
        from imdb_lab.backend import choose_backend

        backend, peak = choose_backend(), bench.printed_number(filled.cells.pop())
        ceiling = bench.STUDENT_CEILING[backend]
        assert peak <= ceiling, f"the student's path peaked at {peak / 1e9:.2f} GB on {backend}, over {ceiling / 1e9} GB"

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
