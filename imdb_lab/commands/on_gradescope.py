"""What runs on Gradescope, from the zip ``imdb-lab autograder`` writes (``python -m imdb_lab.commands.on_gradescope``).

Gradescope unpacks the zip into ``$AUTOGRADER/source`` (``/autograder``
unless set), runs ``setup.sh`` once to build the image, then
``run_autograder`` for each submission. Both are short shell scripts, shipped
as they are (``imdb_lab/commands/gradescope/``), that call this module:

- ``setup``: encodes the data once (the archive shipped in the zip, else
  Keras's download, fetched now), so that each submission runs offline;
- ``run``: grades the submission's notebook with ``imdb-lab grade
  --gradescope``, which writes ``results/results.json``, and writes one
  itself for a submission without a notebook. The notebook runs in
  bubblewrap's sandbox, or, in a container where that cannot run, as the
  account ``setup.sh`` creates (``sandbox.NOTEBOOK_USER``), with the data,
  state, submission and results made root's alone; without either, the
  results say so in a test only the instructor sees.

What to do comes from the zip's ``settings.json`` (``AutograderSettings``).
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from imdb_lab import cli
from imdb_lab.data.sources import get_word_index
from imdb_lab.errors import LabValueError

SETTINGS_FILE = "settings.json"
# the lab's own file name, graded first when a submission holds several notebooks
LAB_NOTEBOOK = "IMDB_in_Keras.ipynb"
NO_NOTEBOOK = "No notebook (.ipynb) was found in your submission: upload your notebook file."


@dataclasses.dataclass(frozen=True)
class AutograderSettings:
    """What ``imdb-lab autograder`` chose: the options of ``imdb-lab grade``, the data archive's name in the zip
    (None: Keras's download), whether a rubric is in the zip, and the notebook to grade first."""

    options: tuple = ()
    data: str | None = None
    rubric: bool = False
    lab_notebook: str = LAB_NOTEBOOK

    def to_json(self):
        """Return the settings as a JSON-ready dict."""
        return {**dataclasses.asdict(self), "options": list(self.options)}

    @classmethod
    def read(cls, root):
        """Return the settings in ``root/source/settings.json``; LabValueError if the zip's file is not one."""
        path = Path(root) / "source" / SETTINGS_FILE
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            settings = cls(tuple(content["options"]), content["data"], content["rubric"], content["lab_notebook"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LabValueError(f"{path} is not the autograder's settings ({type(error).__name__}): write the zip "
                                "again with imdb-lab autograder") from None
        if not all(isinstance(option, str) for option in settings.options) or not isinstance(settings.rubric, bool):
            raise LabValueError(f"{path} is not the autograder's settings: write the zip again")
        return settings


def autograder_root():
    """Return Gradescope's folder: ``$AUTOGRADER``, else ``/autograder``."""
    return Path(os.environ.get("AUTOGRADER") or "/autograder")


def _venv_command(root, name):
    return str(root / "venv" / "bin" / name)


def setup(root):
    """Encode the data once, when the image is built: the archive in the zip, else Keras's download, with its word
    index. Return the exit code."""
    settings = AutograderSettings.read(root)
    if settings.data:
        os.environ["IMDB_LAB_DATA"] = str(root / "source" / "data" / settings.data)
    code = cli.main(["prepare"])
    if code == 0 and not settings.data:
        get_word_index()  # predict_sentiment's exercise reads it: downloaded now, not in a submission's run
    return code


def chosen_notebook(submission, lab_notebook=LAB_NOTEBOOK):
    """Return the notebook of a submission folder to grade: the lab's own file name if there, else the first by
    path (checkpoints left out), or None when it holds no notebook."""
    notebooks = sorted(path for path in Path(submission).rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    return next((path for path in notebooks if path.name == lab_notebook), notebooks[0] if notebooks else None)


def run(root):
    """Grade the submission in ``root/submission`` and write ``root/results/results.json``; return the exit code
    (0 once the results are written, whether the notebook passed or not)."""
    settings = AutograderSettings.read(root)
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    _keep_from_notebooks(root)
    notebook = chosen_notebook(root / "submission", settings.lab_notebook)
    if notebook is None:
        (results / "results.json").write_text(json.dumps({"score": 0.0, "output": NO_NOTEBOOK, "tests": []}),
                                              encoding="utf-8")
        return 0
    env = dict(os.environ, IMDB_LAB_STATE=str(root / "state"))
    if settings.data:
        env["IMDB_LAB_DATA"] = str(root / "source" / "data" / settings.data)
    command = [_venv_command(root, "imdb-lab"), "grade", str(notebook), "--gradescope", str(results), "--jobs", "1",
               *settings.options]
    if settings.rubric:
        command += ["--rubric", str(root / "source" / "rubric.toml")]
    completed = subprocess.run(command, env=env, check=False)
    # 0: passed, 1: graded but not passed; both wrote results.json
    return 0 if completed.returncode in (0, 1) else completed.returncode


def _keep_from_notebooks(root):
    """Make what a notebook must neither read nor write root's alone (mode 0700): the data shipped in the zip (its
    test reviews), the grader's state, the submission and the results. A notebook run as the notebooks' account
    (where bubblewrap cannot run) then reaches none of them; the grader, root, reads and writes them all."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    for folder in (root / "source" / "data", root / "state", root / "submission", root / "results"):
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o700)


def main(argv=None):
    """Command line: ``setup`` or ``run``, in Gradescope's folder (``autograder_root``); return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv not in (["setup"], ["run"]):
        print("usage: python -m imdb_lab.commands.on_gradescope {setup,run}", file=sys.stderr)
        return 2
    return {"setup": setup, "run": run}[argv[0]](autograder_root())


if __name__ == "__main__":
    sys.exit(main())
