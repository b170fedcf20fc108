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
"""

import weakref

import numpy as np

from imdb_lab.arguments import check_int
from imdb_lab.encoding import check_indices
from imdb_lab.errors import LabValueError
from imdb_lab.feeds import PaddedIdBatches
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
    """Return a compiled model that computes ``model`` from padded word ids + 1 (0 pads), sharing its weights."""
    import keras

    if not can_twin(model):
        raise LabValueError("the word-id twin needs a keras.Sequential whose first layer is Dense on the multi-hot "
                            "input (as imdb_lab.build_model builds): train other models on MultiHotSequence feeds")
    ids = keras.Input((None,), dtype="int32", name="word_ids_plus_one")
    hidden = _dense_from_word_ids(model.layers[0])(ids)
    for layer in model.layers[1:]:
        hidden = layer(hidden)
    twin = keras.Model(ids, hidden, name=f"{model.name}_from_word_ids")
    twin.compile_from_config(model.get_compile_config())
    return twin


# the widths a batch of word ids is padded to on JAX, which compiles a program per input shape: few shapes (at
# 10,000 words: 8.0 s with these three, 10.5 s with the eight powers of two from 32 to 4096; at 88,000 words 9.5 s,
# and 16.6 s with every multiple of 32)
BUCKET_WIDTHS = (256, 1024, 4096)
# on TensorFlow and PyTorch, which run any shape without compiling again, a batch is padded only to the next multiple
# of this: the padding costs as much as words in the gather and its gradient (88,000 words, train + evaluate, seed
# 42: TensorFlow 12.2 s -> 10.4 s, PyTorch 9.6 s -> 5.9 s)
TIGHT_MULTIPLE = 8
# a pool of this many batches is sorted by length before it is cut into batches
_POOL_BATCHES = 16


def bucket_width(length, few_shapes=True):
    """Return the width a batch whose longest review holds ``length`` distinct words is padded to."""
    if not few_shapes:
        return -(-max(length, 1) // TIGHT_MULTIPLE) * TIGHT_MULTIPLE
    for width in BUCKET_WIDTHS:
        if length <= width:
            return width
    return -(-length // BUCKET_WIDTHS[-1]) * BUCKET_WIDTHS[-1]


def compiles_per_shape():
    """Return True on JAX, whose Keras backend compiles the step for each input shape (TF and PyTorch do not here)."""
    import keras

    return keras.backend.backend() == "jax"


class WordIdBatches(PaddedIdBatches):
    """Batches of each review's distinct word ids + 1, padded with 0 only to the batch's ``bucket_width``.

    Training (``shuffle=True``): at each epoch the reviews are shuffled, each
    pool of 16 batches is sorted by length and cut into batches, and the
    batches are shuffled, so a batch holds reviews of similar lengths and is
    padded to ``bucket_width`` of its longest, not to the longest review of the
    data set. ``sort=True`` (evaluation) orders the reviews by length once;
    otherwise (``predict``, whose outputs must keep the reviews' order) every
    batch has the width of the longest review. TensorFlow fixes a feed's shapes
    from its first two batches, so the second is padded wider when they would
    otherwise be alike and a later one differs. ``few_shapes``: pad to the
    three ``BUCKET_WIDTHS`` (for JAX) rather than to the next multiple of 8.
    """

    def __init__(self, ids, labels=None, *, sort=False, few_shapes=True, **kwargs):
        self.few_shapes = bool(few_shapes)  # before the base class sizes the batches
        super().__init__(ids, labels, **kwargs)
        self.lengths = self.reviews.lengths()
        self.sort = bool(sort) and not self.shuffle
        self._draw()

    def width_for(self, length):
        """Return the bucket width of a batch whose longest review holds ``length`` distinct words."""
        return bucket_width(length, self.few_shapes)

    def batch_widths(self):
        """Return each batch's width: its bucket, or for ``predict`` (the reviews' own order) the longest's."""
        if self._order is None:
            return [self.width_for(int(self.reviews.lengths().max(initial=1)))] * len(self)
        return super().batch_widths()

    def _draw(self):
        """Set the order of the reviews for an epoch (None: as given) and each batch's width."""
        size, count = self.batch_size, self.num_reviews
        if self.shuffle:
            order = self._rng.permutation(count)
            pool = size * _POOL_BATCHES
            for start in range(0, count, pool):
                chunk = order[start:start + pool]
                order[start:start + pool] = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            full = count // size
            batches = [order[b * size:(b + 1) * size] for b in self._rng.permutation(full)]
            order = np.concatenate([*batches, order[full * size:]]).astype(np.int64)
        elif self.sort:
            order = np.argsort(self.lengths, kind="stable")
        else:
            order = None
        self._order = order
        self._widths = self.batch_widths()

    def on_epoch_end(self):
        """Draw the next epoch's batches (when ``shuffle=True``)."""
        if self.shuffle:
            self._draw()


def word_id_feed(reviews, labels=None, *, num_words, batch_size, shuffle=False, seed=None, sort=False,
                 few_shapes=None):
    """Return a Keras feed of each review's distinct word ids + 1 (``WordIdBatches``), for a ``word_id_twin``.

    ``few_shapes=None`` pads to the few ``BUCKET_WIDTHS`` on JAX and tightly
    on the other backends (``compiles_per_shape``).
    """
    if few_shapes is None:
        few_shapes = compiles_per_shape()
    return WordIdBatches(distinct_word_ids(reviews, num_words), labels, num_features=num_words,
                         batch_size=batch_size, shuffle=shuffle, seed=seed, sort=sort, few_shapes=few_shapes)


def _dense_from_word_ids(dense):
    """Return a layer computing ``dense`` on a multi-hot vector from the padded ids of its 1s (ids + 1, 0 pads)."""
    import keras
    from keras import ops

    class DenseFromWordIds(keras.layers.Layer):
        """``dense`` applied to the multi-hot vector whose 1s are at ``ids - 1``: a masked sum of kernel rows."""

        def __init__(self, dense, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense  # a tracked sub-layer: its kernel, bias and L2 penalty are this layer's too

        def call(self, ids):
            # axis=-2 is the 2-D kernel's axis 0, written so because Keras's torch backend sends axis=0 to
            # torch.nn.functional.embedding, whose CPU backward is slow: 88,000 words, PyTorch 2.13, a training
            # step of the twin 29 ms with axis=0, 18 ms with axis=-2 (index_select); TF and JAX alike either way
            rows = ops.take(self.dense.kernel, ops.maximum(ids - 1, 0), axis=-2)  # (batch, width, units)
            present = ops.expand_dims(ops.cast(ids > 0, rows.dtype), -1)
            outputs = ops.sum(rows * present, axis=1)
            if self.dense.use_bias:
                outputs = outputs + self.dense.bias
            return self.dense.activation(outputs)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.dense.units)

    return DenseFromWordIds(dense, name=f"{dense.name}_from_word_ids")
