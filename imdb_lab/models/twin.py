"""The word-id twin of the lab's Dense model: the same layers and weights, reading each review's word ids.

A ``Dense`` layer on a multi-hot vector adds up one row of its kernel per word
the review holds, plus its bias (``imdb_lab.features.word_ids``). So instead of
filling a ``(batch, num_words)`` matrix that is almost all zeros, the *twin* of
a model reads each review's distinct word ids, packed end to end
(``imdb_lab.features.feeds.PackedWordIds``), gathers those rows of the **same**
kernel variable and sums the rows of each review (``sum_by_review``). Its other
layers are the model's own layer objects: training the twin trains the model,
whose loss (the L2 penalty on that kernel and the dropout included) is the
same, and the model itself stays the plain ``Dense`` network that is saved,
checked and graded. Its cost grows with the words a review holds, not with
``num_words``. Keras is imported with this module: it only ever runs on models.
"""

import weakref

import keras
from keras import ops

from imdb_lab.backend import tensorflow_left_alone
from imdb_lab.errors import LabValueError

__all__ = ["can_twin", "twin_of", "word_id_twin", "sum_by_review"]


def can_twin(model):
    """Return True when ``model`` starts with a Dense layer on a flat (multi-hot) input, as build_model's does."""
    layers = getattr(model, "layers", None)
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError, TypeError):
        return False
    return (isinstance(model, keras.Sequential) and bool(layers) and isinstance(layers[0], keras.layers.Dense)
            and len(shape) == 2 and isinstance(shape[1], int))


# each model's twin, kept as long as the model lives: evaluate after train then reuses the compiled twin (and the
# functions Keras compiled for it) instead of building and compiling another
_TWINS = weakref.WeakKeyDictionary()


def twin_of(model):
    """Return ``word_id_twin(model)``: the one made before, while the model's layers and compilation hold."""
    optimizer = getattr(model, "optimizer", None)  # a model that was never compiled has none
    with tensorflow_left_alone():
        key = (tuple(id(layer) for layer in model.layers), id(optimizer), model.get_compile_config())
    known = _TWINS.get(model)
    if known is not None and known[0] == key:
        return known[1]
    twin = word_id_twin(model)
    _TWINS[model] = (key, twin)
    return twin


def word_id_twin(model):
    """Return a compiled model that computes ``model`` from packed word ids (``word_id_feed``), sharing its weights."""
    if not can_twin(model):
        raise LabValueError("the word-id twin needs a keras.Sequential whose first layer is Dense on the multi-hot "
                            "input (as imdb_lab.build_model builds): train other models on MultiHotSequence feeds")
    inputs = (keras.Input((None,), dtype="int32", name="word_ids"),
              keras.Input((None,), dtype="int32", name="review_of"))
    hidden = _dense_from_word_ids(model.layers[0])(inputs)
    for layer in model.layers[1:]:
        hidden = layer(hidden)
    twin = keras.Model(inputs, hidden, name=f"{model.name}_from_word_ids")
    with tensorflow_left_alone():
        config = model.get_compile_config()
        if config is not None:
            config = keras.saving.deserialize_keras_object(config)
    if config is not None:
        # the model's own optimizer, not a copy: training the twin advances the model's step count and optimizer
        # state, as training the model would (a model trained through its twin is seen to be trained)
        config["optimizer"] = model.optimizer
        twin.compile(**config)
    return twin


def sum_by_review(rows, review_of, num_reviews):
    """Return each review's sum of ``rows``: row i is review ``review_of[i]``'s (sorted; ``num_reviews``: padding)."""
    backend = keras.backend.backend()
    if backend == "torch":
        # Keras's torch segment_sum scatters through an int64 index the shape of the rows (scatter_reduce), which
        # makes a twin step about twice as slow as index_add (README, "Measured choices")
        sums = rows.new_zeros((num_reviews + 1, rows.shape[1])).index_add(0, review_of.long(), rows)
    elif backend == "tensorflow":
        # TensorFlow's sorted segment sum, faster than the unsorted one Keras runs when given num_segments. Keras
        # takes no num_segments with sorted=True there and returns max(review_of) + 1 sums: num_reviews + 1, as
        # every packed batch ends with padding
        sums = ops.segment_sum(rows, review_of, sorted=True)
    else:
        sums = ops.segment_sum(rows, review_of, num_segments=num_reviews + 1, sorted=True)
    return sums[:num_reviews]


def _dense_from_word_ids(dense):
    """Return a layer computing ``dense`` on a multi-hot vector from its packed word ids (``pack_word_ids``)."""
    class DenseFromWordIds(keras.layers.Layer):
        """``dense`` applied to multi-hot vectors given as packed word ids: per review, a sum of kernel rows."""

        def __init__(self, dense, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense  # a tracked sub-layer: its kernel, bias and L2 penalty are this layer's too

        def call(self, inputs):
            word_ids, review_of = inputs
            num_reviews = ops.shape(word_ids)[0]
            # axis=-2 is the 2-D kernel's axis 0, written so because Keras's torch backend sends axis=0 to
            # torch.nn.functional.embedding, whose CPU backward is slow; with axis=-2 it runs index_select (TF and
            # JAX run alike either way)
            rows = ops.take(self.dense.kernel, ops.reshape(word_ids, (-1,)), axis=-2)  # (ids, units)
            outputs = sum_by_review(rows, ops.reshape(review_of, (-1,)), num_reviews)
            if self.dense.use_bias:
                outputs = outputs + self.dense.bias
            return self.dense.activation(outputs)

        def compute_output_shape(self, input_shape):
            return (input_shape[0][0], self.dense.units)

    return DenseFromWordIds(dense, name=f"{dense.name}_from_word_ids")
