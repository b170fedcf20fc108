"""The one accuracy of the lab, for every model: the share of reviews whose predicted class is right; the 85 % target.

Every model's output is first read as the probability that a review is
positive (``outputs.positive_probability``: a sigmoid, a logit or a two-unit
softmax alike); a review is predicted positive when that probability is above
``THRESHOLD``. Keras's own ``"accuracy"`` metric would threshold a raw logit at
0.5, so nothing here relies on it.
"""

import numpy as np

from imdb_lab.backend import tensorflow_left_alone
from imdb_lab.errors import LabValueError
from imdb_lab.models.outputs import positive_probability

__all__ = ["TARGET", "THRESHOLD", "ACCURACY_NAMES", "accuracy_of", "model_accuracy", "multi_hot_accuracy",
           "compiled_metrics", "compiled_accuracies", "accuracy_log_names", "accuracy_key"]

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
    """Return the accuracy of ``model`` on the multi-hot rows of ``sequences``, fed batch by batch.

    Args:
        model: a binary classifier of multi-hot rows.
        sequences: the reviews (word indices).
        labels: their 0/1 labels.
        num_words: the width of the rows.
        batch_size: reviews encoded and predicted at a time.
    """
    from imdb_lab.features.feeds import MultiHotSequence  # imports Keras: only once a model exists

    feed = MultiHotSequence(sequences, num_words=num_words, batch_size=batch_size)
    return model_accuracy(model, feed, np.asarray(labels).reshape(-1))


def compiled_metrics(model):
    """Return the metrics ``model`` was compiled with, serialized (strings, or dicts of a class and its config), in
    the order ``evaluate`` returns their values after the loss; [] when it was not compiled or they do not
    serialize."""
    try:
        with tensorflow_left_alone():
            metrics = model.get_compile_config().get("metrics") or []
    except Exception:  # noqa: BLE001 - not compiled, or compiled with objects that do not serialize
        return []
    return list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]


def compiled_accuracies(model):
    """Return ``[(kind, threshold, logged as), ...]``: each accuracy-style metric ``model`` was compiled with, by
    what it measures (its class), whatever its name, and the name its values are logged under.

    ``kind``: "accuracy" (a string: Keras's choice from the loss), "binary" (with its threshold), "categorical",
    "sparse", or "exact" (``keras.metrics.Accuracy()``, which counts outputs equal to their labels).
    """
    found = []
    for metric in compiled_metrics(model):
        # a metric object is serialized with its class and its (maybe renamed) name: the class tells its kind;
        # a string is Keras's choice from the loss
        config = (metric.get("config") or {}) if isinstance(metric, dict) else {}
        logged = config.get("name") if isinstance(metric, dict) else metric
        name = str(metric.get("class_name", "") if isinstance(metric, dict) else metric).lower().replace("_", "")
        if isinstance(metric, dict) and name == "accuracy":  # keras.metrics.Accuracy(), not the string
            found.append(("exact", None, logged))
        elif name in ("accuracy", "acc"):
            found.append(("accuracy", THRESHOLD, logged))
        elif name == "binaryaccuracy":
            found.append(("binary", float(config.get("threshold", THRESHOLD)), logged))
        elif name == "categoricalaccuracy":
            found.append(("categorical", None, logged))
        elif name == "sparsecategoricalaccuracy":
            found.append(("sparse", None, logged))
    return found


def accuracy_log_names(model):
    """Return the names under which ``model``'s accuracy metrics are logged (``history.history`` keys, without
    ``val_``), whatever name the learner gave them; ``keras.metrics.Accuracy()``'s is left out: it measures no
    classifier's accuracy."""
    return [logged for kind, _, logged in compiled_accuracies(model) if kind != "exact" and isinstance(logged, str)]


def accuracy_key(logs, names=()):
    """Return the name under which ``logs`` (a History's ``.history``) holds training accuracy, or None.

    ``names`` (``accuracy_log_names``: what the model's accuracy metrics are
    logged under, whatever the learner called them) are looked for first; then
    Keras's own names; then any logged metric whose name holds "acc".
    """
    for name in (*names, *ACCURACY_NAMES):
        if name in logs:
            return name
    return next((name for name in logs if "acc" in name.lower() and not name.startswith("val_")), None)
