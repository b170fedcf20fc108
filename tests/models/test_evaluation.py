"""Tests of imdb_lab.models.evaluation: the one accuracy, against a loop over the reviews."""

import numpy as np
import pytest

from imdb_lab.models import evaluation


def naive_accuracy(probabilities, labels):
    """Reference: one review at a time, as the grading rules describe it."""
    right = 0
    for probability, label in zip(probabilities, labels, strict=True):
        predicted = 1 if probability > 0.5 else 0
        right += predicted == label
    return right / len(labels)


def test_accuracy_matches_a_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=50)
    probabilities = rng.random(50)
    probabilities[:3] = 0.5  # exactly 0.5 is negative
    assert evaluation.accuracy_of(probabilities, labels) == pytest.approx(naive_accuracy(probabilities, labels))


@pytest.mark.parametrize("probabilities, labels, message", [
    (np.zeros((4, 2)), np.zeros(4), "one probability per label"),
    (np.zeros(3), np.zeros(4), "one probability per label"),
    (np.zeros(0), np.zeros(0), "at least one"),
    (np.zeros(2), np.array([0, 2]), "0 .negative. or 1"),
])
def test_accuracy_refuses_what_is_not_one_probability_per_label(probabilities, labels, message):
    with pytest.raises(ValueError, match=message):
        evaluation.accuracy_of(probabilities, labels)


def _dense(weights, units=1, activation=None):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation=activation)])
    model.set_weights([np.asarray(weights, dtype="float32"), np.zeros(units, dtype="float32")])
    return model


@pytest.mark.parametrize("units, activation, weights", [
    (1, "sigmoid", [[0.0], [0.7], [-2.0]]),
    # a logit: 0.7 is positive; Keras's "accuracy" (and a sigmoid reading) would call 0 < x < 0.5 negative
    (1, None, [[0.0], [0.7], [-2.0]]),
    (2, "softmax", [[0.0, 0.0], [0.0, 0.7], [2.0, 0.0]]),
    (2, None, [[0.0, 0.0], [0.0, 0.7], [2.0, 0.0]]),
])
def test_multi_hot_accuracy_reads_every_output_kind_alike(units, activation, weights):
    model = _dense(weights, units, activation)
    sequences = [[1], [2], [1, 0]]
    assert evaluation.multi_hot_accuracy(model, sequences, [1, 0, 1], 3) == 1.0
    assert evaluation.multi_hot_accuracy(model, sequences, [0, 0, 0], 3) == pytest.approx(1 / 3)


def test_accuracy_key_finds_how_keras_logged_the_accuracy():
    assert evaluation.accuracy_key({"loss": [1], "binary_accuracy": [0.5]}) == "binary_accuracy"
    assert evaluation.accuracy_key({"loss": [1]}) is None
