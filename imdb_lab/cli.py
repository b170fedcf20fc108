"""The ``imdb-lab`` command line: one sub-command per module in ``imdb_lab.commands``."""

import argparse
import importlib
import sys

from imdb_lab.backend import choose_backend
from imdb_lab.errors import LabError, first_line

# sub-command -> module in imdb_lab.commands; each module defines HELP,
# add_arguments(parser) and run(args) -> exit code, and imports Keras (and the
# grader) only inside run(): --help stays fast, and the backend is chosen first.
COMMANDS = {
    "train": "train",
    "predict": "predict",
    "prepare": "prepare",
    "explain": "explain",
    "grade": "grade",
    "autograder": "autograder",
    "make-student": "make_student",
}

# the sub-commands that import Keras, which must know its backend first
NEEDS_KERAS = ("train", "predict", "explain", "grade")
# the commands whose children run under a memory limit (grade: the students' kernels, which inherit the setting,
# and the scorer): TensorFlow frees its buffers there; the others are one job each, and take speed
LOW_MEMORY = ("grade",)


def build_parser():
    """Return the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="imdb-lab",
        description="Train, try and grade the IMDB sentiment lab.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"imdb_lab.commands.{module_name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def _report(args, error):
    """Print ``error`` as argparse reports bad input, "prog: error: message", and return exit code 2."""
    message = first_line(error, limit=None) or type(error).__name__
    print(f"{args._parser.prog}: error: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the sub-command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in NEEDS_KERAS:
            # before anything imports Keras: an installed backend, or one clear line
            choose_backend(low_memory=args.command in LOW_MEMORY)
        return args._run(args)
    except LabError as error:  # an expected mistake (CommandError included); anything else is a bug: traceback
        return _report(args, error)
    except OSError as error:
        if error.filename is None:
            raise
        return _report(args, error)  # a file the system refused (permissions, a full disk), named in the message
    except KeyboardInterrupt:
        print(f"{args._parser.prog}: interrupted", file=sys.stderr)
        return 130
