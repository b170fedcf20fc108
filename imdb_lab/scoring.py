"""Score an exported model in a clean process: no notebook code runs here, only Keras, NumPy and this package.

The grader starts it with ``run_scorer``, in isolated mode (``python -I -S``,
the grader's import path) with the arguments of ``main``: the exported model file, the notebook's
``num_words`` / ``skip_top`` (plain numbers in a JSON file), and the test
reviews the grader wrote before any notebook ran, with their SHA-256. The model
is loaded with ``safe_mode=True`` and ``compile=False``: a model that needs
code to be rebuilt (a custom layer, a ``Lambda``, a subclass that overrides
``predict``) is refused, not run. One JSON line on stdout gives the result.
"""

import hashlib
import io
import json
import numbers
import os
import sys
from pathlib import Path

import numpy as np

from imdb_lab.errors import LabValueError, error_name
from imdb_lab.files import atomic_write

SCORED = "scored"
NOT_LOADABLE = "model not loadable safely"
NOT_SCORABLE = "model cannot be scored"
TAMPERED = "grading data was altered"
RESULT_PREFIX = "IMDB_LAB_SCORE "


def write_test_data(reviews, path):
    """Write the test reviews (``FlatReviews``) to ``path`` atomically; return the file's SHA-256."""
    buffer = io.BytesIO()
    np.savez(buffer, tokens=reviews.tokens, offsets=reviews.offsets, labels=reviews.labels)
    with atomic_write(path) as file:
        file.write(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def read_test_data(path, sha256):
    """Return the ``FlatReviews`` at ``path``; ValueError unless the file's SHA-256 is ``sha256``."""
    from imdb_lab.reviews import FlatReviews

    with open(path, "rb") as file:
        content = file.read()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise LabValueError(f"{path} is not the file the grader wrote (its SHA-256 differs)")
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        return FlatReviews(npz["tokens"], npz["offsets"], npz["labels"])


def read_settings(path):
    """Return the notebook's ``(num_words, skip_top)`` from its settings file: ints, or None when unusable."""
    with open(path, encoding="utf-8") as file:
        settings = json.load(file)

    def whole(name):
        value = settings.get(name) if isinstance(settings, dict) else None
        return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else None

    return whole("num_words"), whole("skip_top") or 0


def score(model, test, num_words=None, skip_top=0, *, batch_size=512):
    """Return the accuracy of ``model`` on ``test`` encoded with the notebook's ``num_words`` and ``skip_top``."""
    from imdb_lab.evaluation import multi_hot_accuracy
    from imdb_lab.model import input_width
    from imdb_lab.reviews import OOV_CHAR, limit_vocabulary

    width = input_width(model)
    num_words = width if num_words is None else num_words
    if not 0 <= skip_top < num_words <= width:
        raise LabValueError(f"the notebook's num_words={num_words} and skip_top={skip_top} do not fit the model's "
                            f"{width} inputs (0 <= skip_top < num_words <= inputs)")
    if len(test) == 0:
        raise LabValueError("the test split is empty")
    reviews = limit_vocabulary(test, num_words, skip_top, OOV_CHAR)  # the lab's conventions: load_data's defaults
    return multi_hot_accuracy(model, reviews, test.labels, width, batch_size=batch_size)


def _one_line(error):
    from imdb_lab.notebook_run import one_line

    return f"{error_name(error)}: {one_line(error)}"


def evaluate_export(model_path, settings_path, test_path, test_sha256):
    """Return ``{"status", "accuracy"}`` for an exported model: SCORED with its accuracy, or why it was not."""
    try:
        test = read_test_data(test_path, test_sha256)
    except (OSError, ValueError) as error:
        return {"status": f"{TAMPERED}: {_one_line(error)}", "accuracy": None}
    try:
        num_words, skip_top = read_settings(settings_path)
    except (OSError, ValueError) as error:
        return {"status": f"{NOT_SCORABLE}: its settings file is unreadable: {_one_line(error)}", "accuracy": None}
    import keras

    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is a status, not a crash
        return {"status": f"{NOT_LOADABLE}: {_one_line(error)}", "accuracy": None}
    try:
        return {"status": SCORED, "accuracy": score(model, test, num_words, skip_top)}
    except Exception as error:  # noqa: BLE001
        return {"status": f"{NOT_SCORABLE}: {_one_line(error)}", "accuracy": None}


def self_check(folder, test_path, test_sha256):
    """Score a small model of our own as a notebook's would be scored; return it with the files that took.

    The grader runs this once, before any notebook, to know the scorer works
    and which files it runs from (Python modules and shared libraries), so
    that it can notice a notebook changing them.
    """
    import keras

    test = read_test_data(test_path, test_sha256)
    num_words = int(test.tokens.max(initial=2)) + 1
    model = keras.Sequential([keras.Input((num_words,)), keras.layers.Dense(1, activation="sigmoid")])
    model.save(f"{folder}/model.keras")
    with open(f"{folder}/settings.json", "w", encoding="utf-8") as file:
        json.dump({"num_words": num_words}, file)
    result = evaluate_export(f"{folder}/model.keras", f"{folder}/settings.json", test_path, test_sha256)
    return {**result, "files": loaded_files()}


def loaded_files():
    """Return the files this process runs: its modules' sources and bytecode, and the shared libraries it mapped."""
    files = set()
    for module in list(sys.modules.values()):
        for name in ("__file__", "__cached__"):
            if isinstance(getattr(module, name, None), str):
                files.add(getattr(module, name))
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            files.update(line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6)
    except OSError:
        pass  # not Linux: the modules alone
    import os

    return sorted(path for path in files if path.startswith("/") and os.path.isfile(path))


def main(argv=None):
    """Command line: MODEL SETTINGS TEST_DATA TEST_SHA256, or --self-check FOLDER TEST_DATA TEST_SHA256; print JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4:
        print("usage: python -m imdb_lab.scoring MODEL SETTINGS TEST_DATA TEST_SHA256\n"
              "       python -m imdb_lab.scoring --self-check FOLDER TEST_DATA TEST_SHA256", file=sys.stderr)
        return 2
    from imdb_lab.backend import choose_backend

    choose_backend()
    result = self_check(*argv[1:]) if argv[0] == "--self-check" else evaluate_export(*argv)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def scorer_path():
    """Return the scorer's import path: the grader's, without the current folder (where notebooks may write)."""
    here = Path.cwd().resolve()
    package_root = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in sys.path if p and Path(p).exists() and Path(p).resolve() != here]
    return [package_root, *[p for p in paths if p != package_root]]


def scorer_command(arguments):
    """Return the command that runs ``main(arguments)`` isolated: no user site, no .pth hooks, a fixed path."""
    boot = ("import json, sys; sys.path[:] = json.loads(sys.argv.pop(1)); "
            "from imdb_lab.scoring import main; sys.exit(main())")
    return [sys.executable, "-I", "-S", "-B", "-c", boot, json.dumps(scorer_path()), *map(str, arguments)]


def run_scorer(arguments, folder, deadline, memory):
    """Run the scorer on ``arguments`` in ``folder`` (also its home) under the limits; return its result dict."""
    from imdb_lab import processes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "IMDB_LAB_", "LD_PRELOAD"))}
    env.update(HOME=str(folder), TMPDIR=str(folder), KERAS_HOME=str(folder), MPLCONFIGDIR=str(folder),
               TF_CPP_MIN_LOG_LEVEL="2")
    outcome, code, stdout = processes.run_watched(scorer_command(arguments), deadline, memory, env=env, cwd=folder)
    if outcome is not None:
        return {"status": outcome, "accuracy": None}
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if code != 0 or not lines:
        return {"status": f"grading failed: the scorer exited with code {code}", "accuracy": None}
    return json.loads(lines[-1][len(RESULT_PREFIX):])


if __name__ == "__main__":
    sys.exit(main())
