"""Save a trained model with everything prediction from text needs, inside one ``.keras`` file."""

import json
import zipfile
from pathlib import Path

from imdb_lab.arguments import is_whole
from imdb_lab.backend import tensorflow_left_alone
from imdb_lab.data.reviews import INDEX_FROM, OOV_CHAR, START_CHAR, IndexConventions, valid_vocabulary
from imdb_lab.errors import LabFileNotFoundError, LabTypeError, LabValueError
from imdb_lab.files import atomic_path

__all__ = ["save_trained_model", "load_trained_model", "trained_steps", "was_trained", "FORMAT_VERSION",
           "METADATA_NAME"]

# the extra member of the .keras zip that holds the encoding conventions and the word index
METADATA_NAME = "imdb_lab.json"
FORMAT_VERSION = 1
_NOT_OURS = "was not saved by `imdb-lab train` (imdb_lab.models.saving.save_trained_model)"


def trained_steps(model):
    """Return how many training steps ``model``'s optimizer has taken, or None where it cannot tell (not compiled).

    A model trained through its word-id twin counts the twin's steps: the twin
    trains with the model's own optimizer.
    """
    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    if iterations is None:
        return None
    import keras  # the model exists, so Keras is loaded

    return int(keras.ops.convert_to_numpy(iterations))


def was_trained(model):
    """Return True when ``model`` was fitted, False when it was not, None when it cannot tell (never compiled).

    Fitted: its optimizer has taken a step, or a ``fit`` of it left Keras's
    ``History`` on it (``model.history``). Compiling again starts a new
    optimizer at step 0 but keeps the trained weights and that ``History``; a
    model built again has neither. A file keeps no ``History``: a model loaded
    from one is judged by its optimizer's steps alone.
    """
    steps = trained_steps(model)
    if steps:
        return True
    history = getattr(model, "history", None)
    if getattr(history, "epoch", None) and getattr(history, "model", None) is model:
        return True
    return None if steps is None else False


def _metadata(num_words, skip_top, conventions, word_index, features):
    """Return the checked metadata dict that ``save_trained_model`` stores."""
    num_words, skip_top = valid_vocabulary(num_words, skip_top)
    if num_words is None:
        raise LabTypeError("num_words must be the int the model was trained with, not None")
    if not isinstance(word_index, dict) or not word_index:
        raise LabTypeError("word_index must be the non-empty {word: rank} dict of imdb_lab.get_word_index()")
    if not all(isinstance(w, str) and is_whole(r) for w, r in word_index.items()):
        raise LabTypeError("word_index must map words (str) to integer ranks, as imdb_lab.get_word_index() does")
    if features is None:
        features = {"kind": "multi_hot"}
    if not isinstance(features, dict) or not isinstance(features.get("kind"), str):
        raise LabTypeError("features must be a dict with a 'kind' string, e.g. {'kind': 'multi_hot'}, "
                           f"got {features!r}")
    return {
        "format_version": FORMAT_VERSION,
        "num_words": num_words,
        "skip_top": skip_top,
        **conventions.validated()._asdict(),  # start_char, oov_char, index_from
        "word_index": {word: int(rank) for word, rank in word_index.items()},
        "features": features,
    }


def save_trained_model(model, path, *, num_words, skip_top=0, start_char=START_CHAR, oov_char=OOV_CHAR,
                       index_from=INDEX_FROM, word_index, features=None):
    """Write ``model`` and its text-encoding metadata to the ``.keras`` file ``path`` atomically; return the Path.

    Args:
        model: the trained model.
        path: the ``.keras`` file to write.
        num_words, skip_top, start_char, oov_char, index_from: how its reviews were encoded.
        word_index: ``{word: rank}`` of its training reviews.
        features: the n-gram model's feature metadata (None for the Dense model).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise LabValueError(f"the model file must end in .keras, got {str(path)!r}")
    metadata = _metadata(num_words, skip_top, IndexConventions(start_char, oov_char, index_from), word_index,
                         features)
    metadata["trained_steps"] = trained_steps(model)  # 0: saved before any training (explain refuses it)
    # fails early (before the slow save) if the metadata cannot be written as JSON
    payload = json.dumps(metadata, ensure_ascii=False)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise LabFileNotFoundError(f"cannot save the model: the folder {str(folder)!r} does not exist")
    with atomic_path(path, suffix=".tmp.keras") as temporary, tensorflow_left_alone():  # Keras wants .keras
        model.save(temporary)
        with zipfile.ZipFile(temporary, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(METADATA_NAME, payload)
    return path


def read_metadata(path):
    """Return the metadata dict stored in the ``.keras`` file ``path`` without loading the model."""
    path = Path(path)
    if not path.exists():
        raise LabFileNotFoundError(f"no model file at {str(path)!r}: train one with `imdb-lab train --output {path}`")
    if path.is_dir() or not zipfile.is_zipfile(path):
        raise LabValueError(f"{str(path)!r} is not a .keras model file: it {_NOT_OURS}")
    with zipfile.ZipFile(path) as archive:
        if METADATA_NAME not in archive.namelist():
            raise LabValueError(f"{str(path)!r} has no {METADATA_NAME}: it {_NOT_OURS}")
        try:
            metadata = json.loads(archive.read(METADATA_NAME).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LabValueError(f"{str(path)!r} holds a damaged {METADATA_NAME} ({error}): "
                                "train the model again") from error
    if not isinstance(metadata, dict) or not isinstance(metadata.get("format_version"), int):
        raise LabValueError(f"{str(path)!r} holds an unreadable {METADATA_NAME}: it {_NOT_OURS}")
    if metadata["format_version"] > FORMAT_VERSION:
        raise LabValueError(
            f"{str(path)!r} was saved by a newer imdb-lab (format {metadata['format_version']}): upgrade imdb-lab"
        )
    metadata.setdefault("features", {"kind": "multi_hot"})
    return metadata


def load_trained_model(path):
    """Return ``(model, metadata)`` from a ``.keras`` file written by ``save_trained_model``, ready to predict.

    The model is loaded without its optimizer and loss (``compile=False``): a
    prediction needs neither, and an optimizer saved on one Keras backend (say
    PyTorch) does not load on another; the weights do. ``safe_mode`` stays on, so
    a file cannot run code while it loads.
    """
    metadata = read_metadata(path)
    import keras  # once the metadata says the file is ours: a wrong file fails fast, without loading Keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return model, metadata
