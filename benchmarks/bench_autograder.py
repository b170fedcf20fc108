"""Benchmark: what grading one submission needs, as Gradescope's autograder runs it: memory, time, points.

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_autograder.py [--cores 1]

Grades the solutions notebook as a student hands it in (its solution-only
cells left out, as in bench_notebook.py) with ``imdb-lab grade --gradescope``
and ``--jobs 1``, on ``--cores`` cores (``taskset``; Gradescope's machines
have 0.5 to 4), and samples the resident memory of the grade and all its
processes (the sandbox, the kernel, the scorer) ten times a second. Prints the
peak, the wall time and the points of each exercise: the README's "Grading on
Gradescope" takes its machine size from here. Linux only (/proc, taskset).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_notebook import NOTEBOOK, student_path  # noqa: E402  (the same student's path)


def main():
    """Grade the student's path of the solutions notebook once; print peak memory, time and points."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=1, help="cores the grade may use (default: 1)")
    args = parser.parse_args()
    if not os.environ.get("IMDB_LAB_DATA"):
        sys.exit("set IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz: the benchmark grades on the real data")
    import nbformat

    from imdb_lab.grader import processes

    with tempfile.TemporaryDirectory(prefix="bench-autograder-") as folder:
        folder = Path(folder)
        (folder / "submission").mkdir()
        (folder / "results").mkdir()
        nbformat.write(student_path(nbformat.read(NOTEBOOK, as_version=4)),
                       folder / "submission" / "IMDB_in_Keras.ipynb")
        command = ["taskset", "-c", ",".join(map(str, range(args.cores))), sys.executable, "-m", "imdb_lab",
                   "grade", str(folder / "submission" / "IMDB_in_Keras.ipynb"), "--gradescope",
                   str(folder / "results"), "--jobs", "1"]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, processes.resident_bytes([process.pid, *processes.descendants(process.pid)]))
            time.sleep(0.1)
        wall = time.perf_counter() - started
        table = process.stdout.read()
        results = json.loads((folder / "results" / "results.json").read_text())
    print(table)
    points = ", ".join(f"{test['name'].split(':')[0]} {test['score']:g}/{test['max_score']:g}"
                       for test in results["tests"])
    print(f"one submission on {args.cores} core(s): peak {peak / 1e9:.2f} GB (all its processes), {wall:.0f} s; "
          f"score {results['score']:g} ({points})")


if __name__ == "__main__":
    main()
