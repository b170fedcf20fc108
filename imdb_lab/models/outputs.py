"""What a binary classifier's output means: one sigmoid probability, one logit, or two softmax probabilities.

The lab accepts each of the classic ways to end a Keras binary classifier;
everything that reads a model's predictions (the answer checks, ``predict``,
the notebook's word ranking) turns them into the probability of the positive
class with ``positive_probability``.
"""

import numpy as np

from imdb_lab.errors import LabValueError

SIGMOID, LOGIT, SOFTMAX, SOFTMAX_LOGITS = "sigmoid", "logit", "softmax", "softmax logits"


def output_activation(model):
    """Return the name of the activation that ends ``model`` ("linear" when none), e.g. "sigmoid"."""
    import keras  # here: the answer checks and the scorer import this module before any model exists

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Softmax):
            return "softmax"
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", str(activation))
        if not isinstance(layer, (keras.layers.Dropout, keras.layers.Flatten, keras.layers.Reshape)):
            break  # a layer that computes without an activation (e.g. Add): the output is linear
    return "linear"


def output_kind(model):
    """Return how ``model`` encodes its answer: SIGMOID, LOGIT, SOFTMAX or SOFTMAX_LOGITS; ValueError otherwise."""
    try:
        units = model.output_shape[-1]
    except (AttributeError, ValueError, TypeError, IndexError) as error:
        raise LabValueError(f"cannot tell the model's output shape ({error}): build or fit it first") from None
    activation = output_activation(model)
    kinds = {(1, "sigmoid"): SIGMOID, (1, "linear"): LOGIT, (2, "softmax"): SOFTMAX, (2, "linear"): SOFTMAX_LOGITS}
    if (units, activation) not in kinds:
        raise LabValueError(f"the model ends in {units} unit(s) with activation {activation}: a binary classifier ends "
                            "in Dense(1, activation='sigmoid') (or a logit: no activation) or Dense(2, "
                            "activation='softmax')")
    return kinds[(units, activation)]


def positive_probability(model, predictions):
    """Return the probability that each review is positive (1-D float64) from ``model.predict``'s output."""
    kind = output_kind(model)
    predictions = np.asarray(predictions, dtype=np.float64)
    predictions = predictions.reshape(len(predictions), -1)
    if kind == SIGMOID:
        return predictions[:, 0]
    if kind == LOGIT:
        return 1.0 / (1.0 + np.exp(-predictions[:, 0]))
    if kind == SOFTMAX_LOGITS:
        # softmax of two logits: the positive one's probability is the sigmoid of their difference
        return 1.0 / (1.0 + np.exp(predictions[:, 0] - predictions[:, 1]))
    return predictions[:, 1]
