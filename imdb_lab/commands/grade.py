"""``imdb-lab grade``: run student notebooks, contained, and score the model each one exports ourselves.

Each notebook runs in a private copy of its folder, in a fresh kernel of this
interpreter, in a sandbox where the machine has one (Linux, bubblewrap); then
its ``model`` is saved and scored in a clean process on test reviews the grader
prepared before any notebook ran (see imdb_lab.grader.grading). ``--timeout``
and ``--memory`` cover the whole of one notebook: its cells, the export and the
scoring. One row per notebook, in the order given: ``passed``, ``below
target``, ``error in cell N: Name: message`` (N counts the non-empty code
cells, the In [N] of a fresh run), ``timed out``, ``over the memory limit``
(or disk, or process limit), ``no model``, ``not a Keras model``, ``model not loadable safely:
...`` and the like, then ``K of M passed``. Progress goes to stderr. Exit code
0 only when every notebook passed, 1 otherwise, 2 for bad arguments or
missing files.
"""

import os
import sys
from pathlib import Path

from imdb_lab.cgroups import cpu_limit
from imdb_lab.commands.options import accuracy_target, memory_size, positive_int, positive_seconds, shard_spec
from imdb_lab.errors import CommandError, GradingDataError, SandboxError
from imdb_lab.grader import reports
from imdb_lab.grader.exercises import Rubric
from imdb_lab.grader.processes import DEFAULT_DISK, DEFAULT_MEMORY, DEFAULT_PROCESSES, DEFAULT_TIMEOUT
from imdb_lab.grader.sandbox import NOTEBOOK_USER, USER, unavailable, user_unavailable
from imdb_lab.memory import format_bytes
from imdb_lab.models.evaluation import TARGET

HELP = "run student notebooks and grade the accuracy of the model each one trains"


def cores():
    """Return the number of CPU cores this process may use: those it may run on, at most its cgroups' CPU quota (a
    Kubernetes pod's ``limits.cpu`` leaves every core of the node visible, but not usable)."""
    visible = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(visible, cpu_limit() or visible)


def add_arguments(parser):
    """Register grade's arguments on ``parser``."""
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="student notebooks (.ipynb)")
    parser.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="seconds one notebook may take in all: kernel start-up, its cells, exporting and "
                             f"scoring its model (default: {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--memory", type=memory_size, default=DEFAULT_MEMORY, metavar="SIZE",
                        help="memory one notebook may use, all its processes together, e.g. 4G or 1500M "
                             f"(default: {format_bytes(DEFAULT_MEMORY, binary=True)})")
    parser.add_argument("--disk", type=memory_size, default=DEFAULT_DISK, metavar="SIZE",
                        help="disk space one notebook's private folder may take, e.g. 2G "
                             f"(default: {format_bytes(DEFAULT_DISK, binary=True)})")
    parser.add_argument("--processes", type=positive_int, default=DEFAULT_PROCESSES, metavar="N",
                        help=f"processes one notebook may run at once, its kernel included (default: "
                             f"{DEFAULT_PROCESSES})")
    sandboxing = parser.add_mutually_exclusive_group()
    sandboxing.add_argument("--require-sandbox", action="store_true",
                            help="refuse to grade where notebooks cannot run contained: in a sandbox (Linux with "
                                 "bubblewrap) or, for a grader run as root, as the account imdb-lab-notebook; by "
                                 "default they run contained where the machine can, and every row says how")
    sandboxing.add_argument("--no-sandbox", action="store_true",
                            help="run notebooks without a sandbox even where the machine has one (to compare)")
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                        help="notebooks graded at the same time (default: the number of cores)")
    parser.add_argument("--target", type=accuracy_target, default=TARGET,
                        help=f"test accuracy a model needs to pass (default: {TARGET})")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the rows as JSON to FILE, rewritten as each notebook finishes")
    parser.add_argument("--resume", action="store_true",
                        help="skip the notebooks whose rows the --json FILE already holds (unless they changed)")
    parser.add_argument("--csv", metavar="FILE",
                        help="also write a gradebook CSV: notebook, student_id, status, accuracy, score, seconds")
    parser.add_argument("--id-pattern", metavar="REGEX",
                        help="regular expression whose group 'id' (or first group) in a notebook's path is the "
                             "student id of the CSV (default: the file name without .ipynb, or the folder's name "
                             "for IMDB_in_Keras.ipynb)")
    parser.add_argument("--shard", type=shard_spec, metavar="K/N",
                        help="grade share K of N of the notebooks given (every Nth by path), e.g. one task of a "
                             "SLURM array; give each share the same notebooks and its own --json FILE")
    parser.add_argument("--merge", nargs="+", metavar="ROWS",
                        help="grade nothing: join the --json rows files of the N shares into one table (and "
                             "--csv), refusing a share missing or given twice")
    parser.add_argument("--rubric", metavar="FILE",
                        help="the points of each exercise, in TOML ([points] and [partial] tables; README, "
                             "\"Points per exercise\"); default: accuracy 6, the four others 1 each")
    parser.add_argument("--feedback", metavar="DIR",
                        help="also write a feedback page per notebook into DIR (STUDENT_ID.md): each exercise's "
                             "verdict, hint and points")
    parser.add_argument("--gradescope", metavar="DIR",
                        help="also write Gradescope's results.json into DIR (one notebook only), e.g. "
                             "/autograder/results")


def _check_modes(args):
    """Fail when the notebooks, --shard and --merge do not fit together."""
    if args.merge is not None:
        clashing = [f"--{name}" for name in ("json", "resume", "shard", "gradescope") if getattr(args, name)]
        if args.notebooks or clashing:
            raise CommandError(f"--merge grades nothing: give it the shares' rows files alone, not "
                               f"{'notebooks' if args.notebooks else ' or '.join(clashing)}")
        return
    if not args.notebooks:
        raise CommandError("give the notebooks to grade (or --merge ROWS ... to join the rows of shares)")
    if args.shard is not None and args.json is None:
        raise CommandError("--shard needs --json FILE: the share's rows, which --merge joins")


def _check_outputs(args):
    """Fail before grading anything when an output cannot be written or the options contradict each other."""
    for option in ("json", "csv"):
        value = getattr(args, option)
        if value is not None and not Path(value).resolve().parent.is_dir():
            raise CommandError(f"no such folder for --{option}: {Path(value).parent}")
    if args.resume and args.json is None:
        raise CommandError("--resume needs --json FILE: the rows file to resume from")
    if args.gradescope is not None:
        if len(args.notebooks) != 1 or args.shard is not None:
            raise CommandError(f"--gradescope writes the results of one submission: give one notebook, not "
                               f"{len(args.notebooks)}")
        if not Path(args.gradescope).is_dir():
            raise CommandError(f"no such folder for --gradescope: {args.gradescope}")
    if args.feedback is not None and not Path(args.feedback).is_dir():
        raise CommandError(f"no such folder for --feedback: {args.feedback}")
    if args.csv is not None or args.feedback is not None:
        for notebook in args.notebooks:  # a pattern that misses a notebook: say so now, not at the end
            reports.student_id(notebook, args.id_pattern)


def run(args):
    """Grade every notebook (or those of one share), print the table; return 0 only when all of them passed."""
    _check_modes(args)
    if args.merge is not None:
        return _merge(args)
    _check_notebooks(args)
    _check_outputs(args)
    rubric, sandbox = _rubric(args), _sandbox(args)
    from imdb_lab.grader import rows_file  # the grader imports nbformat: not for --help

    shard = args.shard or (1, 1)
    notebooks = rows_file.share_of(args.notebooks, shard)
    log = None if args.json is None else rows_file.ResultsLog(args.json, notebooks, shard=shard,
                                                              class_notebooks=args.notebooks)
    finished = log.load(target=args.target) if args.resume else {}
    if log is not None:
        log.save()  # this class and share from the start, even when nothing is left to grade
    if args.shard is not None:
        print(f"share {shard[0]}/{shard[1]}: {len(notebooks)} of {len(args.notebooks)} notebooks", file=sys.stderr)
    if finished:
        print(f"resuming: {len(finished)} notebook(s) already graded in {args.json}", file=sys.stderr)
    graded = _grade([notebook for notebook in notebooks if notebook not in finished], args, log, finished,
                    notebooks, rubric=rubric, sandbox=sandbox)
    by_notebook = {**finished, **{result.notebook: result for result in graded}}
    return _report([by_notebook[notebook] for notebook in notebooks], args)


def _check_notebooks(args):
    """Fail on a notebook path that does not exist (a typo); a folder named *.ipynb or a symbolic link gets a row of
    its own, since the grader refuses it."""
    for notebook in args.notebooks:
        if not os.path.lexists(notebook):
            raise CommandError(f"no such notebook: {notebook}")


def _sandbox(args):
    """Return whether notebooks run in a sandbox (``--require-sandbox``, ``--no-sandbox``, else where the machine
    can), warning when they run without one although it was not asked."""
    from imdb_lab.grader.grading import use_sandbox  # (nbformat: a second to import)

    asked = True if args.require_sandbox else False if args.no_sandbox else None
    try:
        sandbox = use_sandbox(asked)
    except SandboxError as error:
        raise CommandError(f"{error} (or grade without --require-sandbox)") from error
    if not sandbox and not args.no_sandbox:
        print(f"warning: notebooks run uncontained ({unavailable()}; {user_unavailable()}); every row says so",
              file=sys.stderr)
    elif sandbox == USER:
        print(f"note: notebooks run as the account {NOTEBOOK_USER}, one at a time, not in a sandbox ({unavailable()}); "
              "every row says so", file=sys.stderr)
    return sandbox


def _grade(todo, args, log, finished, notebooks, *, rubric, sandbox):
    """Grade the notebooks ``todo``, recording each row in ``log`` (the rows file, or None) as it finishes and
    showing the progress; return their GradeResults. When the grader's data or code changed under it, print the
    rows so far (with those ``finished`` before) and stop with a CommandError."""
    from imdb_lab.grader.grading import grade_notebooks  # nbformat: a second to import, not for --help

    progress = reports.Progress(len(todo))

    def record(index, result):
        if log is not None:
            log.record(result)  # row by row: a crash loses at most the notebooks in flight
        progress.update(result)

    jobs = args.jobs or min(cores(), max(len(todo), 1))
    try:
        graded = grade_notebooks(todo, jobs=jobs, timeout=args.timeout, memory=args.memory, disk=args.disk,
                                 processes=args.processes, target=args.target, sandbox=sandbox, rubric=rubric,
                                 on_result=record, exclude=args.notebooks, hidden=_outputs(args)) if todo else []
    except SandboxError as error:  # the account notebooks would run as could read the data or a classmate
        progress.close()
        raise CommandError(str(error)) from error
    except GradingDataError as error:
        progress.close()
        if error.results is None:  # before any notebook ran: the scorer does not work here
            raise CommandError(str(error)) from error
        done = {**finished, **{r.notebook: r for r in error.results if r is not None}}
        print(reports.format_table([done[n] for n in notebooks if n in done]))
        raise CommandError(f"{error}: grading stopped, since later scores could not be trusted; restore it "
                           f"(reinstall the packages, or the data) and grade again with --resume") from error
    progress.close()
    return graded


def _rubric(args):
    """Return the rubric of ``--rubric FILE`` (default: the default points); a bad file stops here, saying why."""
    return Rubric() if args.rubric is None else Rubric.from_file(args.rubric)


def _outputs(args):
    """Return what a notebook's sandbox must not show of the grader: its outputs and its key's folder."""
    from imdb_lab.grader.rows_file import state_folder  # the grader imports nbformat: not for --help

    return [Path(path) for path in (args.json, args.csv, args.gradescope) if path is not None] + [state_folder()]


def _merge(args):
    """Join the shares' rows files into one table (and CSV); return 0 only when every notebook passed."""
    from imdb_lab.grader import rows_file  # the grader imports nbformat: not for --help

    _check_outputs(args)
    return _report(rows_file.merge(args.merge, target=args.target), args)


def _report(results, args):
    """Print the table, write the CSV, feedback pages and Gradescope results asked for; return the exit code."""
    print(reports.format_table(results))
    if args.csv is not None:
        reports.write_csv(results, args.csv, pattern=args.id_pattern)
    if args.gradescope is not None:
        reports.write_gradescope(results[0], args.gradescope, target=args.target)
    if args.feedback is not None:
        reports.write_feedback(results, args.feedback, target=args.target, pattern=args.id_pattern)
    return 0 if all(result.passed for result in results) else 1
