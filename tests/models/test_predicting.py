"""Tests of imdb_lab.models.predicting: new text -> probability of a positive review."""

import math
import re

import numpy as np
import pytest

from imdb_lab.models import predicting

WORD_INDEX = {"the": 1, "movie": 2, "great": 3, "awful": 4, "plot": 5, "rare": 40}
NUM_WORDS = 20


def metadata(**changes):
    """The metadata save_trained_model stores, for the word index above."""
    data = {"num_words": NUM_WORDS, "skip_top": 0, "start_char": 1, "oov_char": 2, "index_from": 3,
            "word_index": WORD_INDEX, "features": {"kind": "multi_hot"}}
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def model():
    """A Dense(1, sigmoid) model with fixed random weights, so every input changes the output."""
    import keras

    rng = np.random.default_rng(5)
    net = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1, activation="sigmoid")])
    net.set_weights([rng.normal(size=(NUM_WORDS, 1)).astype("float32"), np.array([0.1], dtype="float32")])
    return net, net.get_weights()


def naive_probability(weights, text, skip_top=0):
    """Reference: build the multi-hot vector by hand and apply the Dense layer with NumPy."""
    kernel, bias = weights
    x = np.zeros(NUM_WORDS)
    # start_char, then each known word; as in Keras, any index out of range -> oov_char
    for i in [1] + [WORD_INDEX[w] + 3 for w in re.findall(r"[a-z0-9']+", text.lower()) if w in WORD_INDEX]:
        x[i if skip_top <= i < NUM_WORDS else 2] = 1
    return 1 / (1 + math.exp(-(x @ kernel[:, 0] + bias[0])))


TEXTS = ["The movie was GREAT!", "Awful plot, awful movie.", "a rare gem", "unknown words only"]


def test_predict_proba_matches_a_hand_computed_dense_layer(model):
    net, weights = model
    probabilities = predicting.predict_proba(net, metadata(), TEXTS)
    expected = [naive_probability(weights, text) for text in TEXTS]
    assert probabilities == pytest.approx(expected, abs=1e-5)


def test_predict_proba_follows_skip_top_and_batches(model):
    net, weights = model
    probabilities = predicting.predict_proba(net, metadata(skip_top=5), TEXTS, batch_size=3)
    expected = [naive_probability(weights, text, skip_top=5) for text in TEXTS]
    assert probabilities == pytest.approx(expected, abs=1e-5)
    assert probabilities != pytest.approx([naive_probability(weights, text) for text in TEXTS], abs=1e-5)


def test_blank_texts_get_nan_and_keep_their_place(model):
    net, weights = model
    probabilities = predicting.predict_proba(net, metadata(), ["", TEXTS[0], " \t ", TEXTS[1]])
    assert math.isnan(probabilities[0]) and math.isnan(probabilities[2])
    assert probabilities[[1, 3]] == pytest.approx([naive_probability(weights, t) for t in TEXTS[:2]], abs=1e-5)


def test_metadata_without_num_words_uses_the_model_input(model):
    net, weights = model
    assert predicting.predict_proba(net, metadata(num_words=None), TEXTS[:1]) == pytest.approx(
        [naive_probability(weights, TEXTS[0])], abs=1e-5)


def test_num_words_that_disagrees_with_the_model_is_an_error(model):
    with pytest.raises(ValueError, match="takes 20 inputs but its metadata says num_words=30"):
        predicting.predict_proba(model[0], metadata(num_words=30), TEXTS)


def test_unknown_feature_kind_is_reported(model):
    with pytest.raises(ValueError, match="unsupported model kind 'ngram'"):
        predicting.predict_proba(model[0], metadata(features={"kind": "ngram", "n": 2}), TEXTS)
    assert predicting.feature_kind(metadata(features=None)) == "multi_hot"


@pytest.mark.parametrize("texts, error, message", [
    ("one review", TypeError, "texts must be a list of strings; wrap a single review in a list"),
    ([b"bytes"], TypeError, "each text must be a str, not bytes"),
])
def test_predict_proba_rejects_bad_texts(model, texts, error, message):
    with pytest.raises(error, match=message):
        predicting.predict_proba(model[0], metadata(), texts)


@pytest.mark.parametrize("probability, line", [
    (0.934, "positive 0.93"), (0.12, "negative 0.12"), (0.5, "negative 0.50"),
    (0.501, "positive 0.50"), (float("nan"), "empty -"), (None, "empty -"),
])
def test_format_prediction(probability, line):
    assert predicting.format_prediction(probability) == line


@pytest.mark.parametrize("ending", ["softmax", "logit"])
def test_predict_proba_reads_a_softmax_or_a_logit_as_the_probability_of_positive(model, ending):
    import keras

    _, weights = model
    kernel, bias = weights
    if ending == "softmax":
        # two softmax units whose score difference is the sigmoid model's logit: the same probabilities
        net = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(2, activation="softmax")])
        net.set_weights([np.concatenate([np.zeros_like(kernel), kernel], axis=1), np.array([0.0, bias[0]], "float32")])
    else:
        net = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1)])
        net.set_weights(weights)
    expected = [naive_probability(weights, text) for text in TEXTS]
    np.testing.assert_allclose(predicting.predict_proba(net, metadata(), TEXTS), expected, rtol=1e-5)
