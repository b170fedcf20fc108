"""Start the grader's two child processes under its limits: the runner of a notebook, and the clean scorer.

Both are started by module path (``RUNNER_MODULE``, ``SCORER_MODULE``). The
scorer runs in isolated mode (``python -I -S -B``: no user site, no ``.pth``
hooks, no bytecode written) on the grader's own import path, without the
current folder, where notebooks may write.
"""

import json
import os
import sys
from pathlib import Path

from imdb_lab.errors import RecordError, describe
from imdb_lab.grader import processes
from imdb_lab.grader.records import ScorerResult
from imdb_lab.grader.scorer import RESULT_PREFIX
from imdb_lab.grader.statuses import GRADING_FAILED, detailed

# started by name: tests/grader/test_launch.py checks that these modules exist and define main()
RUNNER_MODULE = "imdb_lab.grader.runner"
SCORER_MODULE = "imdb_lab.grader.scorer"


def runner_command(config_path):
    """Return the command that runs the runner (``RUNNER_MODULE``) on the grader's JSON config file."""
    return [sys.executable, "-m", RUNNER_MODULE, str(config_path)]


def scorer_path():
    """Return the scorer's import path: the grader's, without the current folder (where notebooks may write)."""
    here = Path.cwd().resolve()
    package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds imdb_lab/
    paths = [p for p in sys.path if p and Path(p).exists() and Path(p).resolve() != here]
    return [package_root, *[p for p in paths if p != package_root]]


def scorer_command(arguments):
    """Return the command that runs the scorer's ``main(arguments)`` isolated: no user site, no hooks, a fixed path."""
    boot = ("import json, sys; sys.path[:] = json.loads(sys.argv.pop(1)); "
            f"from {SCORER_MODULE} import main; sys.exit(main())")
    return [sys.executable, "-I", "-S", "-B", "-c", boot, json.dumps(scorer_path()), *map(str, arguments)]


def run_scorer(arguments, folder, deadline, memory):
    """Run the scorer on ``arguments`` (a request file, or ``--self-check ...``) in ``folder`` (also its home) under
    the limits; return its ``records.ScorerResult`` (a GRADING_FAILED one when it gave none)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "IMDB_LAB_", "LD_PRELOAD"))}
    env.update(HOME=str(folder), TMPDIR=str(folder), KERAS_HOME=str(folder), MPLCONFIGDIR=str(folder),
               TF_CPP_MIN_LOG_LEVEL="2")
    outcome, code, stdout = processes.run_watched(scorer_command(arguments), processes.Limits(deadline, memory),
                                                  env=env, cwd=folder)
    if outcome is not None:
        return ScorerResult(outcome)
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if code != 0 or not lines:
        return ScorerResult(detailed(GRADING_FAILED, f"the scorer exited with code {code}"))
    try:
        return ScorerResult.from_json(json.loads(lines[-1][len(RESULT_PREFIX):]))
    except (ValueError, RecordError) as error:
        return ScorerResult(detailed(GRADING_FAILED, f"the scorer's result is damaged ({describe(error)})"))
