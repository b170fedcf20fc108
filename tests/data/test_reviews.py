"""Tests of imdb_lab/data/reviews.py: the flat container and Keras's index rules, against plain Python loops."""

import numpy as np
import pytest

from conftest import random_sequences
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.data.reviews import (
    FlatReviews, IndexConventions, as_flat, keras_transform, limit_vocabulary, shift_ranks, sorted_unique,
    split_validation,
)


def test_flat_reviews_round_trip_and_take():
    sequences = [[1, 2, 3], [], [4], [5, 6]]
    flat = FlatReviews.from_sequences(sequences, [0, 1, 0, 1])
    assert [list(r) for r in flat.sequences()] == sequences
    taken = flat.take([3, 1, 0])
    assert [list(r) for r in taken.sequences()] == [[5, 6], [], [1, 2, 3]]
    assert taken.labels.tolist() == [1, 1, 0]


def test_sequences_stay_one_dimensional_when_all_lengths_are_equal():
    # Keras's np.array(..., dtype="object") would make this a 2-D array
    x = FlatReviews.from_sequences([[1, 2], [3, 4]], [0, 1]).sequences()
    assert x.shape == (2,) and x[1] == [3, 4]


@pytest.mark.parametrize("reviews, error, message", [
    ("a review", LabTypeError, "must be a list or object array"),
    ([[1, 2.5]], LabTypeError, "must hold integer word indices"),
    ([1, 2, 3], LabTypeError, "must be a sequence of integer word indices"),
    (np.arange(6), LabTypeError, "not a flat array"),
    (FlatReviews(np.arange(3), np.array([0, 5]), None), LabValueError, "offsets must rise from 0 to len"),
])
def test_as_flat_names_what_is_wrong(reviews, error, message):
    with pytest.raises(error, match=message):
        as_flat(reviews)


@pytest.mark.parametrize("conventions, error, message", [
    (IndexConventions(start_char=1.0), LabTypeError, "start_char must be an int or None"),
    (IndexConventions(oov_char=-1), LabValueError, "oov_char must be >= 0"),
    (IndexConventions(index_from=None), LabTypeError, "index_from must be an int"),
])
def test_bad_index_conventions_are_named(conventions, error, message):
    with pytest.raises(error, match=message):
        conventions.validated()


def test_the_default_conventions_are_keras_load_data_defaults():
    import inspect

    from keras.datasets import imdb

    defaults = {name: p.default for name, p in inspect.signature(imdb.load_data).parameters.items()}
    assert IndexConventions()._asdict() == {name: defaults[name] for name in IndexConventions._fields}


RANKS = [[1, 5, 2], [7], [], [3, 3, 9]]


@pytest.mark.parametrize("conventions", [IndexConventions(), IndexConventions(None, 2, 3),
                                         IndexConventions(1, None, 0)])
@pytest.mark.parametrize("num_words, skip_top", [(10, 0), (8, 5), (100, 0)])
def test_shift_and_limit_match_a_plain_loop(conventions, num_words, skip_top):
    start_char, oov_char, index_from = conventions
    expected = []
    for ranks in RANKS:  # Keras's imdb.load_data, written out
        review = ([start_char] if start_char is not None else []) + [r + index_from for r in ranks]
        if oov_char is None:
            expected.append([i for i in review if skip_top <= i < num_words])
        else:
            expected.append([i if skip_top <= i < num_words else oov_char for i in review])
    shifted = shift_ranks(FlatReviews.from_sequences(RANKS, [0, 1, 0, 1]), conventions)
    limited = limit_vocabulary(shifted, num_words, skip_top, oov_char)
    assert [list(r) for r in limited.sequences()] == expected and limited.labels.tolist() == [0, 1, 0, 1]


def test_keras_transform_shuffles_train_then_test_with_one_generator():
    train = FlatReviews.from_sequences([[1], [2], [3], [4]], [0, 1, 0, 1])
    test = FlatReviews.from_sequences([[5], [6], [7]], [1, 0, 1])
    out_train, out_test = keras_transform([train, test], None, 0, None, 113, IndexConventions(None, 2, 0))
    rng = np.random.RandomState(113)
    order_train, order_test = np.arange(4), np.arange(3)
    rng.shuffle(order_train)
    rng.shuffle(order_test)
    assert [r[0] for r in out_train.sequences()] == [1 + i for i in order_train]
    # num_words=None: the highest index (7) is the limit, so that one word becomes oov_char, as in Keras
    assert [r[0] for r in out_test.sequences()] == [2 if 5 + i == 7 else 5 + i for i in order_test]


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
    for review, label in zip(fit_rows, y_fit, strict=True):
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


@pytest.mark.parametrize("values", [np.array([], dtype=np.int64), np.array([5, 1, 5, 3, 1, 1]),
                                    np.random.default_rng(0).integers(0, 2**40, size=10_000)])
def test_sorted_unique_is_np_unique(values):
    np.testing.assert_array_equal(sorted_unique(values), np.unique(values))


def test_as_flat_keeps_int32_tokens_and_falls_back_to_int64_for_an_index_beyond_it():
    from imdb_lab.data.reviews import as_flat

    small = as_flat([[1, 2, 3], [], [2**31 - 1, -2**31]])
    assert small.tokens.dtype == np.int32 and small.tokens.tolist() == [1, 2, 3, 2**31 - 1, -2**31]
    large = as_flat([[1, 2**31], [5]])  # NumPy 1.x would wrap it round into int32 without a word
    assert large.tokens.dtype == np.int64 and large.tokens.tolist() == [1, 2**31, 5]
    assert large.offsets.tolist() == [0, 2, 3]
    with pytest.raises(TypeError, match="integer word indices that fit 64 bits"):
        as_flat([[2**70]])
    with pytest.raises(TypeError, match="must hold integer word indices"):
        as_flat([[1.5]])
