"""Reviews as NumPy arrays: the flat container, Keras's index conventions, and Keras's rules on word indices.

NumPy only: no Keras, no files. ``data`` reads the reviews and applies
``keras_transform``; the encoders, feeds and the grader work on ``FlatReviews``.
"""

import itertools
import operator
import warnings
from typing import NamedTuple, Optional

import numpy as np

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.errors import LabTypeError, LabValueError

# Keras's IMDB conventions (keras.datasets.imdb.load_data's defaults): every review starts with index 1, a word
# outside the vocabulary becomes 2, and the word of rank r (1 = most frequent) is r + 3 (0 is left for padding).
START_CHAR, OOV_CHAR, INDEX_FROM = 1, 2, 3
# reviews worked on at a time by the encoders: their index arrays then stay a few MB, where a whole split's would
# take 100 MB and more beside the result (README, "Measured choices")
CHUNK = 4096


class IndexConventions(NamedTuple):
    """How word ranks become indices, as in Keras: ``start_char``, ``oov_char`` (None: no mark), ``index_from``.

    ``start_char`` opens every review; a word outside the vocabulary becomes
    ``oov_char`` (or is dropped when it is None); the word of rank ``r`` becomes
    ``r + index_from``.
    """

    start_char: Optional[int] = START_CHAR
    oov_char: Optional[int] = OOV_CHAR
    index_from: int = INDEX_FROM

    def validated(self):
        """Return these conventions as ints (None kept); raise TypeError/ValueError unless they are usable."""
        marks = [None if value is None else valid_int(name, value, minimum=0, hint="or None")
                 for name, value in (("start_char", self.start_char), ("oov_char", self.oov_char))]
        return IndexConventions(*marks, valid_int("index_from", self.index_from, minimum=0))


class FlatReviews(NamedTuple):
    """Reviews as one flat int32 array plus offsets: review i is ``tokens[offsets[i]:offsets[i + 1]]``."""

    tokens: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray

    def __len__(self):
        """Return the number of reviews."""
        return len(self.offsets) - 1

    def lengths(self):
        """Return the length of every review."""
        return np.diff(self.offsets)

    def sequences(self):
        """Return the reviews as Keras returns them: a 1-D object array of lists of ints."""
        out = np.empty(len(self), dtype=object)
        if not len(self.tokens):
            out[:] = [[] for _ in range(len(self))]
            return out
        # one int object per distinct index, shared by every list that holds it: Keras's lists hold one object
        # per word (8 + 28 bytes), these 8 bytes a word (README, "Measured choices"); equal to Keras's all the same
        low = int(self.tokens.min())
        shared = np.array(range(low, int(self.tokens.max()) + 1), dtype=object)
        bounds = self.offsets.tolist()
        for i in range(len(self)):
            out[i] = shared[self.tokens[bounds[i]:bounds[i + 1]] - low].tolist()
        return out

    def chunks(self, size=None):
        """Yield ``(start, FlatReviews)``: ``size`` (default ``CHUNK``) reviews at a time, tokens as views."""
        size = CHUNK if size is None else size
        for start in range(0, len(self), size):
            stop = min(len(self), start + size)
            low = self.offsets[start]
            labels = None if self.labels is None else self.labels[start:stop]
            yield start, FlatReviews(self.tokens[low:self.offsets[stop]], self.offsets[start:stop + 1] - low, labels)

    @classmethod
    def from_sequences(cls, sequences, labels):
        """Return the ``FlatReviews`` of a list (or object array) of integer sequences."""
        flat = as_flat(sequences)
        return cls(flat.tokens.astype(np.int32, copy=False), flat.offsets, np.asarray(labels, dtype=np.int64))

    def take(self, indices):
        """Return the reviews at ``indices``, in that order (labels None stay None)."""
        indices = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths()[indices]
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # position j of new review k reads tokens[old_start[k] + j]; summed in place, one array fewer at the peak
        dtype = np.int32 if len(self.tokens) < 2**31 else np.int64  # half the memory of int64 positions
        positions = np.repeat((self.offsets[indices] - offsets[:-1]).astype(dtype), lengths)
        positions += np.arange(offsets[-1], dtype=dtype)
        labels = None if self.labels is None else self.labels[indices]
        return FlatReviews(self.tokens[positions], offsets, labels)


def sorted_unique(values):
    """Return the sorted distinct values of a 1-D array: what ``np.unique`` returns, faster on large int64 arrays.

    A sort plus a mask, without the bookkeeping ``np.unique`` does (README, "Measured choices").
    """
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def as_flat(reviews, name="sequences"):
    """Return ``reviews`` (a FlatReviews, or a list or object array of integer sequences) as checked FlatReviews.

    Labels are those of a FlatReviews, else None. Raises TypeError for anything
    but integer word indices, ValueError for offsets that do not fit the tokens.
    """
    if hasattr(reviews, "tokens") and hasattr(reviews, "offsets"):
        tokens = np.asarray(reviews.tokens)
        offsets = np.asarray(reviews.offsets, dtype=np.int64)
        if (tokens.ndim != 1 or offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0
                or offsets[-1] != len(tokens) or np.any(np.diff(offsets) < 0)):
            raise LabValueError(f"{name} is not a valid FlatReviews (offsets must rise from 0 to len(tokens)): "
                                "build it with imdb_lab.load_flat or FlatReviews.from_sequences")
        labels = getattr(reviews, "labels", None)
    else:
        if isinstance(reviews, (str, bytes, dict)) or not hasattr(reviews, "__len__"):
            raise LabTypeError(f"{name} must be a list or object array of integer sequences, or a FlatReviews "
                               f"(imdb_lab.load_flat), not {type(reviews).__name__}")
        if isinstance(reviews, np.ndarray) and reviews.dtype != object and reviews.ndim != 2:
            raise LabTypeError(f"{name} must be a list of reviews (lists of word indices), not a flat array")
        try:
            lengths = np.fromiter((len(s) for s in reviews), dtype=np.int64, count=len(reviews))
        except TypeError as error:
            raise LabTypeError(f"each review of {name} must be a sequence of integer word indices") from error
        offsets = np.zeros(len(reviews) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        tokens = None
        for dtype in (np.int32, np.int64):  # int32, what a feed keeps for a whole split: half of int64, no copy
            try:
                with warnings.catch_warnings():
                    # NumPy 1.x wraps an int out of int32's range round, with only this warning: make it an error
                    warnings.simplefilter("error", DeprecationWarning)
                    # operator.index rejects floats, which np.fromiter would silently truncate
                    tokens = np.fromiter(map(operator.index, itertools.chain.from_iterable(reviews)), dtype=dtype,
                                         count=int(offsets[-1]))
                break
            except (OverflowError, DeprecationWarning):
                continue  # an index beyond int32: the int64 pass
            except (TypeError, ValueError) as error:
                raise LabTypeError(f"each review of {name} must hold integer word indices: {error}") from error
        if tokens is None:
            raise LabTypeError(f"each review of {name} must hold integer word indices that fit 64 bits")
        labels = None
    if tokens.size and tokens.dtype.kind not in "iu":
        raise LabTypeError(f"{name} must hold integer word indices, not dtype {tokens.dtype}")
    return FlatReviews(tokens, offsets, labels)


def keras_transform(splits, num_words, skip_top, maxlen, seed, conventions):
    """Return the ``(train, test)`` FlatReviews that Keras's shuffle, shift, maxlen and vocabulary rules make.

    Args:
        splits: the encoded ``(train, test)`` FlatReviews, in the archive's order.
        num_words, skip_top, maxlen, seed: as ``load_data``'s.
        conventions: the start, out-of-vocabulary and first-word indices (``IndexConventions``).
    """
    rng = np.random.RandomState(seed)
    shuffled = []
    for reviews in splits:  # one generator for both splits, train first, as in Keras
        indices = np.arange(len(reviews))
        rng.shuffle(indices)
        shuffled.append(reviews.take(indices))

    shifted = [shift_ranks(reviews, conventions) for reviews in shuffled]
    if maxlen is not None:
        shifted = [reviews.take(np.flatnonzero(reviews.lengths() < maxlen)) for reviews in shifted]
        if not all(len(reviews) for reviews in shifted):
            raise LabValueError(
                f"no review is shorter than maxlen={maxlen} in one of the splits: increase maxlen"
            )
    if num_words is None:
        num_words = max((int(r.tokens.max()) for r in shifted if len(r.tokens)), default=0)
    return tuple(limit_vocabulary(reviews, num_words, skip_top, conventions.oov_char) for reviews in shifted)


def shift_ranks(reviews, conventions):
    """Return reviews of word ranks as indices: ``index_from`` added, ``start_char`` (unless None) in front of each."""
    start_char = conventions.start_char
    largest = max(int(reviews.tokens.max(initial=0)) + conventions.index_from, start_char or 0)
    # int32 while the indices fit (they do for any real vocabulary): half the memory of int64 at load time
    dtype = np.int32 if largest < 2**31 else np.int64
    if start_char is None:
        return FlatReviews(reviews.tokens.astype(dtype) + dtype(conventions.index_from), reviews.offsets,
                           reviews.labels)
    n = len(reviews)
    offsets = reviews.offsets + np.arange(n + 1)
    out = np.empty(len(reviews.tokens) + n, dtype=dtype)
    starts = offsets[:-1]
    mask = np.ones(len(out), dtype=bool)
    mask[starts] = False
    out[mask] = reviews.tokens + dtype(conventions.index_from)
    out[starts] = start_char
    return FlatReviews(out, offsets, reviews.labels)


def limit_vocabulary(reviews, num_words, skip_top, oov_char):
    """Return the reviews with indices outside ``skip_top <= i < num_words`` made ``oov_char`` or dropped."""
    tokens = reviews.tokens
    inside = (tokens >= skip_top) & (tokens < num_words)
    if oov_char is not None:
        out = tokens.astype(np.int32)  # a copy, even when tokens are int32 already: the caller's stay as they are
        out[~inside] = oov_char
        return FlatReviews(out, reviews.offsets, reviews.labels)
    cumulative = np.concatenate([[0], np.cumsum(inside)])
    return FlatReviews(tokens[inside].astype(np.int32), cumulative[reviews.offsets].astype(np.int64), reviews.labels)


def valid_vocabulary(num_words, skip_top=0, *, names=("num_words", "skip_top")):
    """Return ``(num_words, skip_top)`` as ints (``num_words`` None: every word); raise unless skip_top < num_words.

    ``names`` are the two arguments' names in the messages (the CLI's are
    ``--num-words`` and ``--skip-top``).
    """
    num_name, skip_name = names
    if num_words is not None:
        num_words = valid_int(num_name, num_words, minimum=1, hint="or None (all words)")
    skip_top = valid_int(skip_name, skip_top, minimum=0)
    if num_words is not None and skip_top >= num_words:
        raise LabValueError(f"{skip_name}={skip_top} must be smaller than {num_name}={num_words}: "
                            "every word would become the out-of-vocabulary mark")
    return num_words, skip_top


def valid_indices(tokens, num_words, name="the reviews"):
    """Return ``tokens``; raise ValueError unless every word index lies in ``[0, num_words)``."""
    if tokens.size == 0:
        return tokens
    low, high = int(tokens.min()), int(tokens.max())
    if low < 0:
        raise LabValueError(f"word indices must not be negative, found {low} in {name}")
    if high >= num_words:
        raise LabValueError(
            f"word index {high} does not fit num_words={num_words} (in {name}): load the data with the same "
            f"num_words (load_data(num_words={num_words})) or raise num_words above {high}"
        )
    return tokens


def valid_labels(labels, n, *, one_hot=False):
    """Return ``labels`` as an array of ``n`` labels (or None): 1-D, or with ``one_hot`` also rows ``(n, classes)``."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim not in ((1, 2) if one_hot else (1,)) or len(labels) != n:
        rows = f", or one-hot rows of shape ({n}, classes) as keras.utils.to_categorical makes them" if one_hot else ""
        raise LabValueError(f"labels must hold one label per review ({n}): a 1-D array{rows}; got shape {labels.shape}")
    return labels


def split_validation(x_train, y_train, validation_fraction=0.2, *, num_validation=None, seed=None):
    """Split the TRAINING reviews into ``(x_train, y_train), (x_val, y_val)``; never use the test split.

    Args:
        x_train, y_train: the training reviews and their labels.
        validation_fraction: the share of them held out (ignored with ``num_validation``).
        num_validation: how many of them are held out.
        seed: None keeps the last ones, as ``validation_split`` does; else a seeded random draw.
    """
    flat = hasattr(x_train, "tokens") and hasattr(x_train, "offsets")
    if flat:
        x_train = as_flat(x_train, "x_train")
    n = len(x_train.offsets) - 1 if flat else len(x_train)
    y_train = valid_labels(y_train, n)
    if y_train is None:
        raise LabValueError("y_train is needed to split off validation labels")
    if num_validation is None:
        valid_number("validation_fraction", validation_fraction, low=0, high=1, include_low=False,
                     include_high=False)
        num_validation = int(round(n * validation_fraction))
    else:
        num_validation = valid_int("num_validation", num_validation)
    if not 0 < num_validation < n:
        raise LabValueError(
            f"the validation split must keep at least one review on each side: got {num_validation} "
            f"of {n} training reviews; change validation_fraction or num_validation"
        )
    if seed is None:
        # like Keras's validation_split: the last reviews (load_data has shuffled them already)
        order = np.arange(n)
    else:
        order = np.random.default_rng(seed).permutation(n)
    train_rows, val_rows = order[: n - num_validation], order[n - num_validation:]
    if flat:
        subset = x_train.take
    else:
        x_array = x_train if isinstance(x_train, np.ndarray) else object_array(x_train)

        def subset(rows):
            return x_array[rows]
    return (subset(train_rows), y_train[train_rows]), (subset(val_rows), y_train[val_rows])


def object_array(sequences):
    """Return a 1-D object array holding each review, as ``load_data`` does (even when all have the same length)."""
    array = np.empty(len(sequences), dtype=object)
    array[:] = list(sequences)
    return array
