"""Tests of imdb_lab/feeds.py: the batch feeds give the rows of multi_hot_encode, reshuffle, and keep shapes free."""

import numpy as np
import pytest

from conftest import random_sequences
from imdb_lab.encoding import multi_hot_encode
from imdb_lab.feeds import MultiHotSequence, PaddedIdBatches
from imdb_lab.reviews import FlatReviews


@pytest.mark.parametrize("bad", [[[1, 2, 10]], [[0, -1]]])
def test_out_of_range_indices_raise_value_error(bad):
    with pytest.raises(ValueError, match="num_words|negative"):
        MultiHotSequence(bad, num_words=10)


@pytest.mark.parametrize("as_flat", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_feed_yields_the_rows_of_multi_hot_encode(as_flat, shuffle):
    sequences = random_sequences(23, 12, seed=2)
    labels = np.arange(23)  # distinct labels tell which review each row is
    source = FlatReviews.from_sequences(sequences, labels) if as_flat else sequences
    feed = MultiHotSequence(source, labels, num_words=12, batch_size=5, shuffle=shuffle, seed=3)
    expected = multi_hot_encode(sequences, 12)
    assert len(feed) == 5
    for _epoch in range(2):
        seen = []
        for i in range(len(feed)):
            x, y = feed[i]
            assert x.shape == (5 if i < 4 else 3, 12)
            np.testing.assert_array_equal(x, expected[y])
            seen.extend(y.tolist())
        assert sorted(seen) == list(range(23))
        if not shuffle:
            assert seen == list(range(23))
        feed.on_epoch_end()


def test_shuffled_feed_reshuffles_each_epoch_and_repeats_with_its_seed():
    sequences = random_sequences(40, 9, seed=4)

    def orders(seed):
        feed = MultiHotSequence(sequences, np.arange(40), num_words=9, batch_size=40, shuffle=True, seed=seed)
        result = []
        for _ in range(3):
            result.append(feed[0][1].tolist())
            feed.on_epoch_end()
        return result

    first = orders(7)
    assert first == orders(7)
    assert first[0] != first[1] != first[2]
    assert first != orders(8)


def test_feed_without_labels_gives_inputs_only():
    feed = MultiHotSequence(random_sequences(7, 9), num_words=9, batch_size=4)
    batch = feed[1]
    assert isinstance(batch, tuple) and len(batch) == 1 and batch[0].shape == (3, 9)
    with pytest.raises(ValueError, match=r"labels must be a 1-D array with one label per review \(7\), got shape"):
        MultiHotSequence(random_sequences(7, 9), np.zeros(6), num_words=9)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        MultiHotSequence(random_sequences(7, 9), num_words=9, batch_size=0)


def test_feed_trains_a_keras_model():
    import keras

    sequences = random_sequences(30, 8, seed=5)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy")
    history = model.fit(MultiHotSequence(sequences, np.arange(30) % 2, num_words=8, batch_size=8, shuffle=True,
                                         seed=0), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(MultiHotSequence(sequences, num_words=8, batch_size=8), verbose=0).shape == (30, 1)


class RoundedToFour(PaddedIdBatches):
    """Batches padded to their longest review rounded up to 4 ids."""

    def width_for(self, length):
        return max(4, -(-length // 4) * 4)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_batch_widths_leave_the_width_free_on_tensorflow(monkeypatch, backend):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    # batches of 2: lengths 1 and 1, then 1 and 3, then 9: widths by the rule "length rounded up to 4"
    reviews = [[1], [1], [1], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
    feed = RoundedToFour(reviews, num_features=10, batch_size=2)
    if backend == "tensorflow":
        # TensorFlow would fix the width to 4 from the first two batches, then fail on the third
        assert feed.batch_widths() == [4, 8, 12]
        assert [feed[i][0].shape for i in range(3)] == [(2, 4), (2, 8), (1, 12)]
        # all alike: the next epoch's batches could still differ
        alike = RoundedToFour([[1], [1], [1], [1]], num_features=10, batch_size=1)
        assert alike.batch_widths() == [4, 8, 4, 4]
    else:  # any width goes, and each new one costs JAX a compile
        assert feed.batch_widths() == [4, 4, 12]
    assert feed[2][0][0].tolist() == list(range(2, 11)) + [0, 0, 0]  # ids + 1, padded with 0
