"""Benchmark: the peak memory of the solutions notebook, stage by stage, on each Keras backend.

Run (about 2 minutes a backend and path on 2 cores, with the data cache built):

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_notebook.py \\
        --backend tensorflow --backend jax=/path/to/jax-venv/bin/python --backend torch=/path/to/torch-venv/bin/python

With ``--cgroup`` (Linux, as root or with a delegated cgroup v2 subtree), each
kernel runs in a memory cgroup at its path's target, as a hub's pod does, with
the lab's files (the kernel's Python environment, the package, the data and its
cache) first evicted from the page cache so that the kernel is charged for
reading them; the table then also gives what the kernel of the machine counted:
the cgroup's peak (page cache included), and its anonymous memory and page
cache at the end of each stage. A kernel the limit kills fails the run.

(PyTorch in an environment without JAX, as a learner's: Keras imports JAX whenever it is installed, +0.07 GB.)

Two paths through IMDB_in_Keras_solutions.ipynb, each in a fresh kernel of the
given Python (KERAS_BACKEND set to the backend):

- student: the notebook as a student runs it, i.e. without its ``solution_only``
  cells, so the bigram cell stays off (RUN_BIGRAMS = False);
- whole:   every cell, the bigram model included (what nbval runs).

After the last cell of each stage the kernel reports its peak resident set so
far (getrusage ru_maxrss: exact, not sampled), so each figure is the most the
kernel has held up to the end of that stage. The ceilings are the ones a 1 GB
JupyterHub and Binder's 2 GB need (README, "Run it online");
tests/test_notebooks.py runs the student's path in a memory cgroup at its
target where it can make one (``kernel_in_cgroup``), and elsewhere fails when
the path goes over its ceiling, on the backend the tests run on. Linux and
macOS (``resource`` is POSIX).
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "IMDB_in_Keras_solutions.ipynb"
GB = 1e9
# the most the kernel may hold (bytes): the student's path per backend, and the whole notebook on every backend.
# the lab's targets (1.5 GB on TensorFlow, a 1 GB JupyterHub on JAX and PyTorch) plus about 5 % for the run-to-run
# spread, so that the figures cannot creep back (README, "How much memory"): today's TensorFlow 1.46, JAX 0.94 to
# 0.96 on a quiet machine and once 1.004 in CI's notebook test, PyTorch 0.94
STUDENT_CEILING = {"tensorflow": 1.55 * GB, "jax": 1.05 * GB, "torch": 1.05 * GB}
WHOLE_CEILING = 2.0 * GB
# the memory limits themselves (bytes), for a kernel run in a memory cgroup, where the kernel of the machine enforces
# them as a hub does (page cache charged, and reclaimed before anything is killed): no margin
STUDENT_TARGET = {"tensorflow": int(1.5 * GB), "jax": int(1.0 * GB), "torch": int(1.0 * GB)}
WHOLE_TARGET = int(2.0 * GB)
# each stage ends with the first code cell that holds this text (in notebook order)
STAGES = (
    ("imports", "choose_backend()"),
    ("load_data", "load_data(num_words=num_words)\n"),
    ("load_data(skip_top=7)", "skip_top=7)"),
    ("encode the training reviews", "x_train_hot = "),
    ("build the model", "check.model()"),
    ("fit", "check.history()"),
    ("the test feed", "test_feed = "),
    ("evaluate", "check.accuracy()"),
    ("predict_sentiment", "check.prediction()"),
    ("word probe", "probe = MultiHotSequence("),
    ("explanations", "explain_box("),
    ("word-id twin", "word_id_twin(model)"),
    ("bigram model", "train_ngram_model("),
)
RESULT_PREFIX = "RESULT "
# the training cell (section 5): its seconds and epochs are reported beside the stages
TRAINING_CELL = "history = model.fit("
# run in the kernel after a stage: its resident set now (Linux; else False) and its peak, in bytes (ru_maxrss is in
# KB on Linux, bytes on macOS)
PEAK_RSS_SOURCE = (
    "import os as _os, resource as _resource, sys as _sys\n"
    "print(_os.path.exists('/proc/self/statm') and int(open('/proc/self/statm').read().split()[1]) * 4096,\n"
    "      _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * (1 if _sys.platform == 'darwin' else 1024))"
)


def student_path(nb):
    """Return a copy of the solutions notebook ``nb`` without its solution-only cells (as a student runs it)."""
    import copy

    from imdb_lab.student import is_solution_only

    out = copy.deepcopy(nb)
    out.cells = [cell for cell in out.cells if not is_solution_only(cell)]
    return out


def peak_rss_cell():
    """Return a code cell that prints the kernel's peak resident set in bytes."""
    import nbformat

    return nbformat.v4.new_code_cell(PEAK_RSS_SOURCE)


def printed_number(cell, position=-1):
    """Return the last number a cell printed (``position``: another one of them), 0 for False."""
    text = "".join(output.get("text", "") for output in cell.get("outputs", []))
    word = text.split()[position]
    return 0.0 if word == "False" else float(word)


def stage_ends(nb):
    """Return ``{code cell index: stage name}`` for the stages ``nb`` has (a path without a stage skips it)."""
    ends, start = {}, 0
    for name, marker in STAGES:
        found = next((i for i in range(start, len(nb.cells))
                      if nb.cells[i].cell_type == "code" and marker in nb.cells[i].source), None)
        if found is not None:
            ends[found], start = name, found + 1
    return ends


def memory_cgroups():
    """Return benchmarks/memory_cgroup.py as a module (this file is also imported by the tests, by path)."""
    import importlib.util

    if "memory_cgroup" in sys.modules:
        return sys.modules["memory_cgroup"]
    spec = importlib.util.spec_from_file_location("memory_cgroup", Path(__file__).with_name("memory_cgroup.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["memory_cgroup"] = module
    spec.loader.exec_module(module)
    return module


def lab_files():
    """Return the folders and files a kernel of this Python reads for the lab: its environment, the package, data."""
    import imdb_lab

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(imdb_lab.__file__).parent}
    paths.update(Path(os.environ[name]) for name in ("IMDB_LAB_DATA", "IMDB_LAB_CACHE") if os.environ.get(name))
    return sorted(path for path in paths if path.exists())


@contextlib.contextmanager
def kernel_in_cgroup(limit, folder):
    """Yield ``(kernel manager, cgroup)``: a Python kernel (this interpreter) that starts in a memory cgroup of
    ``limit`` bytes, the lab's files (``lab_files``) evicted from the page cache first. Afterwards the kernel is shut
    down and the cgroup removed.

    The kernel spec is written under ``folder``; every process the kernel starts stays in the cgroup. The manager
    is asynchronous, as the one nbclient makes for itself: with a blocking one, nbclient waits for ever for the
    output of a kernel the limit killed instead of raising DeadKernelError.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.utils import run_sync

    cgroups = memory_cgroups()
    cgroups.evict_page_cache(lab_files())
    with cgroups.MemoryCgroup(limit) as cgroup:
        spec_folder = Path(folder) / "kernels" / "python3-in-cgroup"
        spec_folder.mkdir(parents=True, exist_ok=True)
        argv = cgroup.command([sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
        (spec_folder / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": f"Python 3 (memory limit {limit / GB:.2f} GB)", "language": "python"}))
        km = AsyncKernelManager(kernel_name="python3-in-cgroup",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_folder.parent)]))
        try:
            yield km, cgroup
        finally:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)


def measure(path, folder, by_cell=False, limit=None):
    """Run one path (``student`` or ``whole``) in a fresh kernel; return its rows and the test accuracy.

    ``by_cell``: a row after every code cell (named by its first line) instead of one per stage. ``limit``: run
    the kernel in a memory cgroup of that many bytes, the lab's files evicted from the page cache first, and add
    the cgroup's figures to each row.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    if path == "student":
        nb = student_path(nb)
    ends = stage_ends(nb)
    if by_cell:
        ends = {i: f"[{i}] {cell.source.strip().splitlines()[0][:60]}" for i, cell in enumerate(nb.cells)
                if cell.cell_type == "code" and cell.source.strip()}
    cells, probes = [], {}
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        if index in ends:
            probes[len(cells)] = ends[index]
            cells.append(peak_rss_cell())
    cells.append(nbformat.v4.new_code_cell("print(test_accuracy)"))
    nb.cells = cells
    with contextlib.ExitStack() as stack:
        km, cgroup = stack.enter_context(kernel_in_cgroup(limit, folder)) if limit else (None, None)
        client = NotebookClient(nb, km=km, timeout=1800, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}})
        rows, started, training = [], time.perf_counter(), None
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                cell_started = time.perf_counter()
                client.execute_cell(cell, index)
                if TRAINING_CELL in cell.source and training is None:
                    training = {"seconds": time.perf_counter() - cell_started, "epochs": epochs_printed(cell)}
                if index in probes:
                    rows.append({"stage": probes[index], "peak": printed_number(cell), "now": printed_number(cell, -2),
                                 "seconds": time.perf_counter() - started,
                                 **({"cgroup": cgroup.figures()} if cgroup else {})})
    return {"path": path, "stages": rows, "test_accuracy": printed_number(nb.cells[-1]), "training": training}


def epochs_printed(cell):
    """Return how many epochs a training cell's output reports (``fit(verbose=2)`` prints "Epoch k/E" for each)."""
    text = "".join(output.get("text", "") for output in cell.get("outputs", []) if output.get("name") == "stdout")
    return len(re.findall(r"^Epoch \d+/\d+", text, re.MULTILINE))


def target(backend, path):
    """Return the memory limit (bytes) that ``path`` (``student`` or ``whole``) must fit on ``backend``."""
    return STUDENT_TARGET.get(backend, int(GB)) if path == "student" else WHOLE_TARGET


def spawn(path, backend, python, folder, by_cell=False, cgroup=False):
    """Measure one path in a child of ``python`` (whose kernel is that Python) with KERAS_BACKEND=``backend``.

    ``cgroup``: the kernel in a memory cgroup at the path's target (``target``).
    """
    env = dict(os.environ, KERAS_BACKEND=backend, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    command = [python, str(Path(__file__).resolve()), "--child", path, "--folder", str(folder),
               *(["--by-cell"] if by_cell else []), *(["--limit", str(target(backend, path))] if cgroup else [])]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if result.returncode or not lines:
        raise SystemExit(f"{backend} {path} failed:\n{result.stderr[-3000:]}")
    return {"backend": backend, **json.loads(lines[-1][len(RESULT_PREFIX):])}


def backend_pythons(specs):
    """Return ``[(backend, python), ...]`` from ``--backend NAME[=PYTHON]`` (default: this Python's backend)."""
    if not specs:
        from imdb_lab.backend import choose_backend

        return [(choose_backend(), sys.executable)]
    return [(name, python or sys.executable) for name, _, python in (spec.partition("=") for spec in specs)]


def report(results):
    """Print one table: a row per stage, a column per backend and path, and each path's peak against its ceiling."""
    columns = [(r["backend"], r["path"]) for r in results]
    names = [name for name, _ in STAGES]
    header = f"{'stage (peak so far, GB)':<26}" + "".join(f"{b[:10] + ' ' + p:>19}" for b, p in columns)
    print(header)
    for name in names:
        cells = []
        for r in results:
            peak = next((row["peak"] for row in r["stages"] if row["stage"] == name), None)
            cells.append(f"{peak / GB:>19.2f}" if peak is not None else f"{'-':>19}")
        if any(cell.strip() != "-" for cell in cells):
            print(f"{name:<26}" + "".join(cells))
    print(f"{'ceiling':<26}" + "".join(
        f"{(STUDENT_CEILING.get(r['backend'], GB) if r['path'] == 'student' else WHOLE_CEILING) / GB:>19.2f}"
        for r in results))
    if all("cgroup" in r["stages"][-1] for r in results):
        # the peak counts page cache, which fills the limit once the data is read; anonymous memory, the part the
        # kernel cannot reclaim, is the figure to watch (the most of it at the end of any stage)
        for key, label, pick in (("limit", "cgroup limit", "last"), ("peak", "cgroup peak", "last"),
                                 ("anon", "cgroup anon, most", "max"), ("cache", "cgroup cache, end", "last")):
            values = [[row["cgroup"][key] for row in r["stages"]] for r in results]
            print(f"{label:<26}" + "".join(f"{(max(v) if pick == 'max' else v[-1]) / GB:>19.2f}" for v in values))
        print(f"{'OOM kills':<26}" + "".join(f"{r['stages'][-1]['cgroup']['oom_kills']:>19}" for r in results))
    print(f"{'seconds':<26}" + "".join(f"{r['stages'][-1]['seconds']:>19.0f}" for r in results))
    cells = ["-" if r["training"] is None else f"{r['training']['seconds']:.1f} ({r['training']['epochs']})"
             for r in results]
    print(f"{'training cell: s (epochs)':<26}" + "".join(f"{cell:>19}" for cell in cells))
    print(f"{'test accuracy':<26}" + "".join(f"{r['test_accuracy']:>19.4f}" for r in results))
    over = [f"{r['backend']} {r['path']}" for r in results
            if r["stages"][-1]["peak"] > (STUDENT_CEILING.get(r["backend"], GB) if r["path"] == "student"
                                          else WHOLE_CEILING)]
    print("over the ceiling: " + (", ".join(over) if over else "none"))


def main(argv=None):
    """Measure each path on each backend asked for, each in its own process, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", default=[], metavar="NAME[=PYTHON]",
                        help="a backend and the Python that has it (repeat; default: this Python's backend)")
    parser.add_argument("--path", action="append", choices=("student", "whole"),
                        help="which path to run (repeat; default: both)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--by-cell", action="store_true",
                        help="print the peak after every code cell (to find where memory goes) instead of the table")
    parser.add_argument("--cgroup", action="store_true",
                        help="run each kernel in a memory cgroup at its target, the page cache charged (Linux)")
    parser.add_argument("--child", choices=("student", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(measure(args.child, args.folder, args.by_cell, args.limit)), flush=True)
        return
    if args.cgroup and memory_cgroups().unavailable_reason():
        parser.error(f"--cgroup: {memory_cgroups().unavailable_reason()}")
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for backend, python in backend_pythons(args.backend):
            for path in args.path or ("student", "whole"):
                results.append(spawn(path, backend, python, folder, args.by_cell, args.cgroup))
                print(f"{backend} {path}: peak {results[-1]['stages'][-1]['peak'] / GB:.2f} GB", file=sys.stderr)
    if args.by_cell:
        for result in results:
            print(f"{result['backend']} {result['path']}:")
            for row in result["stages"]:
                cgroup = row.get("cgroup")
                counted = (f" cgroup peak {cgroup['peak'] / GB:6.3f}, anon {cgroup['anon'] / GB:6.3f}, "
                           f"cache {cgroup['cache'] / GB:6.3f}" if cgroup else "")
                print(f"  peak {row['peak'] / GB:6.3f} GB, now {row['now'] / GB:6.3f} GB{counted} "
                      f"{row['seconds']:6.1f} s  {row['stage']}")
    else:
        report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
