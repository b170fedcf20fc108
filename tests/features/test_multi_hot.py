"""Tests of imdb_lab/features/multi_hot.py: multi-hot matrices against a naive loop, and the checks of their inputs."""

import numpy as np
import pytest

from conftest import naive_multi_hot, random_sequences
from imdb_lab.data.reviews import FlatReviews, object_array
from imdb_lab.features.multi_hot import multi_hot_encode


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


def test_chunks_of_reviews_give_the_same_rows(monkeypatch):
    # lists are turned into index arrays 5 reviews at a time here (CHUNK), flat reviews filled 5 rows at a time
    from imdb_lab.features import multi_hot

    monkeypatch.setattr(multi_hot, "CHUNK", 5)
    sequences = random_sequences(23, 30, seed=4)
    expected = naive_multi_hot(sequences, 30)
    np.testing.assert_array_equal(multi_hot_encode(sequences, 30), expected)
    np.testing.assert_array_equal(multi_hot_encode(object_array([*sequences, []]), 30)[:23], expected)
    np.testing.assert_array_equal(multi_hot_encode(FlatReviews.from_sequences(sequences, np.zeros(23)), 30), expected)
    with pytest.raises(ValueError, match="word index 30 does not fit num_words=30"):
        multi_hot_encode([*sequences[:12], [30]], 30)  # in the third chunk


def test_rows_that_cannot_fit_are_refused_before_they_are_made(monkeypatch):
    from imdb_lab import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 10**9)
    with pytest.raises(MemoryError, match=r"multi-hot rows of 25,000 reviews x 200,000 words \(uint8\) would need "
                                          r"5.0 GB, and this machine .* has 1.0 GB left: choose a smaller num_words"):
        multi_hot_encode([[1]] * 25000, 200_000, dtype="uint8")
    assert multi_hot_encode([[1]] * 25000, 40, dtype="uint8").shape == (25000, 40)


@pytest.mark.parametrize("bad", [[[1, 2, 10]], [[0, -1]]])
def test_out_of_range_indices_raise_value_error(bad):
    with pytest.raises(ValueError, match="num_words|negative"):
        multi_hot_encode(bad, 10)


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
