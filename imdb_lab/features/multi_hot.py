"""Multi-hot encoding of reviews (NumPy only): the 0/1 vector of length ``num_words`` a Dense model reads.

A dense float64 matrix of 25,000 reviews x 10,000 words takes 2 GB (17.6 GB at
88,000 words), so training never holds one: ``imdb_lab.features.feeds.MultiHotSequence``
fills only the current batch's rows with ``fill_multi_hot``.
"""

import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data.reviews import CHUNK, as_flat, valid_indices
from imdb_lab.errors import LabTypeError
from imdb_lab.memory import check_fits

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
    n = len(offsets) - 1
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        rows = np.repeat(np.arange(start, stop, dtype=np.intp), np.diff(offsets[start:stop + 1]))
        out[rows, tokens[offsets[start]:offsets[stop]]] = 1
    return out


def multi_hot_encode(sequences, num_words, dtype="float32"):
    """Return a dense ``(n, num_words)`` 0/1 matrix: row i has a 1 at each word index of review i."""
    num_words = valid_int("num_words", num_words, minimum=1)
    dtype = valid_dtype(dtype)
    # Python lists become index arrays a chunk at a time (8 bytes a word for the whole split, else); a FlatReviews
    # is flat already, and anything else gets as_flat's checks and messages at once
    chunked = isinstance(sequences, list) or (isinstance(sequences, np.ndarray) and sequences.dtype == object)
    flat = None if chunked else as_flat(sequences)
    out = _zeros(len(sequences) if chunked else len(flat), num_words, dtype)
    if not chunked:
        return fill_multi_hot(out, valid_indices(flat.tokens, num_words), flat.offsets)
    for start in range(0, len(sequences), CHUNK):
        flat = as_flat(sequences[start:start + CHUNK])
        fill_multi_hot(out[start:start + len(flat)], valid_indices(flat.tokens, num_words), flat.offsets)
    return out


def _zeros(n, num_words, dtype):
    """Return the ``(n, num_words)`` zeros of the rows, once they are known to fit the memory left."""
    check_fits(n * num_words * dtype.itemsize,
               f"multi-hot rows of {n:,} reviews x {num_words:,} words ({dtype.name})",
               "choose a smaller num_words (10,000 words take 250 MB for 25,000 reviews in uint8), dtype='uint8', "
               "or feed the model batches of rows built as it reads them (imdb_lab.MultiHotSequence)")
    return np.zeros((n, num_words), dtype=dtype)
