"""Multi-hot encoding of reviews (NumPy only): the 0/1 vector of length ``num_words`` a Dense model reads.

A dense float64 matrix of 25,000 reviews x 10,000 words takes 2 GB (17.6 GB at
88,000 words), so training never holds one: ``imdb_lab.features.feeds.MultiHotSequence``
fills only the current batch's rows with ``fill_multi_hot``.
"""

import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data.reviews import as_flat, valid_indices
from imdb_lab.errors import LabTypeError

__all__ = ["multi_hot_encode", "fill_multi_hot", "valid_dtype"]


def valid_dtype(dtype):
    """Return ``dtype`` as a NumPy dtype, or raise if it cannot hold 0/1 numbers."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise LabTypeError(f"dtype must be a NumPy numeric dtype such as 'float32', got {dtype!r}") from error
    if dtype.kind not in "biuf":
        raise LabTypeError(f"dtype must be a bool, integer or float dtype such as 'float32', got {dtype}")
    return dtype


def fill_multi_hot(out, tokens, offsets):
    """Set ``out[i, w] = 1`` for every index ``w`` of review ``i``; return ``out``."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.intp), np.diff(offsets))
    out[rows, tokens] = 1
    return out


def multi_hot_encode(sequences, num_words, dtype="float32"):
    """Return a dense ``(n, num_words)`` 0/1 matrix: row i has a 1 at each word index of review i."""
    num_words = valid_int("num_words", num_words, minimum=1)
    dtype = valid_dtype(dtype)
    flat = as_flat(sequences)
    tokens, offsets = flat.tokens, flat.offsets
    valid_indices(tokens, num_words)
    return fill_multi_hot(np.zeros((len(offsets) - 1, num_words), dtype=dtype), tokens, offsets)
