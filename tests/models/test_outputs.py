"""Tests of imdb_lab.models.outputs: every valid way to end a binary classifier gives P(positive)."""

import re

import numpy as np
import pytest

from imdb_lab.models.outputs import LOGIT, SIGMOID, SOFTMAX, SOFTMAX_LOGITS, output_kind, positive_probability


def model_ending_in(units, activation, separate=False):
    import keras

    layers = [keras.Input((6,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dropout(0.5)]
    if separate:  # Dense, then an Activation / Softmax layer, then Dropout-free end
        layers += [keras.layers.Dense(units), keras.layers.Softmax() if activation == "softmax"
                   else keras.layers.Activation(activation)]
    else:
        layers.append(keras.layers.Dense(units, activation=activation))
    return keras.Sequential(layers)


@pytest.mark.parametrize("units, activation, separate, kind", [
    (1, "sigmoid", False, SIGMOID), (1, None, False, LOGIT), (2, "softmax", False, SOFTMAX),
    (2, None, False, SOFTMAX_LOGITS), (2, "softmax", True, SOFTMAX), (1, "sigmoid", True, SIGMOID),
])
def test_output_kind_reads_the_last_activation(units, activation, separate, kind):
    assert output_kind(model_ending_in(units, activation, separate)) == kind


@pytest.mark.parametrize("units, activation, words", [
    (1, "relu", "1 unit(s) with activation relu"), (3, "softmax", "3 unit(s) with activation softmax"),
    (1, "softmax", "1 unit(s) with activation softmax"),
])
def test_output_kind_rejects_what_is_not_a_binary_classifier(units, activation, words):
    expected = rf"the model ends in {re.escape(words)}: a binary classifier ends in Dense\(1"
    with pytest.raises(ValueError, match=expected):
        output_kind(model_ending_in(units, activation))


def test_positive_probability_matches_a_hand_computation():
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    sigmoid = model_ending_in(1, "sigmoid")
    np.testing.assert_allclose(positive_probability(sigmoid, sigmoid.predict(x, verbose=0)),
                               sigmoid.predict(x, verbose=0)[:, 0], rtol=1e-6)
    logit = model_ending_in(1, None)
    z = logit.predict(x, verbose=0)[:, 0].astype("float64")
    np.testing.assert_allclose(positive_probability(logit, logit.predict(x, verbose=0)), 1 / (1 + np.exp(-z)))
    softmax = model_ending_in(2, "softmax")
    np.testing.assert_allclose(positive_probability(softmax, softmax.predict(x, verbose=0)),
                               softmax.predict(x, verbose=0)[:, 1], rtol=1e-6)
    two_logits = model_ending_in(2, None)
    z = two_logits.predict(x, verbose=0).astype("float64")
    expected = np.exp(z[:, 1]) / np.exp(z).sum(axis=1)  # the softmax's positive column, by hand
    np.testing.assert_allclose(positive_probability(two_logits, two_logits.predict(x, verbose=0)), expected,
                               rtol=1e-6)
