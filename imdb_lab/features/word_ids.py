"""Reviews as their distinct word ids (NumPy only): the columns of their multi-hot rows, without the zeros.

A ``Dense`` layer on a multi-hot vector adds up one row of its kernel per word
the review holds, plus its bias: ``x @ W + b = sum(W[w] for w in set(review)) + b``.
So the same model can read each review's distinct word ids instead of a
``(batch, num_words)`` matrix that is almost all zeros (``imdb_lab.models.twin``).
A batch of them is packed (``pack_word_ids``): its ids laid end to end, with
the review each id belongs to, padded at its end only.
"""

import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data.reviews import FlatReviews, as_flat, sorted_unique, valid_indices
from imdb_lab.errors import LabValueError

__all__ = ["distinct_word_ids", "packed_width", "pack_word_ids", "WIDTH_MULTIPLE"]


def distinct_word_ids(reviews, num_words):
    """Return a ``FlatReviews`` of each review's distinct word ids, sorted (labels kept): its multi-hot columns."""
    num_words = valid_int("num_words", num_words, minimum=1)
    flat = as_flat(reviews)
    tokens = flat.tokens.astype(np.int64, copy=False)
    valid_indices(tokens, num_words)
    n = len(flat.offsets) - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(flat.offsets))
    keys = sorted_unique(rows * num_words + tokens)  # one key per (review, word): sorted, repeats dropped
    key_rows, ids = np.divmod(keys, num_words)
    offsets = np.searchsorted(key_rows, np.arange(n + 1, dtype=np.int64)).astype(np.int64)
    return FlatReviews(ids.astype(np.int32), offsets, flat.labels)


# a batch's rows are this many ids wide, or a multiple of it: JAX compiles the step for each input shape, and the
# ids of 512 random reviews vary little, so a feed's batches take two or three widths; TensorFlow and PyTorch run
# any shape without compiling again, and the padding costs them little (README, "Measured choices": 32 was the
# fastest multiple on JAX)
WIDTH_MULTIPLE = 32


def packed_width(num_ids, num_reviews):
    """Return the row width of a packed batch: ``num_ids`` + 1 ids over ``num_reviews`` rows, to a WIDTH_MULTIPLE."""
    num_ids = valid_int("num_ids", num_ids, minimum=0)
    num_reviews = valid_int("num_reviews", num_reviews, minimum=1)
    multiples = -(-(num_ids + 1) // (num_reviews * WIDTH_MULTIPLE))  # + 1: every batch has padding
    return multiples * WIDTH_MULTIPLE


def pack_word_ids(batch, width):
    """Return ``(word_ids, review_of)`` of a ``FlatReviews`` batch: its ids laid end to end, then the review of each.

    Both have shape ``(len(batch), width)`` (Keras wants batch-first inputs) but
    are read as one flat row: the batch's ids in order, then padding with id
    0 whose ``review_of`` is ``len(batch)``, a review that is not there.
    """
    num_reviews, num_ids = len(batch), len(batch.tokens)
    if num_reviews * width <= num_ids:
        raise LabValueError(f"a packed batch of {num_reviews} reviews and {num_ids} ids needs a width of at "
                            f"least {packed_width(num_ids, num_reviews)}, got {width}")
    word_ids = np.zeros(num_reviews * width, dtype=np.int32)
    word_ids[:num_ids] = batch.tokens
    review_of = np.full(num_reviews * width, num_reviews, dtype=np.int32)
    review_of[:num_ids] = np.repeat(np.arange(num_reviews, dtype=np.int32), batch.lengths())
    return word_ids.reshape(num_reviews, width), review_of.reshape(num_reviews, width)
