"""The one accuracy of the lab, for every model: the share of reviews whose predicted class is right; the 85 % target.

Every model's output is first read as the probability that a review is
positive (``outputs.positive_probability``: a sigmoid, a logit or a two-unit
softmax alike); a review is predicted positive when that probability is above
``THRESHOLD``. Keras's own ``"accuracy"`` metric would threshold a raw logit at
0.5, so nothing here relies on it.
"""

import numpy as np

from imdb_lab.errors import LabValueError
from imdb_lab.models.outputs import positive_probability

__all__ = ["TARGET", "THRESHOLD", "ACCURACY_NAMES", "accuracy_of", "model_accuracy", "multi_hot_accuracy",
           "accuracy_key"]

TARGET = 0.85
THRESHOLD = 0.5
# the names Keras logs an accuracy metric under, as compiled with metrics=[...]
ACCURACY_NAMES = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")


def accuracy_of(probabilities, labels):
    """Return the share of reviews whose class (positive when the probability is above 0.5) equals ``labels``."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 1 or labels.ndim != 1 or len(probabilities) != len(labels):
        raise LabValueError(f"accuracy needs one probability per label (1-D arrays of the same length), got shapes "
                            f"{probabilities.shape} and {labels.shape}: read a model's output with "
                            "positive_probability(model, predictions) first")
    if len(labels) == 0:
        raise LabValueError("accuracy of no reviews: give at least one")
    if not np.isin(labels, (0, 1)).all():
        raise LabValueError("labels must be 0 (negative) or 1 (positive)")
    return float(((probabilities > THRESHOLD) == (labels == 1)).mean())


def model_accuracy(model, feed, labels):
    """Return the accuracy of ``model`` on ``feed`` (a Keras input without labels), read through its output kind."""
    return accuracy_of(positive_probability(model, model.predict(feed, verbose=0)), labels)


def multi_hot_accuracy(model, sequences, labels, num_words, *, batch_size=512):
    """Return the accuracy of ``model`` on the multi-hot rows of ``sequences``, fed batch by batch."""
    from imdb_lab.features.feeds import MultiHotSequence  # imports Keras: only once a model exists

    feed = MultiHotSequence(sequences, num_words=num_words, batch_size=batch_size)
    return model_accuracy(model, feed, np.asarray(labels).reshape(-1))


def accuracy_key(logs, names=()):
    """Return the name under which ``logs`` (a History's ``.history``) holds training accuracy, or None.

    ``names``: the names the model's accuracy metrics are logged under, whatever
    the learner called them (``check.model_check.accuracy_log_names``), looked
    for first; then Keras's own names; then any logged metric whose name holds
    "acc" (``BinaryAccuracy(name="bin_acc")``).
    """
    for name in (*names, *ACCURACY_NAMES):
        if name in logs:
            return name
    return next((name for name in logs if "acc" in name.lower() and not name.startswith("val_")), None)
