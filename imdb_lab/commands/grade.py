"""``imdb-lab grade``: run student notebooks and measure the accuracy of their ``model`` ourselves.

Each notebook runs headless in a fresh kernel of this interpreter, in its own folder;
``--timeout`` is the total time all its cells may take (a deadline, not a per-cell
limit; kernel start-up and our evaluation are not counted). Then, in the same
kernel, the grader evaluates the ``model`` the notebook left on the real test set
with ``model.predict`` (see imdb_lab.grading). One row per notebook, in the order
given: ``passed``, ``below target``, ``error in cell N: Name: message`` (N counts
the non-empty code cells, the In [N] of a fresh run), ``timed out``, ``no model``,
``not a Keras model`` (or ``evaluation failed: ...``), then ``K of M passed``.
Progress goes to stderr. Exit code 0 only when every notebook passed, 1 otherwise,
2 for bad arguments or missing files.
"""

import argparse
import math
import sys
from pathlib import Path

from imdb_lab.cli import CommandError

HELP = "run student notebooks and grade the accuracy of the model each one trains"


def positive_seconds(text):
    """Parse a positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def accuracy_target(text):
    """Parse an accuracy between 0 and 1 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be an accuracy between 0 and 1, got {text!r}")
    return value


def add_arguments(parser):
    """Register grade's arguments on ``parser``."""
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="student notebooks (.ipynb)")
    parser.add_argument("--timeout", type=positive_seconds, default=1800, metavar="SECONDS",
                        help="total seconds all of a notebook's cells may take, kernel start-up and "
                             "grading not counted (default: 1800)")
    parser.add_argument("--target", type=accuracy_target, default=0.85,
                        help="test accuracy a model needs to pass (default: 0.85)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON to FILE")


def run(args):
    """Grade every notebook, print the table; return 0 only when all of them passed."""
    for notebook in args.notebooks:
        if not Path(notebook).is_file():
            raise CommandError(f"no such notebook: {notebook}")
    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        raise CommandError(f"no such folder for --json: {Path(args.json).parent}")
    from imdb_lab.data import prepare
    from imdb_lab.grading import format_table, grade_notebook, write_json_atomically

    # build the data cache once, here, rather than in the first notebook's time
    prepare()
    results = []
    for notebook in args.notebooks:
        result = grade_notebook(notebook, timeout=args.timeout, target=args.target)
        # progress on stderr, so that standard output is just the table
        print(f"{result.notebook}: {result.status}", file=sys.stderr, flush=True)
        results.append(result)
    print(format_table(results))
    if args.json is not None:
        write_json_atomically([result.as_dict() for result in results], args.json)
    return 0 if all(result.passed for result in results) else 1
