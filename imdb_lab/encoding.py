"""Multi-hot encoding of reviews, and a memory-bounded Keras feed that builds it batch by batch.

A dense float64 matrix of 25,000 reviews x 10,000 words takes 2 GB (17.6 GB at
88,000 words), so the training pipeline never holds one: ``MultiHotSequence``
keeps the reviews as one flat int32 token array plus offsets and fills only the
current batch's rows.
"""

import math

import keras
import numpy as np

from imdb_lab.arguments import check_int, check_number
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.reviews import FlatReviews, as_flat

__all__ = ["multi_hot_encode", "MultiHotSequence", "split_validation"]


def _check_dtype(dtype):
    """Return ``dtype`` as a NumPy dtype, or raise if it cannot hold 0/1 numbers."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise LabTypeError(f"dtype must be a NumPy numeric dtype such as 'float32', got {dtype!r}") from error
    if dtype.kind not in "biuf":
        raise LabTypeError(f"dtype must be a bool, integer or float dtype such as 'float32', got {dtype}")
    return dtype


def _check_indices(tokens, num_words):
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


def _fill(out, tokens, offsets):
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
    dtype = _check_dtype(dtype)
    flat = as_flat(sequences)
    tokens, offsets = flat.tokens, flat.offsets
    _check_indices(tokens, num_words)
    return _fill(np.zeros((len(offsets) - 1, num_words), dtype=dtype), tokens, offsets)


def _check_labels(labels, n):
    """Return ``labels`` as a 1-D array of length ``n`` (or None)."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise LabValueError(f"labels must be a 1-D array with one label per review ({n}), got shape {labels.shape}")
    return labels


def split_validation(x_train, y_train, validation_fraction=0.2, *, num_validation=None, seed=None):
    """Split the TRAINING reviews into ``(x_train, y_train), (x_val, y_val)``; never use the test split."""
    flat = hasattr(x_train, "tokens") and hasattr(x_train, "offsets")
    if flat:
        x_train = as_flat(x_train, "x_train")
    n = len(x_train.offsets) - 1 if flat else len(x_train)
    y_train = _check_labels(y_train, n)
    if y_train is None:
        raise LabValueError("y_train is needed to split off validation labels")
    if num_validation is None:
        check_number("validation_fraction", validation_fraction, low=0, high=1, include_low=False,
                     include_high=False)
        num_validation = int(round(n * validation_fraction))
    else:
        num_validation = check_int("num_validation", num_validation)
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
        x_array = x_train if isinstance(x_train, np.ndarray) else _object_array(x_train)

        def subset(rows):
            return x_array[rows]
    return (subset(train_rows), y_train[train_rows]), (subset(val_rows), y_train[val_rows])


def _object_array(sequences):
    """Return a 1-D object array holding each review (even when all have the same length)."""
    array = np.empty(len(sequences), dtype=object)
    array[:] = list(sequences)
    return array


class ReviewBatches(keras.utils.PyDataset):
    """A Keras feed of reviews batch by batch, reshuffled at each epoch if asked; subclasses make the inputs.

    ``sequences`` (a list / object array of reviews, or a ``FlatReviews``) is
    converted once to flat int32 tokens + offsets, with every index checked to
    be below ``num_features``. Each batch is ``(x, y)``, or ``(x,)`` when
    ``labels`` is None (for ``predict``), where ``x = self.inputs(batch)``.
    With ``shuffle=True`` the reviews are reshuffled at every epoch's end from
    a ``seed``-ed generator, so two runs with the same seed see the same batches.
    """

    def __init__(self, sequences, labels=None, *, num_features, batch_size, shuffle=False, seed=None,
                 **pydataset_kwargs):
        super().__init__(**pydataset_kwargs)
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        flat = as_flat(sequences)
        _check_indices(flat.tokens, self.num_features)
        # int32 halves the memory of int64 and any index < num_features fits
        self.reviews = FlatReviews(flat.tokens.astype(np.int32, copy=False), flat.offsets, None)
        self.num_reviews = len(self.reviews)
        self.labels = _check_labels(labels, self.num_reviews)
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(self.num_reviews) if self.shuffle else None

    def inputs(self, batch):
        """Return the model's input for ``batch``, a ``FlatReviews`` of the batch's reviews."""
        raise NotImplementedError("a ReviewBatches subclass defines inputs(batch)")

    def __len__(self):
        """Return the number of batches per epoch (the last one may be partial)."""
        return math.ceil(self.num_reviews / self.batch_size)

    def __getitem__(self, index):
        """Return batch ``index`` as ``(x, y)``, or ``(x,)`` without labels."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.num_reviews)
        if self._order is None:
            rows = slice(start, stop)
            offsets = self.reviews.offsets
            batch = FlatReviews(self.reviews.tokens[offsets[start]:offsets[stop]],
                                offsets[start:stop + 1] - offsets[start], None)
        else:
            rows = self._order[start:stop]
            batch = self.reviews.take(rows)
        x = self.batch_inputs(batch, index)
        return (x,) if self.labels is None else (x, self.labels[rows])

    def batch_inputs(self, batch, index):
        """Return the model's input for batch number ``index`` (default: ``inputs(batch)``)."""
        return self.inputs(batch)

    def on_epoch_end(self):
        """Reshuffle the reviews for the next epoch (when ``shuffle=True``)."""
        if self.shuffle:
            self._order = self._rng.permutation(self.num_reviews)


class PaddedIdBatches(ReviewBatches):
    """Batches of ids + 1, one row per review, padded with 0 to a width per batch: ``width_for`` of its longest.

    Subclasses define ``width_for(length)``, a few widths only, so that a
    backend compiles its step a few times. TensorFlow fixes a feed's shapes
    from its first two batches: when they would be alike and another batch
    differs, the second is padded wider (``width_for(its width + 1)``), which
    leaves the width free.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._widths = self.batch_widths()

    def width_for(self, length):
        """Return the width a batch whose longest review holds ``length`` ids is padded to."""
        raise NotImplementedError("a PaddedIdBatches subclass defines width_for(length)")

    def batch_widths(self):
        """Return each batch's padded width in the current order."""
        lengths = self.reviews.lengths()
        order = np.arange(self.num_reviews) if self._order is None else self._order
        size = self.batch_size
        widths = [self.width_for(int(lengths[order[b * size:(b + 1) * size]].max(initial=0)))
                  for b in range(len(self))]
        if len(widths) > 2 and widths[0] == widths[1] and len(set(widths)) > 1:
            widths[1] = self.width_for(widths[1] + 1)
        return widths

    def on_epoch_end(self):
        """Reshuffle (when ``shuffle=True``) and size the next epoch's batches."""
        super().on_epoch_end()
        self._widths = self.batch_widths()

    def batch_inputs(self, batch, index):
        """Return batch ``index``'s ids + 1, one row per review, padded with 0 to its width."""
        return pad_ids(batch, self._widths[index])


class MultiHotSequence(ReviewBatches):
    """A Keras feed of multi-hot batches built on the fly, so memory stays bounded by one batch.

    Each ``x`` has shape ``(batch, num_words)`` and ``dtype`` (uint8 by default:
    a quarter of float32's bytes through the input pipeline; the model's
    float32 Input casts it, which made training at 88,000 words ~40% faster).
    See ``ReviewBatches`` for ``sequences``, ``labels``, ``shuffle`` and ``seed``.
    """

    def __init__(self, sequences, labels=None, *, num_words, batch_size=512, shuffle=False, seed=None,
                 dtype="uint8", **pydataset_kwargs):
        self.num_words = check_int("num_words", num_words, minimum=1)
        self.dtype = _check_dtype(dtype)
        super().__init__(sequences, labels, num_features=self.num_words, batch_size=batch_size, shuffle=shuffle,
                         seed=seed, **pydataset_kwargs)

    def inputs(self, batch):
        """Return the multi-hot rows of ``batch``."""
        return _fill(np.zeros((len(batch), self.num_words), dtype=self.dtype), batch.tokens, batch.offsets)
