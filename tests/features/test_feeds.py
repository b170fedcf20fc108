"""Tests of imdb_lab/features/feeds.py: the feeds give the rows of multi_hot_encode, reshuffle, and keep shapes free."""

import numpy as np
import pytest

from conftest import epoch, random_sequences, varied_reviews
from imdb_lab.data.reviews import FlatReviews
from imdb_lab.features.feeds import MultiHotSequence, PaddedIdBatches, word_id_feed
from imdb_lab.features.multi_hot import multi_hot_encode
from imdb_lab.features.word_ids import WIDTH_MULTIPLE, packed_width


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
    with pytest.raises(ValueError, match=r"labels must hold one label per review \(7\): a 1-D array, or one-hot "
                                         r"rows of shape \(7, classes\) .*; got shape \(6,\)"):
        MultiHotSequence(random_sequences(7, 9), np.zeros(6), num_words=9)
    with pytest.raises(ValueError, match=r"got shape \(7, 2, 1\)"):
        MultiHotSequence(random_sequences(7, 9), np.zeros((7, 2, 1)), num_words=9)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        MultiHotSequence(random_sequences(7, 9), num_words=9, batch_size=0)


def test_feed_gives_one_hot_labels_row_by_row():
    import keras

    labels = np.arange(7) % 2
    one_hot = keras.utils.to_categorical(labels)
    feed = MultiHotSequence(random_sequences(7, 9, seed=3), one_hot, num_words=9, batch_size=4, shuffle=True, seed=1)
    flat = MultiHotSequence(random_sequences(7, 9, seed=3), labels, num_words=9, batch_size=4, shuffle=True, seed=1)
    for index in range(len(feed)):
        (x, y), (x_flat, y_flat) = feed[index], flat[index]
        np.testing.assert_array_equal(x, x_flat)
        np.testing.assert_array_equal(y, keras.utils.to_categorical(y_flat, 2))  # the same reviews' rows


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


def test_training_batches_are_the_multi_hot_batches_packed():
    import keras

    reviews, labels = varied_reviews(1000, 4)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=7)
    # the same seed batches the reviews as MultiHotSequence does: the twin sees the very batches the model would
    multi_hot = MultiHotSequence(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=7)
    for _ in range(2):  # two epochs, each drawn anew
        np.testing.assert_array_equal(feed._order, multi_hot._order)
        seen = []
        for number, ((word_ids, review_of), y, rows) in enumerate(epoch(feed)):
            needed = packed_width(sum(len(set(reviews[r])) for r in rows), len(rows))
            assert word_ids.shape == review_of.shape == (len(rows), word_ids.shape[1])
            # the second batch may be padded wider on TensorFlow (see test_feeds)
            assert word_ids.shape[1] == needed or number == 1 and word_ids.shape[1] > needed
            assert word_ids.shape[1] % WIDTH_MULTIPLE == 0
            flat_ids, flat_reviews = word_ids.ravel(), review_of.ravel()
            for k, review in enumerate(rows):  # reference: a set per review
                assert flat_ids[flat_reviews == k].tolist() == sorted(set(reviews[review]))
            padding = flat_reviews == len(rows)
            # sorted, with padding at the end: TensorFlow's sorted segment sum then returns len(rows) + 1 sums
            assert padding.any() and (np.diff(flat_reviews) >= 0).all() and not flat_ids[padding].any()
            assert padding.sum() <= WIDTH_MULTIPLE * len(rows) or number == 1  # a few ids a review, not a longest
            assert y.tolist() == labels[rows].tolist()
            seen.extend(rows.tolist())
        assert sorted(seen) == list(range(1000))
        feed.on_epoch_end()
        multi_hot.on_epoch_end()
    widths = [x[0].shape[1] for x, _, _ in epoch(feed)]
    if keras.backend.backend() == "tensorflow":
        assert widths[0] != widths[1]  # TensorFlow takes the feed's shape from its first two batches


def test_same_seed_same_batches():
    reviews, labels = varied_reviews(300, 5)
    first, second = (word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=1)
                     for _ in range(2))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(epoch(first), epoch(second), strict=True))


def test_evaluation_and_prediction_batches_keep_the_reviews_order():
    reviews, labels = varied_reviews(200, 6)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32)
    assert feed._order is None
    word_ids, review_of = feed[1][0]
    ids = word_ids.ravel()[review_of.ravel() == 0]  # the first review of the second batch: review 32
    assert ids.tolist() == sorted(set(reviews[32]))
