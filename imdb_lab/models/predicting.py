"""New text -> probability of a positive review, with a model saved by ``save_trained_model``."""

import math

import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data.reviews import IndexConventions
from imdb_lab.data.text import encode_review
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.features.multi_hot import multi_hot_encode
from imdb_lab.models.dense import input_width
from imdb_lab.models.evaluation import THRESHOLD
from imdb_lab.models.outputs import positive_probability

# feature kinds this module knows how to build: the lab's model, and the n-gram model of imdb_lab.models.ngram
SUPPORTED_KINDS = ("multi_hot", "ngrams")
EMPTY = "empty -"


def feature_kind(metadata):
    """Return the feature kind of a saved model's ``metadata`` ("multi_hot" when it does not say)."""
    if not isinstance(metadata, dict):
        raise LabTypeError(f"metadata must be the dict load_trained_model returns, not {type(metadata).__name__}")
    features = metadata.get("features") or {"kind": "multi_hot"}
    kind = features.get("kind") if isinstance(features, dict) else features
    if kind not in SUPPORTED_KINDS:
        raise LabValueError(
            f"unsupported model kind {kind!r}: this version of imdb-lab predicts with "
            f"{', '.join(SUPPORTED_KINDS)} models only (upgrade imdb-lab or retrain the model)"
        )
    return kind


def multi_hot_width(model, metadata):
    """Return the multi-hot width a saved model expects: its metadata's num_words, checked against its input size."""
    num_words = metadata.get("num_words")
    try:
        width = input_width(model)
    except ValueError:
        width = None
    if num_words is None:
        if width is None:
            raise LabValueError("the model's metadata has no num_words and its input size is unknown: retrain it")
        return width
    if width is not None and width != num_words:
        raise LabValueError(f"the model takes {width} inputs but its metadata says num_words={num_words}")
    return int(num_words)


def is_blank(text):
    """Return True when ``text`` holds nothing but white space (such a review gets no prediction)."""
    return not text.strip()


def predict_proba(model, metadata, texts, *, batch_size=512):
    """Return a float array: the probability that each text is positive (NaN for a blank text).

    ``model`` and ``metadata`` are what ``imdb_lab.models.saving.load_trained_model`` returns;
    each text is encoded with ``encode_review`` and ``multi_hot_encode`` exactly
    as the training data were, in batches so that memory stays bounded.
    """
    if isinstance(texts, str):
        raise LabTypeError("texts must be a list of strings; wrap a single review in a list")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise LabTypeError(f"each text must be a str, not {type(text).__name__}")
    valid_int("batch_size", batch_size, minimum=1)
    kind = feature_kind(metadata)
    # the n-gram model reads padded feature ids, not a multi-hot vector: its width is in the metadata
    num_words = metadata.get("num_words") if kind == "ngrams" else multi_hot_width(model, metadata)
    conventions = {key: metadata.get(key, default) for key, default in
                   {"skip_top": 0, **IndexConventions()._asdict()}.items()}
    word_index = metadata.get("word_index")
    if not isinstance(word_index, dict):
        raise LabValueError("the model's metadata has no word index: save it with save_trained_model")

    probabilities = np.full(len(texts), np.nan)
    wanted = [i for i, text in enumerate(texts) if not is_blank(text)]
    for start in range(0, len(wanted), batch_size):
        rows = wanted[start:start + batch_size]
        sequences = [encode_review(texts[i], word_index, num_words=num_words, **conventions) for i in rows]
        if kind == "ngrams":
            from imdb_lab.models.ngram import predict_ngram_model  # imports Keras: only for an n-gram model

            probabilities[rows] = predict_ngram_model(model, sequences, metadata["features"])
            continue
        x = multi_hot_encode(sequences, num_words)
        probabilities[rows] = positive_probability(model, model.predict(x, batch_size=len(rows), verbose=0))
    return probabilities


def format_prediction(probability):
    """Return ``positive 0.93`` / ``negative 0.12`` (probability of positive), or ``empty -`` for NaN."""
    if probability is None or math.isnan(probability):
        return EMPTY
    label = "positive" if probability > THRESHOLD else "negative"
    return f"{label} {probability:.2f}"
