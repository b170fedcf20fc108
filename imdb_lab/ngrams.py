"""Going further: n-gram (bigram) features of the reviews and a wide Keras model on them that beats NBSVM.

A review becomes a ``FlatReviews`` of *feature ids*: its word indices below
``num_words`` (the unigrams) plus, for every n-gram of consecutive indices
found in the vocabulary, ``num_words + rank`` of that n-gram. The vocabulary
is built from the training reviews only. With some 360,000 features a dense
multi-hot batch would be huge, so ``NgramFeed`` (a ``ReviewBatches`` feed, as
``MultiHotSequence`` is) hands the model each review's feature ids, padded.
"""

from typing import NamedTuple

import numpy as np

from imdb_lab.arguments import check_int, check_number
from imdb_lab.encoding import PaddedIdBatches
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.reviews import as_flat

__all__ = [
    "NgramVocabulary",
    "ngram_vocabulary",
    "bigram_vocabulary",
    "ngram_features",
    "nb_log_count_ratio",
    "build_ngram_model",
    "ngram_feed",
    "train_ngram_model",
    "evaluate_ngram_model",
    "predict_ngram_model",
]

MAX_ORDER = 3  # trigram codes of a 88,000-word vocabulary still fit an int64


class NgramVocabulary(NamedTuple):
    """The n-grams a model knows: ``codes[k - 2]`` holds the sorted codes of the kept k-grams.

    The code of the k-gram ``(w1, ..., wk)`` is ``w1 * num_words**(k-1) + ... + wk``; its
    feature id is ``num_words`` plus its position among all kept n-grams (bigrams first).
    """

    num_words: int
    codes: tuple

    @property
    def ngrams(self):
        """Return the highest n-gram order (1: unigrams only)."""
        return len(self.codes) + 1

    @property
    def num_features(self):
        """Return the width of the feature vectors: ``num_words`` plus the number of kept n-grams."""
        return self.num_words + sum(len(c) for c in self.codes)

    def to_metadata(self):
        """Return a JSON-friendly dict (plain ints and lists) that ``from_metadata`` reads back."""
        return {"kind": "ngrams", "num_words": int(self.num_words), "ngrams": int(self.ngrams),
                "codes": [c.tolist() for c in self.codes]}

    @classmethod
    def from_metadata(cls, metadata):
        """Return the vocabulary stored by ``to_metadata``."""
        if not isinstance(metadata, dict) or metadata.get("kind") != "ngrams":
            raise LabValueError("not n-gram metadata: expected the dict that NgramVocabulary.to_metadata returns")
        return cls(int(metadata["num_words"]), tuple(np.asarray(c, dtype=np.int64) for c in metadata["codes"]))


def _as_flat(reviews, name="reviews"):
    """Return ``(tokens int64, offsets int64, labels or None)`` of a FlatReviews or a list of sequences."""
    flat = as_flat(reviews, name)
    return flat.tokens.astype(np.int64, copy=False), flat.offsets, flat.labels


def _check_tokens(tokens, num_words, name):
    if tokens.size and (tokens.min() < 0 or tokens.max() >= num_words):
        raise LabValueError(
            f"{name} holds word index {int(tokens.max()) if tokens.max() >= num_words else int(tokens.min())} "
            f"outside [0, num_words={num_words}): load the reviews with load_flat(num_words={num_words}) "
            f"(or pass num_words above {int(tokens.max())})"
        )


def _ngram_codes(tokens, offsets, num_words, order):
    """Return ``(codes, rows)``: the code of every k-gram inside one review, and that review's position."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    count = len(tokens) - order + 1
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # an n-gram is kept only if its first and last word belong to the same review
    inside = rows[:count] == rows[order - 1:]
    codes = tokens[:count][inside]
    for k in range(1, order):
        codes = codes * num_words + tokens[k:k + count][inside]
    return codes, rows[:count][inside]


def _sorted_unique(values):
    """Return the sorted distinct values (a sort plus a mask: faster than np.unique on large int64 arrays)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def ngram_vocabulary(train, num_words, ngrams=2, *, min_count=2, max_ngrams=None):
    """Return the ``NgramVocabulary`` of n-grams (orders 2..ngrams) found in >= min_count TRAIN reviews."""
    num_words = check_int("num_words", num_words, 1)
    ngrams = check_int("ngrams", ngrams, 1, hint=f"from 1 to {MAX_ORDER}")
    if ngrams > MAX_ORDER:
        raise LabValueError(f"ngrams must be from 1 (unigrams only) to {MAX_ORDER}, got {ngrams}")
    if num_words ** ngrams >= 2 ** 62:
        raise LabValueError(f"num_words={num_words} is too large for {ngrams}-gram codes: use a smaller num_words")
    min_count = check_int("min_count", min_count, 1)
    if max_ngrams is not None:
        max_ngrams = check_int("max_ngrams", max_ngrams, 0, hint="(or None for no limit)")
    tokens, offsets, _ = _as_flat(train, "train")
    _check_tokens(tokens, num_words, "train")
    per_order = []
    for order in range(2, ngrams + 1):
        codes, rows = _ngram_codes(tokens, offsets, num_words, order)
        # document frequency: count each n-gram once per review
        span = num_words ** order
        if span < 2 ** 63 // max(len(offsets), 1):
            distinct = _sorted_unique(rows * span + codes) % span
        else:  # (review, code) does not fit one int64 key
            distinct = _per_review_unique(codes, rows)
        distinct.sort()
        starts = np.flatnonzero(np.r_[True, distinct[1:] != distinct[:-1]])
        counts = np.diff(np.r_[starts, len(distinct)])
        keep = counts >= min_count
        per_order.append((distinct[starts][keep], counts[keep]))
    if max_ngrams is not None and sum(len(c) for c, _ in per_order) > max_ngrams:
        # the most frequent n-grams of all orders; ties go to the lower order, then the lower code
        counts = np.concatenate([n for _, n in per_order])
        order_of = np.concatenate([np.full(len(c), i) for i, (c, _) in enumerate(per_order)])
        chosen = np.lexsort((np.arange(len(counts)), order_of, -counts))[:max_ngrams]
        mask = np.zeros(len(counts), dtype=bool)
        mask[chosen] = True
        bounds = np.cumsum([0] + [len(c) for c, _ in per_order])
        per_order = [(c[mask[bounds[i]:bounds[i + 1]]], None) for i, (c, _) in enumerate(per_order)]
    return NgramVocabulary(num_words, tuple(np.ascontiguousarray(c, dtype=np.int64) for c, _ in per_order))


def _per_review_unique(codes, rows):
    """Return every (review, code) pair's code once, when the two do not fit one int64 key."""
    order = np.lexsort((codes, rows))
    codes, rows = codes[order], rows[order]
    keep = np.r_[True, (codes[1:] != codes[:-1]) | (rows[1:] != rows[:-1])]
    return codes[keep]


def bigram_vocabulary(train, num_words, *, min_count=2, max_bigrams=None):
    """Return the ``NgramVocabulary`` of the bigrams found in at least ``min_count`` TRAIN reviews."""
    return ngram_vocabulary(train, num_words, 2, min_count=min_count, max_ngrams=max_bigrams)


def ngram_features(reviews, vocabulary):
    """Return a ``FlatReviews`` of feature ids: each review's unigrams plus its known n-grams, sorted, once each."""
    from imdb_lab.reviews import FlatReviews

    if not isinstance(vocabulary, NgramVocabulary):
        raise LabTypeError("vocabulary must be the NgramVocabulary that ngram_vocabulary(train, ...) returns, "
                        f"got {type(vocabulary).__name__}")
    tokens, offsets, labels = _as_flat(reviews)
    num_words = vocabulary.num_words
    _check_tokens(tokens, num_words, "reviews")
    n = len(offsets) - 1
    ids = [tokens]
    rows = [np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))]
    first_id = num_words
    for order, known in enumerate(vocabulary.codes, start=2):
        codes, code_rows = _ngram_codes(tokens, offsets, num_words, order)
        if len(known):
            position = np.minimum(np.searchsorted(known, codes), len(known) - 1)
            found = known[position] == codes
            ids.append(position[found] + first_id)
            rows.append(code_rows[found])
        first_id += len(known)
    # one key per (review, feature): sorting groups each review's features, in order, and drops repeats
    keys = _sorted_unique(np.concatenate(rows) * first_id + np.concatenate(ids))
    feature_rows, feature_ids = np.divmod(keys, first_id)
    new_offsets = np.searchsorted(feature_rows, np.arange(n + 1, dtype=np.int64)).astype(np.int64)
    labels = np.full(n, -1, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    return FlatReviews(feature_ids.astype(np.int32), new_offsets, labels)


def nb_log_count_ratio(features, num_features, alpha=1.0):
    """Return NBSVM's log-count ratio r (float32, one per feature) of binary features with labels 0/1."""
    tokens, offsets, labels = _as_flat(features, "features")
    num_features = check_int("num_features", num_features, 1)
    _check_tokens(tokens, num_features, "features")
    if labels is None or not np.isin(np.asarray(labels), (0, 1)).all():
        raise LabValueError("features must be a FlatReviews with labels 0 (negative) / 1 (positive), "
                         "e.g. ngram_features(train, vocabulary) of labelled training reviews")
    alpha = check_number("alpha (the smoothing count)", alpha, low=0, include_low=False)
    positive = np.repeat(np.asarray(labels) == 1, np.diff(offsets))
    p = np.bincount(tokens[positive], minlength=num_features) + float(alpha)
    q = np.bincount(tokens[~positive], minlength=num_features) + float(alpha)
    return (np.log(p / p.sum()) - np.log(q / q.sum())).astype(np.float32)


def _ngram_width(length):
    # few distinct widths, so the backend compiles the step only a few times
    return max(128, -(-length // 128) * 128)


class NgramFeed(PaddedIdBatches):
    """Batches of feature ids, ``id + 1`` padded with 0 to a multiple of 128 columns (see ``ngram_feed``)."""

    def width_for(self, length):
        """Return ``length`` rounded up to a multiple of 128 (at least 128)."""
        return _ngram_width(length)


def ngram_feed(features, labels=None, *, num_features, batch_size=64, shuffle=False, seed=None):
    """Return a Keras ``PyDataset`` of padded feature-id batches (``(x,)`` or ``(x, y)``) for the n-gram model.

    Not ``MultiHotSequence``: with hundreds of thousands of n-grams a dense
    multi-hot batch is huge (361,094 features: about 60 s an epoch and 10 GB of
    memory on 2 cores), while a review holds only a few hundred of them.
    """
    return NgramFeed(features, labels, num_features=num_features, batch_size=batch_size, shuffle=shuffle, seed=seed)


def build_ngram_model(num_features, nb_ratio=None, learning_rate=1e-3):
    """Return a compiled NBSVM-style Keras model: logistic regression on binary n-gram features scaled by ``nb_ratio``.

    Input: padded feature ids + 1 (``ngram_feed``). The logit is
    ``a * sum_i w[i] * r[i] + b`` over the review's features, with ``w`` trained
    (from 0) and ``r`` the fixed naive-Bayes log-count ratio (all ones: plain
    logistic regression). Built from Keras layers only (two Embeddings, Dot),
    so ``keras.saving.load_model`` reads it back without custom objects.
    """
    num_features = check_int("num_features", num_features, 1)
    if nb_ratio is None:
        nb_ratio = np.ones(num_features, dtype=np.float32)
    nb_ratio = np.asarray(nb_ratio, dtype=np.float32)
    if nb_ratio.shape != (num_features,):
        raise LabValueError(f"nb_ratio must hold one number per feature, shape ({num_features},), "
                         f"got shape {nb_ratio.shape}")
    learning_rate = check_number("learning_rate", learning_rate, low=0, include_low=False)
    import keras

    ids = keras.Input((None,), dtype="int32", name="feature_ids")
    # row 0 is the padding: ratio 0, so padding adds nothing to the sum
    ratio = np.concatenate([[0.0], nb_ratio]).astype(np.float32)[:, None]
    weights = keras.layers.Embedding(num_features + 1, 1, embeddings_initializer="zeros", name="weights")(ids)
    scales = keras.layers.Embedding(num_features + 1, 1, embeddings_initializer=keras.initializers.Constant(ratio),
                                    trainable=False, name="nb_ratio")(ids)
    logit = keras.layers.Flatten()(keras.layers.Dot(axes=1, name="weighted_sum")([weights, scales]))
    output = keras.layers.Dense(1, activation="sigmoid", name="logistic")(logit)
    model = keras.Model(ids, output, name="imdb_nbsvm")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train_ngram_model(train, test=None, *, num_words, ngrams=2, num_epochs=8, batch_size=64, seed=0, verbose=2,
                      min_count=2, validation_fraction=0.2, patience=2):
    """Train the n-gram model; return ``(model, history, test_accuracy or None, features_metadata)``.

    ``train``/``test`` are ``FlatReviews`` from ``load_flat(num_words=num_words)``.
    A ``validation_fraction`` of the TRAINING reviews is held out (the test
    split is only evaluated at the end); the n-gram vocabulary and the
    naive-Bayes ratios come from the rest, the fitted part, and early stopping
    on the validation loss restores the best epoch, so the final model never
    saw the validation reviews.
    """
    from imdb_lab.encoding import split_validation
    from imdb_lab.training import set_seed

    num_epochs = check_int("num_epochs", num_epochs, 1)
    patience = check_int("patience", patience, 0)
    if not (hasattr(train, "tokens") and hasattr(train, "labels")):
        raise LabTypeError("train must be the labelled FlatReviews of imdb_lab.load_flat(num_words=...), "
                        f"got {type(train).__name__}")
    set_seed(seed)
    (fit, y_fit), (val, y_val) = split_validation(train, train.labels, validation_fraction, seed=seed)
    vocabulary = ngram_vocabulary(fit, num_words, ngrams, min_count=min_count)
    num_features = vocabulary.num_features
    fit_features = ngram_features(fit, vocabulary)
    model = build_ngram_model(num_features, nb_log_count_ratio(fit_features, num_features))
    import keras

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(
        ngram_feed(fit_features, y_fit, num_features=num_features, batch_size=batch_size, shuffle=True, seed=seed),
        validation_data=ngram_feed(ngram_features(val, vocabulary), y_val, num_features=num_features,
                                   batch_size=512),
        epochs=num_epochs, shuffle=False, callbacks=[stop], verbose=verbose)
    test_accuracy = None
    if test is not None:
        test_accuracy = evaluate_ngram_model(model, test, vocabulary)
    return model, history, test_accuracy, vocabulary.to_metadata()


def evaluate_ngram_model(model, reviews, vocabulary):
    """Return the accuracy of the n-gram ``model`` on labelled ``reviews`` (FlatReviews of word indices)."""
    if isinstance(vocabulary, dict):
        vocabulary = NgramVocabulary.from_metadata(vocabulary)
    features = ngram_features(reviews, vocabulary)
    if not np.isin(features.labels, (0, 1)).all():
        raise LabValueError("reviews must be labelled 0/1 to measure accuracy, e.g. the test split of load_flat")
    from imdb_lab.evaluation import accuracy_from_predictions

    feed = ngram_feed(features, num_features=vocabulary.num_features, batch_size=512)
    return accuracy_from_predictions(model.predict(feed, verbose=0), features.labels)


def predict_ngram_model(model, sequences, vocabulary):
    """Return the positive-class probabilities (1-D float array) of the n-gram ``model`` for ``sequences``."""
    if isinstance(vocabulary, dict):
        vocabulary = NgramVocabulary.from_metadata(vocabulary)
    features = ngram_features(sequences, vocabulary)
    feed = ngram_feed(features, num_features=vocabulary.num_features, batch_size=512)
    return np.asarray(model.predict(feed, verbose=0)).reshape(-1)
