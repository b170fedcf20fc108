"""Multi-hot encoding of reviews (NumPy only): the 0/1 vector of length ``num_words`` a Dense model reads.

A dense float64 matrix of 25,000 reviews x 10,000 words takes 2 GB (17.6 GB at
88,000 words), so training never holds one: ``imdb_lab.feeds.MultiHotSequence``
fills only the current batch's rows with the functions here.
"""

import numpy as np

from imdb_lab.arguments import check_int
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.reviews import as_flat

__all__ = ["multi_hot_encode", "fill_multi_hot", "check_dtype", "check_indices", "pad_ids"]


def check_dtype(dtype):
    """Return ``dtype`` as a NumPy dtype, or raise if it cannot hold 0/1 numbers."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise LabTypeError(f"dtype must be a NumPy numeric dtype such as 'float32', got {dtype!r}") from error
    if dtype.kind not in "biuf":
        raise LabTypeError(f"dtype must be a bool, integer or float dtype such as 'float32', got {dtype}")
    return dtype


def check_indices(tokens, num_words):
    """Raise ValueError unless every index lies in ``[0, num_words)``."""
    if tokens.size == 0:
        return
    low, high = int(tokens.min()), int(tokens.max())
    if low < 0:
        raise LabValueError(f"word indices must not be negative, found {low}")
    if high >= num_words:
        raise LabValueError(
            f"word index {high} does not fit num_words={num_words}: load the data with the same "
            f"num_words (load_data(num_words={num_words})) or raise num_words above {high}"
        )


def fill_multi_hot(out, tokens, offsets):
    """Set ``out[i, w] = 1`` for every index ``w`` of review ``i``; return ``out``."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.intp), np.diff(offsets))
    out[rows, tokens] = 1
    return out


def pad_ids(batch, width):
    """Return the ids of a ``FlatReviews`` batch + 1, one row per review, padded with 0 to ``width`` columns."""
    lengths = batch.lengths()
    rows = np.repeat(np.arange(len(batch)), lengths)
    columns = np.arange(len(batch.tokens)) - np.repeat(batch.offsets[:-1], lengths)
    x = np.zeros((len(batch), width), dtype=np.int32)
    x[rows, columns] = batch.tokens + 1
    return x


def multi_hot_encode(sequences, num_words, dtype="float32"):
    """Return a dense ``(n, num_words)`` 0/1 matrix: row i has a 1 at each word index of review i."""
    num_words = check_int("num_words", num_words, minimum=1)
    dtype = check_dtype(dtype)
    flat = as_flat(sequences)
    tokens, offsets = flat.tokens, flat.offsets
    check_indices(tokens, num_words)
    return fill_multi_hot(np.zeros((len(offsets) - 1, num_words), dtype=dtype), tokens, offsets)
