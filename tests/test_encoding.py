"""Tests of imdb_lab.encoding: multi-hot matrices, the batch feed and the validation split."""

import numpy as np
import pytest

from imdb_lab.encoding import MultiHotSequence, PaddedIdBatches, multi_hot_encode, split_validation
from imdb_lab.reviews import FlatReviews


def naive_multi_hot(sequences, num_words):
    """The textbook reference: a Python loop over reviews and words."""
    out = np.zeros((len(sequences), num_words))
    for i, sequence in enumerate(sequences):
        for word in sequence:
            out[i, word] = 1.0
    return out


def random_sequences(n, num_words, seed=0, max_len=30):
    """Return ``n`` random reviews (with repeated words and some empty ones) as an object array."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(0, num_words, size=rng.integers(0, max_len)).tolist()
    out[3] = []
    out[5] = [7, 7, 7, 1, 7]
    return out


def test_multi_hot_matches_a_naive_loop():
    sequences = random_sequences(50, 40)
    result = multi_hot_encode(sequences, 40)
    assert result.shape == (50, 40) and result.dtype == np.float32
    np.testing.assert_array_equal(result, naive_multi_hot(sequences, 40))
    assert not result[3].any()
    assert result[5].sum() == 2 and result[5, 7] == 1 and result[5, 1] == 1


def test_multi_hot_accepts_lists_and_flat_reviews_and_dtypes():
    sequences = random_sequences(20, 15, seed=1)
    expected = naive_multi_hot(sequences, 15)
    flat = FlatReviews.from_sequences(sequences, np.zeros(20, dtype=np.int64))
    np.testing.assert_array_equal(multi_hot_encode(list(sequences), 15), expected)
    np.testing.assert_array_equal(multi_hot_encode(flat, 15), expected)
    assert multi_hot_encode(flat, 15, dtype="float64").dtype == np.float64
    assert multi_hot_encode(flat, 15, dtype=np.uint8).dtype == np.uint8
    assert multi_hot_encode([], 4).shape == (0, 4)


@pytest.mark.parametrize("bad", [[[1, 2, 10]], [[0, -1]]])
def test_out_of_range_indices_raise_value_error(bad):
    with pytest.raises(ValueError, match="num_words|negative"):
        multi_hot_encode(bad, 10)
    with pytest.raises(ValueError, match="num_words|negative"):
        MultiHotSequence(bad, num_words=10)


@pytest.mark.parametrize("num_words, dtype, error, message", [
    (0, "float32", ValueError, "num_words must be >= 1, got 0"),
    (-5, "float32", ValueError, "num_words must be >= 1, got -5"),
    (2.5, "float32", TypeError, r"num_words must be an int, not 2.5 \(float\)"),
    (True, "float32", TypeError, r"num_words must be an int, not True \(bool\)"),
    (10, "str", TypeError, "dtype must be a bool, integer or float dtype such as 'float32'"),
    (10, "not-a-dtype", TypeError, "dtype must be a NumPy numeric dtype such as 'float32', got 'not-a-dtype'"),
])
def test_bad_num_words_or_dtype_are_rejected(num_words, dtype, error, message):
    with pytest.raises(error, match=message):
        multi_hot_encode([[1, 2]], num_words, dtype=dtype)


def test_bad_sequences_are_rejected():
    with pytest.raises(TypeError, match="sequences must be a list or object array of integer sequences.*not str"):
        multi_hot_encode("the film", 10)
    with pytest.raises(TypeError, match="each review of sequences must hold integer word indices"):
        multi_hot_encode([[1.5, 2.0]], 10)


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


@pytest.mark.parametrize("as_flat", [False, True])
@pytest.mark.parametrize("seed", [None, 0])
def test_validation_split_is_a_disjoint_part_of_the_training_data(as_flat, seed):
    sequences = random_sequences(20, 10, seed=6)
    y_train = np.arange(20) * 10  # distinct labels tell which review is which
    x_train = FlatReviews.from_sequences(sequences, y_train) if as_flat else sequences
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, 0.25, seed=seed)
    assert len(y_fit) == 15 and len(y_val) == 5
    assert set(y_fit.tolist()).isdisjoint(y_val.tolist())
    assert sorted(y_fit.tolist() + y_val.tolist()) == y_train.tolist()
    if seed is None:
        assert y_val.tolist() == y_train[15:].tolist()
    # every review travels with its own label
    fit_rows = x_fit.sequences() if as_flat else x_fit
    for review, label in zip(fit_rows, y_fit):
        assert list(review) == list(sequences[label // 10])
    if as_flat:
        assert isinstance(x_val, FlatReviews) and x_val.labels.tolist() == y_val.tolist()
    (_, y_a), _ = split_validation(x_train, y_train, num_validation=4, seed=1)
    (_, y_b), _ = split_validation(x_train, y_train, num_validation=4, seed=1)
    assert len(y_a) == 16 and y_a.tolist() == y_b.tolist()


@pytest.mark.parametrize("kwargs, message", [
    ({"validation_fraction": 0}, "validation_fraction must be > 0 and < 1, got 0"),
    ({"validation_fraction": 1.0}, "validation_fraction must be > 0 and < 1, got 1"),
    ({"num_validation": 20}, "must keep at least one review on each side: got 20 of 20 training reviews"),
    ({"num_validation": 0}, "must keep at least one review on each side: got 0 of 20 training reviews"),
])
def test_validation_split_rejects_empty_sides(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_validation(random_sequences(20, 10), np.zeros(20), **kwargs)


class RoundedToFour(PaddedIdBatches):
    """Batches padded to their longest review rounded up to 4 ids."""

    def width_for(self, length):
        return max(4, -(-length // 4) * 4)


def test_batch_widths_leave_the_width_free_after_two_alike_batches():
    # batches of 2: lengths 1 and 1, then 1 and 3, then 9: widths by the rule "length rounded up to 4"
    reviews = [[1], [1], [1], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
    feed = RoundedToFour(reviews, num_features=10, batch_size=2)
    # TensorFlow would fix the width to 4 from the first two batches, then fail on the third
    assert feed.batch_widths() == [4, 8, 12]
    assert [feed[i][0].shape for i in range(3)] == [(2, 4), (2, 8), (1, 12)]
    assert feed[2][0][0].tolist() == list(range(2, 11)) + [0, 0, 0]  # ids + 1, padded with 0
    alike = RoundedToFour([[1], [1], [1], [1]], num_features=10, batch_size=1)
    assert alike.batch_widths() == [4, 4, 4, 4]  # all alike: nothing to free
