"""Benchmark: grading a class of honest notebooks one at a time against ``--jobs N`` at a time, or unsandboxed
against sandboxed, in one run.

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_grading.py [--notebooks 8]
    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_grading.py --sandbox --jobs 2

Writes ``--notebooks`` copies of an honest student notebook (10,000 words,
multi-hot, Dense 16 with dropout, 4 epochs of ``model.fit`` with a validation
split) into a temporary class folder, then times ``imdb-lab grade`` on them
with ``--jobs 1`` and with ``--jobs N`` (default: the number of cores), each as
its own process, and prints the wall times, their ratio and the rows. With
``--sandbox``: ``--jobs N --no-sandbox`` against ``--jobs N --require-sandbox``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HONEST_CELLS = [
    "import keras\nimport numpy as np\n\nimport imdb_lab\n\nnum_words = 10000\n"
    "(x_train, y_train), (x_test, y_test) = imdb_lab.load_data(num_words=num_words)",
    "x_train_hot = imdb_lab.multi_hot_encode(x_train, num_words)",
    "imdb_lab.set_seed(42)\nmodel = keras.Sequential([\n    keras.Input((num_words,)),\n"
    "    keras.layers.Dense(16, activation='relu'),\n    keras.layers.Dropout(0.5),\n"
    "    keras.layers.Dense(1, activation='sigmoid'),\n])\n"
    "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
    "model.fit(x_train_hot, y_train, epochs=4, batch_size=512, validation_split=0.2, verbose=0)",
]


def write_class(folder, count):
    """Write ``count`` honest notebooks into ``folder``; return their paths."""
    import nbformat

    paths = []
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source) for source in HONEST_CELLS]
        path = Path(folder) / f"student{i + 1:02d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def grade(paths, jobs, *options):
    """Run ``imdb-lab grade --jobs JOBS OPTIONS`` on ``paths``; return (wall seconds, its table)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "imdb_lab", "grade", *map(str, paths), "--jobs", str(jobs),
                             *options], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"grade failed ({result.returncode}):\n{result.stderr}")
    return wall, result.stdout


def main():
    """Grade the class with --jobs 1 and --jobs N; print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                        else os.cpu_count())
    parser.add_argument("--sandbox", action="store_true",
                        help="compare --no-sandbox with --require-sandbox, both at --jobs N")
    args = parser.parse_args()
    if not os.environ.get("IMDB_LAB_DATA"):
        sys.exit("set IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz: the benchmark grades on the real data")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        paths = write_class(folder, args.notebooks)
        if args.sandbox:
            plain, plain_table = grade(paths, args.jobs, "--no-sandbox")
            boxed, table = grade(paths, args.jobs, "--require-sandbox")
        else:
            one, _ = grade(paths, 1)
            many, table = grade(paths, args.jobs)
    if args.sandbox:
        print(plain_table, table, sep="\n\n")
        print(f"\n{args.notebooks} honest notebooks at --jobs {args.jobs}: unsandboxed {plain:.1f} s, sandboxed "
              f"{boxed:.1f} s (ratio {boxed / plain:.2f})")
        return
    print(table)
    print(f"\n{args.notebooks} honest notebooks: --jobs 1 {one:.1f} s, --jobs {args.jobs} {many:.1f} s "
          f"(ratio {many / one:.2f})")


if __name__ == "__main__":
    main()
