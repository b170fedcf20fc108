"""Tests of imdb_lab.features.word_ids: each review's distinct word ids, packed end to end, against plain loops."""

import numpy as np
import pytest

from conftest import random_word_reviews
from imdb_lab.data.reviews import as_flat
from imdb_lab.features.word_ids import WIDTH_MULTIPLE, distinct_word_ids, pack_word_ids, packed_width

NUM_WORDS = 40


def test_distinct_word_ids_are_the_multi_hot_columns():
    reviews, labels = random_word_reviews(50, 0)
    ids = distinct_word_ids(reviews, NUM_WORDS)
    for i, review in enumerate(reviews):  # reference: a plain set per review
        assert ids.tokens[ids.offsets[i]:ids.offsets[i + 1]].tolist() == sorted(set(review))
    with pytest.raises(ValueError, match="word index 40 does not fit num_words=40"):
        distinct_word_ids([[1, 40]], NUM_WORDS)


@pytest.mark.parametrize("num_reviews", [1, 3, 512])
def test_packed_width_is_the_narrowest_multiple_that_leaves_room_for_padding(num_reviews):
    for num_ids in [0, 1, 31, 32, 95, 96, 97, 130 * num_reviews, 16383, 16384, 66560]:
        # reference: a plain search for the narrowest multiple of 32 with more slots than ids
        width = WIDTH_MULTIPLE
        while width * num_reviews <= num_ids:
            width += WIDTH_MULTIPLE
        assert packed_width(num_ids, num_reviews) == width


@pytest.mark.parametrize("num_ids, num_reviews", [(-1, 1), (0, 0)])
def test_packed_width_rejects_negative_ids_and_no_reviews(num_ids, num_reviews):
    with pytest.raises(ValueError, match="num_ids|num_reviews"):
        packed_width(num_ids, num_reviews)


def test_pack_word_ids_lays_the_ids_end_to_end_then_pads():
    batch = as_flat([[4, 7], [], [1, 2, 3], []])
    word_ids, review_of = pack_word_ids(batch, 2)
    assert word_ids.tolist() == [[4, 7], [1, 2], [3, 0], [0, 0]]
    assert review_of.tolist() == [[0, 0], [2, 2], [2, 4], [4, 4]]  # 4: padding, no review
    assert word_ids.dtype == review_of.dtype == np.int32
    with pytest.raises(ValueError, match="needs a width of at least 32, got 1"):
        pack_word_ids(batch, 1)  # 4 slots for 5 ids, and none left for padding
