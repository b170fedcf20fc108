"""Tests of imdb_lab/models/ngram.py: the feed, the model as logistic regression written out, a tiny training run."""

import numpy as np
import pytest

from conftest import flat
from imdb_lab.data.loading import load_flat
from imdb_lab.models.ngram import (
    build_ngram_model, evaluate_ngram_model, ngram_feed, predict_ngram_model, train_ngram_model,
)


@pytest.mark.parametrize("call, error, match", [
    (lambda: build_ngram_model(5, np.ones(4)), ValueError, "one number per feature"),
    (lambda: ngram_feed(flat([[1]]), [0, 1], num_features=5), ValueError, "one label per review"),
    (lambda: train_ngram_model([[1, 2]], num_words=10), TypeError, "labelled FlatReviews"),
    (lambda: train_ngram_model(flat([[1, 2]], [1]), num_words=10, num_epochs=0), ValueError, "num_epochs must be >= 1"),
])
def test_bad_arguments_are_rejected(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_feed_pads_ids_plus_one():
    feed = ngram_feed(flat([[3], [0, 2, 4]], [1, 0]), [1, 0], num_features=5, batch_size=2)
    x, y = feed[0]
    assert x.shape == (2, 128) and y.tolist() == [1, 0]
    assert x[:, :3].tolist() == [[4, 0, 0], [1, 3, 5]] and not x[:, 3:].any()


def test_model_is_logistic_regression_on_scaled_features():
    import keras

    ratio = np.array([0.5, -2.0, 1.0], dtype=np.float32)
    model = build_ngram_model(3, ratio)
    model.get_layer("weights").set_weights([np.array([[9.0], [1.0], [2.0], [3.0]], dtype=np.float32)])
    model.get_layer("logistic").set_weights([np.array([[0.5]], dtype=np.float32), np.array([0.1], np.float32)])
    x = np.array([[1, 3, 0], [2, 0, 0]], dtype=np.int32)  # features {0, 2} and {1}; 0 is padding
    logits = 0.5 * np.array([1 * 0.5 + 3 * 1.0, 2 * -2.0]) + 0.1
    np.testing.assert_allclose(model.predict(x, verbose=0).ravel(), 1 / (1 + np.exp(-logits)), rtol=1e-5)
    assert len(model.trainable_weights) == 3 and keras.ops.shape(model.get_layer("nb_ratio").weights[0])[0] == 4


@pytest.mark.slow
def test_tiny_training_run_learns_and_reloads(small_archive, tmp_path):
    import keras

    train, test = load_flat(num_words=200, source=small_archive)
    model, history, accuracy, metadata = train_ngram_model(
        train, test, num_words=200, num_epochs=20, batch_size=16, seed=0, verbose=0, patience=3)
    assert accuracy > 0.9
    assert "val_loss" in history.history and metadata["kind"] == "ngrams" and metadata["num_words"] == 200
    path = tmp_path / "ngrams.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    sequences = test.sequences()[:20]
    np.testing.assert_allclose(predict_ngram_model(again, sequences, metadata),
                               predict_ngram_model(model, sequences, metadata), rtol=1e-5)
    assert evaluate_ngram_model(again, test, metadata) == pytest.approx(accuracy)


@pytest.mark.slow
def test_refit_trains_on_every_training_review_for_the_best_epoch_count(small_archive):
    import math

    from imdb_lab.features.ngrams import NgramVocabulary, nb_log_count_ratio, ngram_features
    from imdb_lab.models.training import best_epoch

    train, test = load_flat(num_words=200, source=small_archive)
    model, history, accuracy, metadata = train_ngram_model(
        train, test, num_words=200, ngrams=2, num_epochs=6, batch_size=16, seed=0, verbose=0, patience=1,
        refit=True)
    vocabulary = NgramVocabulary.from_metadata(metadata)
    # the ratios (and the vocabulary) of ALL the training reviews, not of the 80 % the first run fitted
    expected = nb_log_count_ratio(ngram_features(train, vocabulary), vocabulary.num_features)
    np.testing.assert_allclose(model.get_layer("nb_ratio").get_weights()[0][1:, 0], expected, rtol=1e-6)
    # trained for the best epoch count of the validation run, on every training review
    steps = (best_epoch(history) + 1) * math.ceil(len(train) / 16)
    assert int(model.optimizer.iterations) == steps and accuracy > 0.9
