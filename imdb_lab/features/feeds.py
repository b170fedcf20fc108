"""Memory-bounded Keras feeds (``keras.utils.PyDataset``), one per kind of feature, each batch built when asked for.

``MultiHotSequence`` keeps the reviews as one flat int32 token array plus
offsets and fills only the current batch's multi-hot rows. ``IdBatches`` hand
a model ids instead, each batch as wide as its reviews need:
``PackedWordIds`` a batch's distinct word ids end to end (the word-id twin),
``NgramFeed`` one row of n-gram ids per review, padded (the n-gram model).

Keras is imported when this module is: its feeds subclass Keras's
``PyDataset``. Choose the backend first (``imdb_lab.choose_backend()``).
"""

import math

import keras
import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data.reviews import FlatReviews, as_flat, valid_indices, valid_labels
from imdb_lab.features.multi_hot import fill_multi_hot, valid_dtype
from imdb_lab.features.word_ids import WIDTH_MULTIPLE, distinct_word_ids, pack_word_ids, packed_width

__all__ = ["ReviewBatches", "IdBatches", "PaddedIdBatches", "MultiHotSequence", "PackedWordIds", "word_id_feed",
           "NgramFeed", "ngram_feed", "pad_ids"]


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
        self.num_features = valid_int("num_features", num_features, minimum=1)
        self.batch_size = valid_int("batch_size", batch_size, minimum=1)
        flat = as_flat(sequences)
        valid_indices(flat.tokens, self.num_features)
        # int32 halves the memory of int64 and any index < num_features fits
        self.reviews = FlatReviews(flat.tokens.astype(np.int32, copy=False), flat.offsets, None)
        self.num_reviews = len(self.reviews)
        # one-hot rows too: the labels of a two-unit softmax trained with categorical cross-entropy
        self.labels = valid_labels(labels, self.num_reviews, one_hot=True)
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


class IdBatches(ReviewBatches):
    """Batches of ids whose width each batch chooses from its reviews' lengths (``batch_width``), at every epoch.

    Subclasses define ``batch_width(lengths)``, a few widths only, so that a
    backend compiles its step a few times; ``wider(width)``, the next width
    up; and ``batch_inputs``. TensorFlow fixes a feed's input shapes from its
    first two batches, at the first epoch: were they alike, it would fix the
    width, and a batch of another width, then or at a later epoch, would fail.
    So on TensorFlow, when the first two batches would be alike, the second
    is made ``wider``. Other backends take any width (and JAX compiles each
    one, so there the widths stay as they are).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lengths = self.reviews.lengths()
        self._widths = self.batch_widths()

    def batch_width(self, lengths):
        """Return the width of a batch whose reviews hold ``lengths`` ids."""
        raise NotImplementedError("an IdBatches subclass defines batch_width(lengths)")

    def wider(self, width):
        """Return the next width above ``width``."""
        raise NotImplementedError("an IdBatches subclass defines wider(width)")

    def batch_widths(self):
        """Return each batch's width in the current order."""
        order = np.arange(self.num_reviews) if self._order is None else self._order
        size = self.batch_size
        widths = [self.batch_width(self._lengths[order[b * size:(b + 1) * size]]) for b in range(len(self))]
        if len(widths) > 1 and widths[0] == widths[1] and keras.backend.backend() == "tensorflow":
            widths[1] = self.wider(widths[1])
        return widths

    def on_epoch_end(self):
        """Reshuffle (when ``shuffle=True``) and size the next epoch's batches."""
        super().on_epoch_end()
        self._widths = self.batch_widths()


def pad_ids(batch, width):
    """Return the ids of a ``FlatReviews`` batch + 1, one row per review, padded with 0 to ``width`` columns."""
    lengths = batch.lengths()
    rows = np.repeat(np.arange(len(batch)), lengths)
    columns = np.arange(len(batch.tokens)) - np.repeat(batch.offsets[:-1], lengths)
    x = np.zeros((len(batch), width), dtype=np.int32)
    x[rows, columns] = batch.tokens + 1
    return x


class PaddedIdBatches(IdBatches):
    """Batches of ids + 1, one row per review, padded with 0 to a width per batch: ``width_for`` of its longest.

    Subclasses define ``width_for(length)`` (see ``IdBatches``).
    """

    def width_for(self, length):
        """Return the width a batch whose longest review holds ``length`` ids is padded to."""
        raise NotImplementedError("a PaddedIdBatches subclass defines width_for(length)")

    def batch_width(self, lengths):
        """Return ``width_for`` the batch's longest review."""
        return self.width_for(int(lengths.max(initial=0)))

    def wider(self, width):
        """Return ``width_for`` one id more than ``width``."""
        return self.width_for(width + 1)

    def batch_inputs(self, batch, index):
        """Return batch ``index``'s ids + 1, one row per review, padded with 0 to its width."""
        return pad_ids(batch, self._widths[index])


class MultiHotSequence(ReviewBatches):
    """A Keras feed of multi-hot batches built on the fly, so memory stays bounded by one batch.

    Each ``x`` has shape ``(batch, num_words)`` and ``dtype`` (uint8 by default:
    a quarter of float32's bytes through the input pipeline; the model's
    float32 Input casts it, which trains faster at large vocabularies).
    See ``ReviewBatches`` for ``sequences``, ``labels``, ``shuffle`` and ``seed``.
    """

    def __init__(self, sequences, labels=None, *, num_words, batch_size=512, shuffle=False, seed=None,
                 dtype="uint8", **pydataset_kwargs):
        self.num_words = valid_int("num_words", num_words, minimum=1)
        self.dtype = valid_dtype(dtype)
        super().__init__(sequences, labels, num_features=self.num_words, batch_size=batch_size, shuffle=shuffle,
                         seed=seed, **pydataset_kwargs)

    def inputs(self, batch):
        """Return the multi-hot rows of ``batch``."""
        return fill_multi_hot(np.zeros((len(batch), self.num_words), dtype=self.dtype), batch.tokens, batch.offsets)


class PackedWordIds(IdBatches):
    """Batches of each review's distinct word ids, packed end to end (``pack_word_ids``), for a ``word_id_twin``.

    The reviews are batched as ``MultiHotSequence`` batches them (reshuffled
    at every epoch with ``shuffle=True``, else in their order), so the twin
    sees the very batches the model would. A batch is padded only to
    ``packed_width`` of the ids it holds, not to its longest review.
    """

    def batch_width(self, lengths):
        """Return the ``packed_width`` of a batch whose reviews hold ``lengths`` distinct words."""
        return packed_width(int(lengths.sum()), len(lengths))

    def wider(self, width):
        """Return the next multiple of ``WIDTH_MULTIPLE`` above ``width``."""
        return width + WIDTH_MULTIPLE

    def batch_inputs(self, batch, index):
        """Return batch ``index`` packed: ``(word_ids, review_of)``."""
        return pack_word_ids(batch, self._widths[index])


def word_id_feed(reviews, labels=None, *, num_words, batch_size, shuffle=False, seed=None):
    """Return a Keras feed of each review's distinct word ids, packed (``PackedWordIds``), for a ``word_id_twin``.

    Args:
        reviews: the reviews (``FlatReviews`` or word-index lists).
        labels: their labels (None: a feed for ``predict``).
        num_words: the vocabulary's size.
        batch_size: reviews per batch.
        shuffle, seed: shuffle the reviews each epoch, with this seed.
    """
    return PackedWordIds(distinct_word_ids(reviews, num_words), labels, num_features=num_words,
                         batch_size=batch_size, shuffle=shuffle, seed=seed)


class NgramFeed(PaddedIdBatches):
    """Batches of n-gram feature ids, ``id + 1`` padded with 0 to a multiple of 128 columns (see ``ngram_feed``)."""

    def width_for(self, length):
        """Return ``length`` rounded up to a multiple of 128 (at least 128): few widths, few compiles."""
        return max(128, -(-length // 128) * 128)


def ngram_feed(features, labels=None, *, num_features, batch_size=64, shuffle=False, seed=None):
    """Return a Keras ``PyDataset`` of padded feature-id batches (``(x,)`` or ``(x, y)``) for the n-gram model.

    Not ``MultiHotSequence``: with hundreds of thousands of n-grams a dense
    multi-hot batch is huge, while a review holds only a few hundred of them.

    Args:
        features: each review's feature ids.
        labels: their labels (None: a feed for ``predict``).
        num_features: the feature vocabulary's size.
        batch_size: reviews per batch.
        shuffle, seed: shuffle the reviews each epoch, with this seed.
    """
    return NgramFeed(features, labels, num_features=num_features, batch_size=batch_size, shuffle=shuffle, seed=seed)
