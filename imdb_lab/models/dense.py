"""The reference model: a small regularized Dense network on multi-hot reviews."""

import math
import numbers

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.errors import LabTypeError, LabValueError

__all__ = ["build_model", "steps_per_epoch", "input_width", "LEARNING_RATE", "DECAY_RATE", "STEPS_PER_EPOCH"]


# RMSprop's learning rate starts at LEARNING_RATE and is multiplied by DECAY_RATE after each epoch of
# STEPS_PER_EPOCH steps (20,000 training reviews in batches of 512): large steps first, then finer ones. Chosen on
# the validation reviews against a constant 5e-4: as low a validation loss in 30 % fewer epochs (README, "Measured
# choices")
LEARNING_RATE, DECAY_RATE, STEPS_PER_EPOCH = 2e-3, 0.7, 40


def build_model(num_words, hidden_units=(16, 16), dropout=0.5, l2=1e-4, learning_rate=LEARNING_RATE,
                decay_rate=DECAY_RATE, steps_per_epoch=STEPS_PER_EPOCH):
    """Return a compiled ``keras.Sequential``: Dense relu layers with Dropout and L2, then Dense(1, sigmoid).

    The defaults are the notebook's model; ``l2=None`` (or 0) leaves out the
    weight penalty, ``dropout=0`` the Dropout layers. RMSprop's learning rate
    starts at ``learning_rate`` and is multiplied by ``decay_rate`` after every
    ``steps_per_epoch`` steps (one epoch: the training reviews over the batch
    size, rounded up); ``decay_rate=1`` keeps it constant.

    Args:
        num_words: the width of the multi-hot rows.
        hidden_units: the units of each hidden Dense layer.
        dropout: the Dropout rate after each (0: none).
        l2: the L2 weight penalty (None or 0: none).
        learning_rate: RMSprop's first learning rate.
        decay_rate: its factor after each epoch (1: constant).
        steps_per_epoch: the steps of one epoch (``steps_per_epoch()``).
    """
    num_words = valid_int("num_words", num_words, minimum=1)
    if isinstance(hidden_units, (str, bytes)) or not hasattr(hidden_units, "__iter__"):
        raise LabTypeError("hidden_units must be a sequence of positive integers such as (16, 16), "
                           f"got {hidden_units!r}")
    hidden_units = [valid_int("each of hidden_units", units, minimum=1) for units in hidden_units]
    if not hidden_units:
        raise LabValueError("hidden_units must name at least one hidden layer, e.g. (16, 16)")
    dropout = valid_number("dropout", dropout, low=0, high=1, include_high=False)
    if l2 is not None:
        l2 = valid_number("l2", l2, low=0, hint="(or None for no weight penalty)")
    learning_rate = valid_number("learning_rate", learning_rate, low=0, include_low=False)
    decay_rate = valid_number("decay_rate", decay_rate, low=0, high=1, include_low=False,
                              hint="(1 for a constant learning rate)")
    steps_per_epoch = valid_int("steps_per_epoch", steps_per_epoch, minimum=1)

    import keras  # here: the package's import, and input_width, must not load Keras

    layers = [keras.Input((num_words,))]
    for units in hidden_units:
        regularizer = keras.regularizers.L2(l2) if l2 else None
        layers.append(keras.layers.Dense(units, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers, name="imdb_dense")
    if decay_rate < 1:
        learning_rate = keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps=steps_per_epoch,
                                                                    decay_rate=decay_rate, staircase=True)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def steps_per_epoch(num_reviews, batch_size, validation_fraction=0.2):
    """Return the steps of one epoch of ``train`` on ``num_reviews`` training reviews: those it fits on, over
    ``batch_size``, rounded up (``build_model``'s ``steps_per_epoch``)."""
    num_reviews = valid_int("num_reviews", num_reviews, minimum=1)
    batch_size = valid_int("batch_size", batch_size, minimum=1)
    validation_fraction = valid_number("validation_fraction", validation_fraction, low=0, high=1, include_high=False)
    return max(1, math.ceil((num_reviews - round(num_reviews * validation_fraction)) / batch_size))


def input_width(model):
    """Return the number of inputs of a model that reads one flat (multi-hot) vector per review."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError) as error:
        raise LabValueError(f"cannot tell the model's input shape ({error}): build or fit it first") from None
    if not isinstance(shape, tuple) or len(shape) != 2 or not isinstance(shape[1], numbers.Integral):
        raise LabValueError(f"the model's input shape is {shape}, not (None, num_words): expected a multi-hot model")
    import keras  # the model exists, so Keras is loaded

    first = next((layer for layer in getattr(model, "layers", []) if not isinstance(layer, keras.layers.InputLayer)),
                 None)
    if isinstance(first, keras.layers.Embedding):
        raise LabValueError(f"the model starts with an Embedding: it reads {shape[1]} word indices, not the "
                            "num_words multi-hot values of a review")
    return int(shape[1])
