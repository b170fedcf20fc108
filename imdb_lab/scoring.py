"""Score an exported model in a clean process: no notebook code runs here, only Keras, NumPy and this package.

The grader starts ``python -I -S -m``-like (see ``grading.scorer_command``)
with the arguments of ``main``: the exported model file, the notebook's
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
import sys

import numpy as np

from imdb_lab.files import atomic_write

SCORED = "scored"
NOT_LOADABLE = "model not loadable safely"
NOT_SCORABLE = "model cannot be scored"
TAMPERED = "grading data was altered"
# the index conventions of load_data's defaults, which the lab uses
_OOV_CHAR = 2


def write_test_data(reviews, path):
    """Write the test reviews (``FlatReviews``) to ``path`` atomically; return the file's SHA-256."""
    buffer = io.BytesIO()
    np.savez(buffer, tokens=reviews.tokens, offsets=reviews.offsets, labels=reviews.labels)
    with atomic_write(path) as file:
        file.write(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def read_test_data(path, sha256):
    """Return the ``FlatReviews`` at ``path``; ValueError unless the file's SHA-256 is ``sha256``."""
    from imdb_lab.data import FlatReviews

    with open(path, "rb") as file:
        content = file.read()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ValueError(f"{path} is not the file the grader wrote (its SHA-256 differs)")
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
    from imdb_lab.data import _limit_vocabulary
    from imdb_lab.evaluation import multi_hot_accuracy
    from imdb_lab.model import input_width

    width = input_width(model)
    num_words = width if num_words is None else num_words
    if not 0 <= skip_top < num_words <= width:
        raise ValueError(f"the notebook's num_words={num_words} and skip_top={skip_top} do not fit the model's "
                         f"{width} inputs (0 <= skip_top < num_words <= inputs)")
    if len(test) == 0:
        raise ValueError("the test split is empty")
    reviews = _limit_vocabulary(test, num_words, skip_top, _OOV_CHAR)
    return multi_hot_accuracy(model, reviews, test.labels, width, batch_size=batch_size)


def _one_line(error):
    from imdb_lab.notebook_run import one_line

    return f"{type(error).__name__}: {one_line(error)}"


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


def main(argv=None):
    """Command line of the scorer: MODEL SETTINGS TEST_DATA TEST_SHA256; print the result as one JSON line."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4:
        print("usage: python -m imdb_lab.scoring MODEL SETTINGS TEST_DATA TEST_SHA256", file=sys.stderr)
        return 2
    from imdb_lab.backend import choose_backend

    choose_backend()
    result = evaluate_export(*argv)
    print("IMDB_LAB_SCORE " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
