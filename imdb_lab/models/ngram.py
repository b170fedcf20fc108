"""Going further: an NBSVM-style Keras model on n-gram feature ids (``features.ngrams``), trained and evaluated.

With some 360,000 features a dense multi-hot batch would be huge, so
``features.feeds.ngram_feed`` hands the model each review's feature ids,
padded. Keras is imported with this module (through its feed).
"""

import keras
import numpy as np

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.data.reviews import split_validation
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.features.feeds import ngram_feed
from imdb_lab.features.ngrams import NgramVocabulary, nb_log_count_ratio, ngram_features, ngram_vocabulary
from imdb_lab.models.evaluation import model_accuracy
from imdb_lab.models.training import best_epoch, fit_with_early_stopping, set_seed

__all__ = ["build_ngram_model", "train_ngram_model", "evaluate_ngram_model", "predict_ngram_model",
           "UNIGRAM_SETTINGS"]


def build_ngram_model(num_features, nb_ratio=None, learning_rate=1e-3):
    """Return a compiled NBSVM-style Keras model: logistic regression on binary n-gram features scaled by ``nb_ratio``.

    Input: padded feature ids + 1 (``ngram_feed``). The logit is
    ``a * sum_i w[i] * r[i] + b`` over the review's features, with ``w`` trained
    (from 0) and ``r`` the fixed naive-Bayes log-count ratio (all ones: plain
    logistic regression). Built from Keras layers only (two Embeddings, Dot),
    so ``keras.saving.load_model`` reads it back without custom objects.
    """
    num_features = valid_int("num_features", num_features, 1)
    if nb_ratio is None:
        nb_ratio = np.ones(num_features, dtype=np.float32)
    nb_ratio = np.asarray(nb_ratio, dtype=np.float32)
    if nb_ratio.shape != (num_features,):
        raise LabValueError(f"nb_ratio must hold one number per feature, shape ({num_features},), "
                            f"got shape {nb_ratio.shape}")
    learning_rate = valid_number("learning_rate", learning_rate, low=0, include_low=False)
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


# The unigram variant's settings (``imdb-lab train --nb``): batch size and learning rate chosen on the validation
# loss (README, "Measured choices"), then a refit on every training review.
UNIGRAM_SETTINGS = {"batch_size": 128, "learning_rate": 2e-3, "refit": True}


def train_ngram_model(train, test=None, *, num_words, ngrams=2, num_epochs=8, batch_size=64, learning_rate=1e-3,
                      seed=0, verbose=2, min_count=2, validation_fraction=0.2, patience=2, refit=False):
    """Train the n-gram model; return ``(model, history, test_accuracy or None, features_metadata)``.

    ``train``/``test`` are ``FlatReviews`` from ``load_flat(num_words=num_words)``.
    A ``validation_fraction`` of the TRAINING reviews is held out (the test
    split is only evaluated at the end); the n-gram vocabulary and the
    naive-Bayes ratios come from the rest, the fitted part, and early stopping
    on the validation loss restores the best epoch, so that model never saw the
    validation reviews. ``refit=True`` then trains a new model on ALL the
    training reviews (vocabulary and ratios too) for the best epoch count and
    returns it, as Deep Learning with Python's final step does; ``history`` is
    the validation run's.

    Args:
        train, test: ``FlatReviews`` (``test`` None: not evaluated).
        num_words: the word vocabulary's size.
        ngrams: the longest n-gram.
        num_epochs, batch_size, learning_rate, seed, verbose: the fit's.
        min_count: the fewest training reviews an n-gram must occur in.
        validation_fraction: the share of the training reviews held out.
        patience: epochs without improvement before stopping.
        refit: train again on all the training reviews for the best epoch count.
    """
    valid_int("num_epochs", num_epochs, 1)  # before the (slower) vocabulary
    if not (hasattr(train, "tokens") and hasattr(train, "labels")):
        raise LabTypeError("train must be the labelled FlatReviews of imdb_lab.load_flat(num_words=...), "
                           f"got {type(train).__name__}")
    def model_of(reviews, labels):
        """Return ``(vocabulary, model, training feed)`` built from ``reviews`` alone, seeded."""
        set_seed(seed)
        vocabulary = ngram_vocabulary(reviews, num_words, ngrams, min_count=min_count)
        features = ngram_features(reviews, vocabulary)
        num_features = vocabulary.num_features
        model = build_ngram_model(num_features, nb_log_count_ratio(features, num_features), learning_rate)
        feed = ngram_feed(features, labels, num_features=num_features, batch_size=batch_size, shuffle=True,
                          seed=seed)
        return vocabulary, model, feed

    (fit, y_fit), (val, y_val) = split_validation(train, train.labels, validation_fraction, seed=seed)
    vocabulary, model, fit_feed = model_of(fit, y_fit)
    val_feed = ngram_feed(ngram_features(val, vocabulary), y_val, num_features=vocabulary.num_features,
                          batch_size=512)
    history = fit_with_early_stopping(model, fit_feed, val_feed, num_epochs=num_epochs, patience=patience,
                                      verbose=verbose)
    if refit:
        vocabulary, model, train_feed = model_of(train, train.labels)
        fit_with_early_stopping(model, train_feed, None, num_epochs=best_epoch(history) + 1, patience=patience,
                                verbose=verbose)
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
    feed = ngram_feed(features, num_features=vocabulary.num_features, batch_size=512)
    return model_accuracy(model, feed, features.labels)


def predict_ngram_model(model, sequences, vocabulary):
    """Return the positive-class probabilities (1-D float array) of the n-gram ``model`` for ``sequences``."""
    if isinstance(vocabulary, dict):
        vocabulary = NgramVocabulary.from_metadata(vocabulary)
    features = ngram_features(sequences, vocabulary)
    feed = ngram_feed(features, num_features=vocabulary.num_features, batch_size=512)
    return np.asarray(model.predict(feed, verbose=0)).reshape(-1)
