"""Tests of imdb_lab/data/loading.py: parity with keras.datasets.imdb, argument checks, the real archive."""

import itertools

import numpy as np
import pytest
from keras.datasets import imdb as keras_imdb

import imdb_lab


def keras_load(monkeypatch, npz, **kwargs):
    """Run Keras's own loader on ``npz`` (its download patched away)."""
    import keras.src.datasets.imdb as keras_module

    monkeypatch.setattr(keras_module, "get_file", lambda *args, **kw: str(npz))
    return keras_imdb.load_data(**kwargs)


def assert_identical(ours, theirs):
    for (x, y), (kx, ky) in zip(ours, theirs, strict=True):
        assert x.dtype == object and x.ndim == 1
        assert [list(review) for review in x] == [list(review) for review in kx]
        assert all(type(w) is int for review in x for w in review)
        np.testing.assert_array_equal(y, ky)
        assert y.dtype == ky.dtype


ARGUMENTS = [
    {},
    {"num_words": 20},
    {"num_words": 20, "skip_top": 5},
    {"num_words": 10, "skip_top": 2, "oov_char": None},
    {"maxlen": 20},
    {"maxlen": 30, "num_words": 15},
    {"seed": 0},
    {"seed": 2024, "num_words": 12},
    {"start_char": None},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 0, "oov_char": None, "num_words": 8},
    {"oov_char": None},
    {"index_from": 5, "start_char": 3, "oov_char": 4, "num_words": 25},
    {"index_from": 0, "num_words": 10, "skip_top": 1},
    {"skip_top": 8},
]


@pytest.mark.parametrize("kwargs", ARGUMENTS, ids=[str(a) for a in ARGUMENTS])
def test_identical_to_keras_load_data(monkeypatch, tiny_archive, keras_npz, kwargs):
    ours = imdb_lab.load_data(source=tiny_archive, **kwargs)
    assert_identical(ours, keras_load(monkeypatch, keras_npz, **kwargs))


@pytest.mark.parametrize("kwargs", ARGUMENTS, ids=[str(a) for a in ARGUMENTS])
def test_keras_download_read_our_way_is_identical_to_keras_load_data(monkeypatch, keras_npz, kwargs):
    # no local copy: the lab reads Keras's own imdb.npz split by split, rather than through Keras's loader
    import keras.utils

    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kw: str(keras_npz))
    assert imdb_lab.data.sources.resolve_source() is None
    assert_identical(imdb_lab.load_data(**kwargs), keras_load(monkeypatch, keras_npz, **kwargs))


def test_lists_share_one_int_object_per_index(tiny_archive):
    # Keras's lists hold one int object per word; equal values may share one object (README, "Measured choices")
    (x_train, _), (x_test, _) = imdb_lab.load_data(num_words=20, source=tiny_archive)
    first = {}
    for review in [*x_train, *x_test]:
        for word in review:
            assert first.setdefault(word, word) is word
    empty = imdb_lab.FlatReviews(np.array([], np.int32), np.zeros(3, np.int64), None).sequences()
    assert empty.dtype == object and empty.tolist() == [[], []]


def test_load_flat_holds_the_same_reviews(tiny_archive):
    (x_train, y_train), (x_test, y_test) = imdb_lab.load_data(num_words=20, maxlen=25, source=tiny_archive)
    train, test = imdb_lab.load_flat(num_words=20, maxlen=25, source=tiny_archive)
    for flat, x, y in ((train, x_train, y_train), (test, x_test, y_test)):
        assert len(flat) == len(x) and flat.tokens.dtype == np.int32
        assert [list(r) for r in flat.sequences()] == [list(r) for r in x]
        np.testing.assert_array_equal(flat.labels, y)
        np.testing.assert_array_equal(flat.lengths(), [len(r) for r in x])


def test_maxlen_drops_reviews_whose_length_reaches_maxlen(tiny_archive):
    (x_all, _), _ = imdb_lab.load_data(source=tiny_archive)
    maxlen = int(np.median([len(r) for r in x_all]))
    (x, _), _ = imdb_lab.load_data(maxlen=maxlen, source=tiny_archive)
    assert 0 < len(x) < len(x_all)
    # dropped, not truncated: exactly the reviews shorter than maxlen are left, whole
    assert sorted(map(len, x)) == sorted(len(r) for r in x_all if len(r) < maxlen)


def test_num_words_none_makes_the_highest_index_oov(tiny_archive):
    (x_train, _), (x_test, _) = imdb_lab.load_data(source=tiny_archive)
    word_index = imdb_lab.get_word_index(source=tiny_archive)
    assert max(max(r) for r in itertools.chain(x_train, x_test)) == len(word_index) + 3 - 1


def test_word_index_ranks_match_the_sequences(tiny_archive, tiny_reviews):
    word_index = imdb_lab.get_word_index(source=tiny_archive)
    assert sorted(word_index.values()) == list(range(1, len(word_index) + 1))
    # num_words one past the highest index keeps every word (None would make that one OOV)
    (x_train, y_train), _ = imdb_lab.load_data(num_words=len(word_index) + 4, source=tiny_archive, seed=7)
    texts = [imdb_lab.decode_review(r, word_index) for r in x_train]
    originals = {imdb_lab.decode_review(imdb_lab.encode_review(t, word_index), word_index)
                 for (split, label), reviews in tiny_reviews.items() if split == "train" for t in reviews}
    assert set(texts) <= originals and len(set(texts)) == len(originals)


def test_encode_review_matches_load_data(tiny_archive, tiny_reviews):
    word_index = imdb_lab.get_word_index(source=tiny_archive)
    kwargs = {"num_words": 15, "skip_top": 4}
    train, _ = imdb_lab.load_flat(seed=0, source=tiny_archive, **kwargs)
    expected = {tuple(r) for r in train.sequences()}
    encoded = {tuple(imdb_lab.encode_review(t, word_index, **kwargs))
               for (split, _), reviews in tiny_reviews.items() if split == "train" for t in reviews}
    assert encoded == expected


BAD_ARGUMENTS = [
    ({"num_words": 0}, ValueError, "num_words must be >= 1"),
    ({"num_words": 10.0}, TypeError, "num_words must be an int"),
    ({"num_words": True}, TypeError, "num_words must be an int"),
    ({"skip_top": -1}, ValueError, "skip_top must be >= 0"),
    ({"num_words": 10, "skip_top": 10}, ValueError, "skip_top=10 must be smaller than num_words=10"),
    ({"maxlen": 0}, ValueError, "maxlen must be at least 2"),
    ({"maxlen": 1}, ValueError, "maxlen must be at least 2"),
    ({"maxlen": "100"}, TypeError, "maxlen must be an int"),
    ({"seed": 1.5}, TypeError, "seed must be an int"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 2**32}, ValueError, "seed must be below 2\\*\\*32"),
    ({"oov_char": "x"}, TypeError, "oov_char must be an int or None"),
    ({"index_from": -3}, ValueError, "index_from must be >= 0"),
    ({"num_word": 10}, TypeError, "unexpected keyword argument 'num_word'; did you mean 'num_words'"),
    ({"path": "imdb.npz"}, TypeError, "unexpected keyword argument 'path'; to read a local copy"),
    ({"source": 3}, TypeError, "source must be a path"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_ARGUMENTS, ids=[str(a[0]) for a in BAD_ARGUMENTS])
def test_bad_arguments_are_rejected_with_a_clear_message(tiny_archive, kwargs, error, message):
    kwargs = {"source": tiny_archive} | kwargs
    with pytest.raises(error, match=message):
        imdb_lab.load_data(**kwargs)
    with pytest.raises(error, match=message.replace("load_data", "load_flat")):
        imdb_lab.load_flat(**kwargs)


def test_maxlen_that_keeps_nothing_is_reported(tiny_archive):
    with pytest.raises(ValueError, match="increase maxlen"):
        imdb_lab.load_data(maxlen=2, source=tiny_archive)


def test_real_archive_counts(real_data):
    train, test = imdb_lab.load_flat()
    assert (len(train), len(test)) == (25_000, 25_000)
    for split in (train, test):
        assert np.bincount(split.labels).tolist() == [12_500, 12_500]
    word_index = imdb_lab.get_word_index()
    assert len(word_index) == 88_075
    top = sorted(word_index, key=word_index.get)[:12]
    assert top == "the and a of to is br in it i this that".split()
    (x_train, y_train), (x_test, y_test) = imdb_lab.load_data(num_words=10_000)
    assert len(x_train) == 25_000 and max(max(r) for r in x_train) == 9_999
    assert x_train[0][0] == 1 and y_train.dtype == np.int64
