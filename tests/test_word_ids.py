"""Tests of imdb_lab.word_ids: the word-id twin computes the Dense model exactly, at the cost of the words present."""

import numpy as np
import pytest

from imdb_lab.encoding import multi_hot_encode
from imdb_lab.model import build_model
from imdb_lab.word_ids import can_twin, distinct_word_ids, word_id_feed, word_id_twin

NUM_WORDS = 40


def random_reviews(n, seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, NUM_WORDS, size=rng.integers(0, 60)).tolist() for _ in range(n)], rng.integers(0, 2, n)


def test_distinct_word_ids_are_the_multi_hot_columns():
    reviews, labels = random_reviews(50, 0)
    ids = distinct_word_ids(reviews, NUM_WORDS)
    for i, review in enumerate(reviews):  # reference: a plain set per review
        assert ids.tokens[ids.offsets[i]:ids.offsets[i + 1]].tolist() == sorted(set(review))
    with pytest.raises(ValueError, match="word index 40 does not fit num_words=40"):
        distinct_word_ids([[1, 40]], NUM_WORDS)


def test_the_twin_computes_the_dense_model_and_its_loss():
    import keras

    keras.utils.set_random_seed(3)
    model = build_model(NUM_WORDS, hidden_units=(8, 4), dropout=0.5, l2=1e-3)
    # non-zero biases, so that a forgotten bias would show
    model.set_weights([w + 0.1 for w in model.get_weights()])
    reviews, labels = random_reviews(100, 1)
    twin = word_id_twin(model)
    feed = word_id_feed(reviews, num_words=NUM_WORDS, batch_size=32)
    expected = model.predict(multi_hot_encode(reviews, NUM_WORDS), verbose=0)
    np.testing.assert_allclose(twin.predict(feed, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # the loss, L2 penalty included, is the model's
    labelled = word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=32)
    twin_loss = twin.evaluate(labelled, verbose=0, return_dict=True)["loss"]
    model_loss = model.evaluate(multi_hot_encode(reviews, NUM_WORDS), labels, batch_size=32, verbose=0,
                                return_dict=True)["loss"]
    assert twin_loss == pytest.approx(model_loss, rel=1e-5)
    assert sum(float(keras.ops.convert_to_numpy(loss)) for loss in twin.losses) > 0  # the penalty is there


def test_training_the_twin_trains_the_model_itself():
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(NUM_WORDS, hidden_units=(4,))
    before = [w.copy() for w in model.get_weights()]
    reviews, labels = random_reviews(64, 2)
    word_id_twin(model).fit(word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=16), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_only_a_sequential_starting_with_dense_has_a_twin():
    import keras

    assert can_twin(build_model(NUM_WORDS))
    inputs = keras.Input((NUM_WORDS,))
    functional = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    assert not can_twin(functional)
    with pytest.raises(ValueError, match="the word-id twin needs a keras.Sequential whose first layer is Dense"):
        word_id_twin(functional)
