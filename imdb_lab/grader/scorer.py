"""The scorer: scores an exported model in a clean process, where no notebook code runs (Keras, NumPy, this package).

The grader starts it with ``launch.run_scorer``, in isolated mode (``python -I -S``,
the grader's import path), on a request file (``records.ScorerRequest``): the
exported model file, the notebook's ``num_words`` / ``skip_top`` (plain
numbers in a JSON file), the test reviews the grader wrote before any notebook
ran, with their SHA-256, and what the kernel reported for the exercises. The model
is loaded with ``safe_mode=True`` and ``compile=False``: a model that needs
code to be rebuilt (a custom layer, a ``Lambda``, a subclass that overrides
``predict``) is refused, not run. One JSON line on stdout gives the result
(``records.ScorerResult``).
"""

import dataclasses
import hashlib
import io
import json
import os
import sys

import numpy as np

from imdb_lab.backend import choose_backend
from imdb_lab.check.core import incorrect, not_attempted
from imdb_lab.check.history_check import check_history
from imdb_lab.check.model_check import check_model
from imdb_lab.check.prediction_check import expected_answers, judge_prediction, predict_sentiment_raised
from imdb_lab.data.cache import load_prepared
from imdb_lab.data.reviews import OOV_CHAR, FlatReviews, limit_vocabulary, valid_vocabulary
from imdb_lab.errors import LabValueError, RecordError, describe
from imdb_lab.files import atomic_write
from imdb_lab.grader import records
from imdb_lab.grader.exercises import not_judged, verdict
from imdb_lab.grader.records import ScorerResult
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
    """Return the notebook's ``(num_words, skip_top)`` from the export's settings file (``records.Settings``):
    whole numbers, or None for ``num_words`` and 0 for ``skip_top`` where the notebook had none."""
    settings = records.read_record(path, records.Settings)
    return settings.num_words, settings.skip_top or 0


def exported_accuracy(model, test, num_words=None, skip_top=0, *, batch_size=512):
    """Return the accuracy of ``model`` on ``test`` encoded with the notebook's ``num_words`` and ``skip_top``.

    Args:
        model: the exported model, loaded safely.
        test: the test reviews with every word (``FlatReviews``).
        num_words, skip_top: the notebook's (None: the model's input width, and 0).
        batch_size: reviews encoded and predicted at a time.
    """
    width = input_width(model)
    num_words, skip_top = valid_vocabulary(width if num_words is None else num_words, skip_top)
    if num_words > width:
        raise LabValueError(f"the notebook's num_words={num_words} does not fit the model's {width} inputs")
    if len(test) == 0:
        raise LabValueError("the test split is empty")
    reviews = limit_vocabulary(test, num_words, skip_top, OOV_CHAR)  # the lab's conventions: load_data's defaults
    return multi_hot_accuracy(model, reviews, test.labels, width, batch_size=batch_size)


def evaluate_export(model_path, settings_path, test_path, test_sha256):
    """Return the ``records.ScorerResult`` of an exported model: SCORED with its accuracy, or why it was not."""
    try:
        test = read_test_data(test_path, test_sha256)
    except (OSError, ValueError) as error:
        return ScorerResult(detailed(TAMPERED, error))
    try:
        num_words, skip_top = read_settings(settings_path)
    except RecordError as error:
        return ScorerResult(detailed(NOT_SCORABLE, f"its settings file is unreadable: {describe(error)}"))
    import keras  # here, not above: the grader imports this module (write_test_data) and must not load Keras

    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is a status, not a crash
        return ScorerResult(detailed(NOT_LOADABLE, error))
    try:
        return ScorerResult(SCORED, exported_accuracy(model, test, num_words, skip_top))
    except Exception as error:  # noqa: BLE001
        return ScorerResult(detailed(NOT_SCORABLE, error))


def score(request):
    """Return the ``records.ScorerResult`` of a ``records.ScorerRequest``: the accuracy, and the verdicts of the
    exercises judged here when the request asks for them (``words_path``) and the model was scored.

    Should judging the exercises fail (a fault of the grader, never of the
    notebook), the accuracy stands and ``error`` says why they were not judged.
    """
    result = evaluate_export(request.model_path, request.settings_path, request.test_path, request.test_sha256)
    if request.words_path is None or result.status != SCORED:
        return result
    try:
        num_words, _ = read_settings(request.settings_path)
        return dataclasses.replace(result, verdicts=judge_exercises(request, num_words or _model_width(
            request.model_path)))
    except Exception as error:  # noqa: BLE001 - the accuracy stands; the exercises say why they were not judged
        return dataclasses.replace(result, error=describe(error))


def judge_exercises(request, num_words):
    """Return the verdicts of the model, training and prediction exercises of an exported model.

    ``request``: the ``records.ScorerRequest``, with what the kernel reported
    (``history``, ``prediction``), the texts the runner chose (``texts``) and
    the grader's prepared data file (``words_path``, for the word index). The
    model is loaded again, compiled, with ``safe_mode=True``: its loss, metrics
    and optimizer steps are read from the file, never from the kernel.
    """
    import keras  # as in evaluate_export

    try:
        model = keras.saving.load_model(request.model_path, compile=True, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - a status of the exercise, not a crash
        problem = incorrect(f"the model's compile settings cannot be loaded safely ({describe(error)})",
                            "compile with Keras's own optimizers, losses and metrics, given by name or class")
        return {"model": verdict("model", problem), "training": verdict("training", problem),
                "prediction": not_judged("prediction", "the model could not be loaded with its compile settings")}
    return {"model": verdict("model", check_model(model, num_words)),
            "training": _judge_training(model, request.history, request.target),
            "prediction": _judge_prediction(model, request, num_words)}


def _judge_training(model, history, target):
    """Return the training verdict: the exported model's optimizer steps, then the ``history`` the kernel reported."""
    if trained_steps(model) == 0:
        return verdict("training", incorrect(
            "the exported model has not been trained (its optimizer has taken no step)",
            "run the training cell (model.fit) after building the model, and do not build it again after training"))
    if history is None:
        return verdict("training", not_attempted("there is no `history`: keep what model.fit returns as `history`"),
                       source="kernel")
    return verdict("training", check_history(history, target=target), source="kernel")


def _judge_prediction(model, request, num_words):
    """Return the prediction verdict: what ``predict_sentiment`` gave on the runner's texts against the model's own
    probabilities."""
    record = request.prediction
    if not request.texts or record is None:
        return not_judged("prediction", "predict_sentiment was not called (the notebook stopped, or ran out of time, "
                                        "before the grader could call it)")
    if record.missing is not None:
        return verdict("prediction", not_attempted("there is no function predict_sentiment"))
    if len(record.calls) != 1:
        return not_judged("prediction", "the kernel's record of predict_sentiment is damaged")
    call = record.calls[0]
    if call.kind == "not_attempted":
        return verdict("prediction", not_attempted("predict_sentiment still raises NotImplementedError"))
    if call.kind == "raised":
        return verdict("prediction", predict_sentiment_raised(call.value))
    word_index = {word: rank for rank, word in enumerate(load_prepared(request.words_path).words, start=1)}
    texts = list(request.texts)
    expected, wrong_rules = expected_answers(model, texts, word_index, num_words)
    # a result too large to record came as its shape: a view of that shape, nothing allocated (a type: its name)
    result = _shaped(call.value) if call.kind == "shape" else call.value
    return verdict("prediction", judge_prediction(result, expected, texts, wrong_rules))


def _shaped(shape):
    """Return a read-only array of ``shape`` (a checked record's) that takes no memory."""
    return np.broadcast_to(np.float64(0), shape)


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
    records.write_record(f"{folder}/settings.json", records.Settings(num_words))
    result = evaluate_export(f"{folder}/model.keras", f"{folder}/settings.json", test_path, test_sha256)
    return dataclasses.replace(result, files=tuple(loaded_files()))


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
    """Command line: REQUEST (a ``records.ScorerRequest`` file), or --self-check FOLDER TEST_DATA TEST_SHA256; print
    the ``records.ScorerResult`` as one JSON line after ``RESULT_PREFIX``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 4) or (len(argv) == 4) != (argv[0] == "--self-check"):
        print("usage: python -m imdb_lab.grader.scorer REQUEST.json\n"
              "       python -m imdb_lab.grader.scorer --self-check FOLDER TEST_DATA TEST_SHA256", file=sys.stderr)
        return 2
    choose_backend()
    result = self_check(*argv[1:]) if argv[0] == "--self-check" else score(
        records.read_record(argv[0], records.ScorerRequest))
    print(RESULT_PREFIX + json.dumps(result.to_json()), flush=True)
    return 0


def _model_width(model_path):
    """Return the input width of the model at ``model_path`` (loaded safely, uncompiled)."""
    import keras  # as in evaluate_export

    return input_width(keras.saving.load_model(model_path, compile=False, safe_mode=True))


if __name__ == "__main__":
    sys.exit(main())
