"""Tests of imdb_lab.evaluation: the one accuracy, against a loop over the reviews."""

import numpy as np
import pytest

from imdb_lab import evaluation


def naive_accuracy(outputs, labels):
    """Reference: one review at a time, as the grading rules describe it."""
    right = 0
    for row, label in zip(outputs, labels):
        row = list(np.ravel(row))
        if len(row) == 2:
            predicted = 1 if row[1] > row[0] else 0
        else:
            predicted = 1 if row[0] > 0.5 else 0
        right += predicted == label
    return right / len(labels)


def test_accuracy_from_sigmoid_and_softmax_outputs_matches_a_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=50)
    sigmoid = rng.random((50, 1))
    softmax = rng.random((50, 2))
    softmax /= softmax.sum(axis=1, keepdims=True)
    assert evaluation.accuracy_from_predictions(sigmoid, labels) == pytest.approx(naive_accuracy(sigmoid, labels))
    assert evaluation.accuracy_from_predictions(softmax, labels) == pytest.approx(naive_accuracy(softmax, labels))


def test_accuracy_from_logits_uses_zero_as_the_threshold():
    labels = np.array([1, 0, 1, 0])
    logits = np.array([[2.5], [-0.2], [0.3], [-3.0]])  # 0.3 is positive as a logit
    assert evaluation.accuracy_from_predictions(logits, labels) == 1.0
    # the same numbers read as probabilities would call 0.3 negative
    assert evaluation.accuracy_from_predictions(np.array([[0.9], [0.2], [0.3], [0.1]]), labels) == 0.75


def test_accuracy_rejects_three_outputs():
    with pytest.raises(ValueError, match="3 outputs"):
        evaluation.accuracy_from_predictions(np.zeros((4, 3)), np.zeros(4))


def test_multi_hot_accuracy_reads_a_logit_model_through_its_output_kind():
    import keras

    # one logit: +2 for word 1, -2 for word 2; a sigmoid reading of the raw outputs would call 0 < x < 1 negative
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.set_weights([np.array([[0.0], [0.7], [-2.0]], dtype="float32"), np.zeros(1, dtype="float32")])
    sequences = [[1], [2], [1, 0]]
    labels = np.array([1, 0, 1])
    assert evaluation.multi_hot_accuracy(model, sequences, labels, 3) == 1.0
