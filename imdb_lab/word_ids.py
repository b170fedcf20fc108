"""Train and evaluate the lab's Dense model from each review's word ids: cost grows with the words a review holds.

A ``Dense`` layer on a multi-hot vector adds up one row of its kernel per word
the review holds, plus its bias: ``x @ W + b = sum(W[w] for w in set(review)) + b``.
So instead of filling a ``(batch, num_words)`` matrix that is almost all zeros
(512 x 88,000 bytes a batch at the full vocabulary, then cast to float32), the
*twin* of a model reads each review's distinct word ids and gathers those rows
of the **same** kernel variable. Its other layers are the model's own layer
objects: training the twin trains the model, whose loss (the L2 penalty on that
kernel and the dropout included) is the same, and the model itself stays the
plain ``Dense`` network that is saved, checked and graded.

The twin's feed (``word_id_feed``) batches the reviews as ``MultiHotSequence``
does, and lays each batch's ids end to end with the review each id belongs to
(``pack_word_ids``): a batch holds about as many ids as its reviews hold
words, padded at its end only, not every review to the longest. The twin
gathers one kernel row per id and sums the rows of each review
(``sum_by_review``).
"""

import weakref

import numpy as np

from imdb_lab.arguments import check_int
from imdb_lab.encoding import check_indices
from imdb_lab.errors import LabValueError
from imdb_lab.feeds import IdBatches
from imdb_lab.reviews import FlatReviews, as_flat, sorted_unique


def distinct_word_ids(reviews, num_words):
    """Return a ``FlatReviews`` of each review's distinct word ids, sorted (labels kept): its multi-hot columns."""
    num_words = check_int("num_words", num_words, minimum=1)
    flat = as_flat(reviews)
    tokens = flat.tokens.astype(np.int64, copy=False)
    check_indices(tokens, num_words)
    n = len(flat.offsets) - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(flat.offsets))
    keys = sorted_unique(rows * num_words + tokens)  # one key per (review, word): sorted, repeats dropped
    key_rows, ids = np.divmod(keys, num_words)
    offsets = np.searchsorted(key_rows, np.arange(n + 1, dtype=np.int64)).astype(np.int64)
    return FlatReviews(ids.astype(np.int32), offsets, flat.labels)


def can_twin(model):
    """Return True when ``model`` starts with a Dense layer on a flat (multi-hot) input, as build_model's does."""
    import keras

    layers = getattr(model, "layers", None)
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError, TypeError):
        return False
    return (isinstance(model, keras.Sequential) and bool(layers) and isinstance(layers[0], keras.layers.Dense)
            and len(shape) == 2 and isinstance(shape[1], int))


# each model's twin, kept as long as the model lives: evaluate after train then reuses the compiled twin (and the
# functions Keras compiled for it) instead of building and compiling another (evaluating at 88,000 words on JAX:
# 1.2 s with a new twin, 0.6 to 0.8 s with this one)
_TWINS = weakref.WeakKeyDictionary()


def twin_of(model):
    """Return ``word_id_twin(model)``: the one made before, while the model's layers and compile settings hold."""
    key = (tuple(id(layer) for layer in model.layers), model.get_compile_config())
    known = _TWINS.get(model)
    if known is not None and known[0] == key:
        return known[1]
    twin = word_id_twin(model)
    _TWINS[model] = (key, twin)
    return twin


def word_id_twin(model):
    """Return a compiled model that computes ``model`` from packed word ids (``word_id_feed``), sharing its weights."""
    import keras

    if not can_twin(model):
        raise LabValueError("the word-id twin needs a keras.Sequential whose first layer is Dense on the multi-hot "
                            "input (as imdb_lab.build_model builds): train other models on MultiHotSequence feeds")
    inputs = (keras.Input((None,), dtype="int32", name="word_ids"),
              keras.Input((None,), dtype="int32", name="review_of"))
    hidden = _dense_from_word_ids(model.layers[0])(inputs)
    for layer in model.layers[1:]:
        hidden = layer(hidden)
    twin = keras.Model(inputs, hidden, name=f"{model.name}_from_word_ids")
    twin.compile_from_config(model.get_compile_config())
    return twin


# a batch's rows are this many ids wide, or a multiple of it: JAX compiles the step for each input shape, and the
# ids of 512 random reviews vary little, so a feed's batches take two or three widths (88,000 words, train +
# evaluate on JAX, seed 42: multiples of 8 / 16 / 32 / 64: 9.1 / 8.0 / 6.0 / 6.8 s; TensorFlow and PyTorch run any
# shape without compiling again, and the padding, at most 31 ids a review, costs them little)
WIDTH_MULTIPLE = 32


def packed_width(num_ids, num_reviews):
    """Return the row width of a packed batch: ``num_ids`` + 1 ids over ``num_reviews`` rows, to a WIDTH_MULTIPLE."""
    num_ids = check_int("num_ids", num_ids, minimum=0)
    num_reviews = check_int("num_reviews", num_reviews, minimum=1)
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
    """Return a Keras feed of each review's distinct word ids, packed (``PackedWordIds``), for a ``word_id_twin``."""
    return PackedWordIds(distinct_word_ids(reviews, num_words), labels, num_features=num_words,
                         batch_size=batch_size, shuffle=shuffle, seed=seed)


def sum_by_review(rows, review_of, num_reviews):
    """Return each review's sum of ``rows``: row i is review ``review_of[i]``'s (sorted; ``num_reviews``: padding)."""
    import keras
    from keras import ops

    backend = keras.backend.backend()
    if backend == "torch":
        # Keras's torch segment_sum scatters through an int64 index the shape of the rows (scatter_reduce): a twin
        # step at 88,000 words took 39 ms with it, 17 ms with index_add
        sums = rows.new_zeros((num_reviews + 1, rows.shape[1])).index_add(0, review_of.long(), rows)
    elif backend == "tensorflow":
        # TensorFlow's sorted segment sum, faster than the unsorted one Keras runs when given num_segments (88,000
        # words, train + evaluate: 8.9 s against 10.7 s). Keras takes no num_segments with sorted=True there and
        # returns max(review_of) + 1 sums: num_reviews + 1, as every packed batch ends with padding
        sums = ops.segment_sum(rows, review_of, sorted=True)
    else:
        sums = ops.segment_sum(rows, review_of, num_segments=num_reviews + 1, sorted=True)
    return sums[:num_reviews]


def _dense_from_word_ids(dense):
    """Return a layer computing ``dense`` on a multi-hot vector from its packed word ids (``pack_word_ids``)."""
    import keras
    from keras import ops

    class DenseFromWordIds(keras.layers.Layer):
        """``dense`` applied to multi-hot vectors given as packed word ids: per review, a sum of kernel rows."""

        def __init__(self, dense, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense  # a tracked sub-layer: its kernel, bias and L2 penalty are this layer's too

        def call(self, inputs):
            word_ids, review_of = inputs
            num_reviews = ops.shape(word_ids)[0]
            # axis=-2 is the 2-D kernel's axis 0, written so because Keras's torch backend sends axis=0 to
            # torch.nn.functional.embedding, whose CPU backward is slow: 88,000 words, PyTorch 2.13, a training
            # step of the twin 29 ms with axis=0, 18 ms with axis=-2 (index_select); TF and JAX alike either way
            rows = ops.take(self.dense.kernel, ops.reshape(word_ids, (-1,)), axis=-2)  # (ids, units)
            outputs = sum_by_review(rows, ops.reshape(review_of, (-1,)), num_reviews)
            if self.dense.use_bias:
                outputs = outputs + self.dense.bias
            return self.dense.activation(outputs)

        def compute_output_shape(self, input_shape):
            return (input_shape[0][0], self.dense.units)

    return DenseFromWordIds(dense, name=f"{dense.name}_from_word_ids")
