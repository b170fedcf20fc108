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
import functools
import hashlib
import io
import json
import os
import signal
import sys
import zipfile

import numpy as np

try:
    import resource
except ImportError:  # Windows has none
    resource = None

from imdb_lab.backend import choose_backend
from imdb_lab.check.graded import Evidence
from imdb_lab.data.cache import load_prepared
from imdb_lab.data.reviews import OOV_CHAR, FlatReviews, limit_vocabulary, valid_vocabulary
from imdb_lab.errors import LabValueError, RecordError, describe
from imdb_lab.files import atomic_write
from imdb_lab.grader import records
from imdb_lab.grader.exercises import REGISTRY, grader_failed, verdict
from imdb_lab.grader.records import ScorerResult
from imdb_lab.grader.statuses import NOT_LOADABLE, NOT_SCORABLE, SCORED, TAMPERED, Status, detailed
from imdb_lab.memory import format_bytes
from imdb_lab.models.dense import input_width
from imdb_lab.models.evaluation import multi_hot_accuracy

RESULT_PREFIX = "IMDB_LAB_SCORE "
# the largest model file the grader copies from an export, and the most its archive may unpack to: several times
# the largest honest model (all 88,584 words into 512 units is 180 MB of weights), far below a full disk
MAX_MODEL_BYTES = 2**30
# an honest archive holds three files (its metadata, config and weights), and a few assets for a lookup layer
MAX_ARCHIVE_MEMBERS = 1000


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


def check_model_archive(path):
    """Raise LabValueError unless the file at ``path`` is a zip archive (a ``.keras`` file) of at most
    ``MAX_ARCHIVE_MEMBERS`` members that unpack to ``MAX_MODEL_BYTES`` at most, none outside its folder.

    Run before Keras opens the file, which may unpack the weights to a
    temporary folder: a dozen members of zeros that compress to 14 MB would
    otherwise fill the disk. The sizes checked are those the archive declares;
    Python's ``zipfile`` reads no more than they say.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise LabValueError(f"the model file is not a Keras archive ({describe(error)})") from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise LabValueError(f"the model archive holds {len(members)} files, more than the "
                            f"{MAX_ARCHIVE_MEMBERS} a Keras model has")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_MODEL_BYTES:
        raise LabValueError(f"the model archive unpacks to {format_bytes(unpacked, binary=True)}, more than the "
                            f"{format_bytes(MAX_MODEL_BYTES, binary=True)} the grader allows a model")
    for member in members:
        if member.filename.startswith(("/", "\\")) or ".." in member.filename.replace("\\", "/").split("/"):
            raise LabValueError(f"the model archive has a file outside its folder ({member.filename[:60]!r})")


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
        check_model_archive(model_path)
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is a status, not a crash
        return ScorerResult(detailed(NOT_LOADABLE, error))
    try:
        return ScorerResult(Status(SCORED), exported_accuracy(model, test, num_words, skip_top))
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
        return dataclasses.replace(result, verdicts=judge_exercises(
            request, num_words or _model_width(request.model_path), accuracy=result.accuracy))
    except Exception as error:  # noqa: BLE001 - the accuracy stands; the exercises say why they were not judged
        return dataclasses.replace(result, error=describe(error))


def judge_exercises(request, num_words, *, accuracy=None):
    """Return the verdicts of the exercises judged with the exported model (``Graded.in_scorer``), each by its own
    ``judge``, on the kernel's records and inputs in ``request.evidence`` ({exercise: verdict dict}; one that had
    nothing to judge on is left out).

    The model is loaded again, compiled, with ``safe_mode=True``: its loss,
    metrics and optimizer steps are read from the file, never from the kernel.
    When its compile settings cannot be loaded safely, it is loaded without
    them, and the judges are told why (``Evidence.model_problem``). The word
    index is the grader's (``request.words_path``), read when a judge asks;
    ``accuracy`` is the scorer's own measurement of the model. A
    judge that raises is the grader's fault: its exercise says so
    (``exercises.grader_failed``), and the others are judged all the same. So a
    judge must not raise on anything a notebook can write: the records are
    checked before it reads them.
    """
    import keras  # as in evaluate_export

    problem = None
    try:
        model = keras.saving.load_model(request.model_path, compile=True, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - what the file holds is the exercises' verdict, not a crash
        problem = describe(error)
        model = keras.saving.load_model(request.model_path, compile=False, safe_mode=True)
    word_index = functools.cache(
        lambda: {word: rank for rank, word in enumerate(load_prepared(request.words_path).words, start=1)})
    verdicts = {}
    for graded in REGISTRY:
        if not graded.in_scorer:
            continue
        inputs, record = request.evidence.get(graded.name, (None, None))
        try:
            found = graded.judge(Evidence(Status(SCORED), inputs, record, model, problem, num_words, accuracy,
                                          target=request.target, word_index=word_index))
        except Exception as error:  # noqa: BLE001 - the grader's fault: this exercise only, and it says so
            verdicts[graded.name] = grader_failed(graded.name, describe(error))
            continue
        if found is not None:
            verdicts[graded.name] = verdict(graded.name, found)
    return verdicts


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
    _limit_files()
    choose_backend()
    result = self_check(*argv[1:]) if argv[0] == "--self-check" else score(
        records.read_record(argv[0], records.ScorerRequest))
    print(RESULT_PREFIX + json.dumps(result.to_json()), flush=True)
    return 0


def _limit_files():
    """Keep every file this process writes (Keras's unpacked weights) below ``MAX_MODEL_BYTES``: a write past it
    fails with an error (EFBIG) that makes the model not loadable, instead of filling the disk."""
    if resource is None:  # Windows: no file-size limit, and no sandbox: notebooks are trusted there
        return
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    soft = MAX_MODEL_BYTES + 2**20 if hard == resource.RLIM_INFINITY else min(hard, MAX_MODEL_BYTES + 2**20)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error to handle, not a signal that ends the scorer


def _model_width(model_path):
    """Return the input width of the model at ``model_path`` (loaded safely, uncompiled)."""
    import keras  # as in evaluate_export

    return input_width(keras.saving.load_model(model_path, compile=False, safe_mode=True))


if __name__ == "__main__":
    sys.exit(main())
