"""The scorer: scores an exported model in a clean process, where no notebook code runs (Keras, NumPy, this package).

The grader starts it with ``launch.run_scorer``, in isolated mode (``python -I -S``,
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

import numpy as np

from imdb_lab.backend import choose_backend
from imdb_lab.check.core import incorrect, not_attempted
from imdb_lab.check.history_check import check_history
from imdb_lab.check.model_check import check_model
from imdb_lab.check.prediction_check import expected_answers, judge_prediction, raised_verdict
from imdb_lab.data.cache import load_prepared
from imdb_lab.data.reviews import OOV_CHAR, FlatReviews, limit_vocabulary, valid_vocabulary
from imdb_lab.errors import LabValueError, describe
from imdb_lab.files import atomic_write
from imdb_lab.grader.exercises import not_judged, verdict
from imdb_lab.grader.statuses import NOT_LOADABLE, NOT_SCORABLE, SCORED, TAMPERED, detailed
from imdb_lab.models.dense import input_width
from imdb_lab.models.evaluation import multi_hot_accuracy
from imdb_lab.models.saving import trained_steps

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


def exported_accuracy(model, test, num_words=None, skip_top=0, *, batch_size=512):
    """Return the accuracy of ``model`` on ``test`` encoded with the notebook's ``num_words`` and ``skip_top``."""
    width = input_width(model)
    num_words, skip_top = valid_vocabulary(width if num_words is None else num_words, skip_top)
    if num_words > width:
        raise LabValueError(f"the notebook's num_words={num_words} does not fit the model's {width} inputs")
    if len(test) == 0:
        raise LabValueError("the test split is empty")
    reviews = limit_vocabulary(test, num_words, skip_top, OOV_CHAR)  # the lab's conventions: load_data's defaults
    return multi_hot_accuracy(model, reviews, test.labels, width, batch_size=batch_size)


def evaluate_export(model_path, settings_path, test_path, test_sha256):
    """Return ``{"status", "accuracy"}`` for an exported model: SCORED with its accuracy, or why it was not."""
    try:
        test = read_test_data(test_path, test_sha256)
    except (OSError, ValueError) as error:
        return {"status": detailed(TAMPERED, error), "accuracy": None}
    try:
        num_words, skip_top = read_settings(settings_path)
    except (OSError, ValueError) as error:
        return {"status": detailed(NOT_SCORABLE, f"its settings file is unreadable: {describe(error)}"),
                "accuracy": None}
    import keras  # here, not above: the grader imports this module (write_test_data) and must not load Keras

    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is a status, not a crash
        return {"status": detailed(NOT_LOADABLE, error), "accuracy": None}
    try:
        return {"status": SCORED, "accuracy": exported_accuracy(model, test, num_words, skip_top)}
    except Exception as error:  # noqa: BLE001
        return {"status": detailed(NOT_SCORABLE, error), "accuracy": None}


class _ReportedHistory:
    """The training history the kernel reported (``history.history`` and ``history.params``), as check_history
    reads a ``keras.callbacks.History``."""

    def __init__(self, reported):
        self.history = reported.get("history") if isinstance(reported.get("history"), dict) else {}
        self.params = reported.get("params") if isinstance(reported.get("params"), dict) else {}


def judge_exercises(model_path, num_words, inputs, words_path, target):
    """Return the verdicts of the model, training and prediction exercises of an exported model (``exercises``).

    ``inputs``: what the kernel reported (``history``, ``prediction``) and the
    texts the runner chose (``texts``); ``words_path``: the grader's prepared
    data file, for the word index. The model is loaded again, compiled, with
    ``safe_mode=True``: its loss, metrics and optimizer steps are read from the
    file, never from the kernel.
    """
    import keras  # as in evaluate_export

    verdicts = {}
    try:
        model = keras.saving.load_model(model_path, compile=True, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - a status of the exercise, not a crash
        problem = incorrect(f"the model's compile settings cannot be loaded safely ({describe(error)})",
                            "compile with Keras's own optimizers, losses and metrics, given by name or class")
        return {"model": verdict("model", problem), "training": verdict("training", problem),
                "prediction": not_judged("prediction", "the model could not be loaded with its compile settings")}
    verdicts["model"] = verdict("model", check_model(model, num_words))
    if trained_steps(model) == 0:
        verdicts["training"] = verdict("training", incorrect(
            "the exported model has not been trained (its optimizer has taken no step)",
            "run the training cell (model.fit) after building the model, and do not build it again after training"))
    elif not isinstance(inputs.get("history"), dict):
        verdicts["training"] = verdict("training", not_attempted("there is no `history`: keep what model.fit "
                                                                 "returns as `history`"), source="kernel")
    else:
        verdicts["training"] = verdict("training", check_history(_ReportedHistory(inputs["history"]), target=target),
                                       source="kernel")
    texts, reported = inputs.get("texts"), inputs.get("prediction")
    if not texts or not isinstance(reported, dict):
        verdicts["prediction"] = not_judged("prediction", "no texts were given to predict_sentiment")
        return verdicts
    if "missing" in reported:
        verdicts["prediction"] = verdict("prediction", not_attempted("there is no function predict_sentiment"))
    elif reported.get("not_attempted"):
        verdicts["prediction"] = verdict("prediction", not_attempted("predict_sentiment still raises "
                                                                     "NotImplementedError"))
    elif "raised" in reported:
        verdicts["prediction"] = verdict("prediction", raised_verdict(str(reported["raised"])[:300]))
    else:
        word_index = {word: rank for rank, word in enumerate(load_prepared(words_path).words, start=1)}
        expected, wrong_rules = expected_answers(model, texts, word_index, num_words)
        # a result too large to record came as its shape (from the kernel): a view of that shape, nothing allocated
        result = reported["result"] if "result" in reported else (
            _shaped(reported["shape"]) if "shape" in reported else str(reported.get("type")))
        verdicts["prediction"] = verdict("prediction", judge_prediction(result, expected, texts, wrong_rules))
    return verdicts


def _shaped(shape):
    """Return a read-only array of ``shape`` (from the kernel's record) that takes no memory, or the shape as text."""
    if (isinstance(shape, list) and len(shape) <= 32
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 for n in shape)):
        return np.broadcast_to(np.float64(0), tuple(shape))
    return f"array of shape {str(shape)[:60]}"


def self_check(folder, test_path, test_sha256):
    """Score a small model of our own as a notebook's would be scored; return it with the files that took.

    The grader runs this once, before any notebook, to know the scorer works
    and which files it runs from (Python modules and shared libraries), so
    that it can notice a notebook changing them.
    """
    import keras  # as in evaluate_export

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
    return sorted(path for path in files if path.startswith("/") and os.path.isfile(path))


def main(argv=None):
    """Command line: MODEL SETTINGS TEST_DATA TEST_SHA256 [EXERCISES WORDS TARGET], or --self-check FOLDER TEST_DATA
    TEST_SHA256; print JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (4, 7):
        print("usage: python -m imdb_lab.grader.scorer MODEL SETTINGS TEST_DATA TEST_SHA256 [EXERCISES WORDS TARGET]\n"
              "       python -m imdb_lab.grader.scorer --self-check FOLDER TEST_DATA TEST_SHA256", file=sys.stderr)
        return 2
    choose_backend()
    if argv[0] == "--self-check":
        result = self_check(*argv[1:])
    else:
        result = evaluate_export(*argv[:4])
        if len(argv) == 7 and result["status"] == SCORED:
            with open(argv[4], encoding="utf-8") as file:
                inputs = json.load(file)
            num_words, _ = read_settings(argv[1])
            try:
                result["exercises"] = judge_exercises(argv[0], num_words or _model_width(argv[0]), inputs, argv[5],
                                                      float(argv[6]))
            except Exception as error:  # noqa: BLE001 - the accuracy stands; the exercises say why they were not
                result["exercises"] = {"error": describe(error)}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def _model_width(model_path):
    """Return the input width of the model at ``model_path`` (loaded safely, uncompiled)."""
    import keras  # as in evaluate_export

    return input_width(keras.saving.load_model(model_path, compile=False, safe_mode=True))


if __name__ == "__main__":
    sys.exit(main())
