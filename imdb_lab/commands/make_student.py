"""``imdb-lab make-student``: write the learner's notebook (TODO stubs, no outputs) from the solutions notebook."""

from pathlib import Path

from imdb_lab.errors import CommandError
from imdb_lab.student import SOLUTIONS_NAME, STUDENT_NAME, make_student_notebook, student_text

HELP = "write the learner's notebook (TODO stubs, no outputs) from the solutions notebook"


def add_arguments(parser):
    """Register make-student's arguments on ``parser``."""
    parser.add_argument("solutions", nargs="?", default=SOLUTIONS_NAME, metavar="SOLUTIONS",
                        help=f"the solutions notebook (default: {SOLUTIONS_NAME})")
    parser.add_argument("-o", "--output", default=STUDENT_NAME, metavar="STUDENT",
                        help=f"the learner's notebook to write (default: {STUDENT_NAME})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if STUDENT differs from what SOLUTIONS would give")


def run(args):
    """Write (or with --check, compare) the learner's notebook; return the exit code."""
    solutions, output = Path(args.solutions), Path(args.output)
    if not solutions.is_file():
        raise CommandError(f"no solutions notebook at {solutions}: run from the lab's folder or pass its path")
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != student_text(solutions):
            print(f"{output} is out of date: run `imdb-lab make-student {solutions} -o {output}`")
            return 1
        print(f"{output} is up to date")
        return 0
    make_student_notebook(solutions, output)
    print(f"wrote {output} from {solutions}")
    return 0
