"""The one accuracy of the lab: the share of reviews whose predicted class is right, and the 85 % target."""

import numpy as np

from imdb_lab.errors import LabValueError

TARGET = 0.85


def accuracy_from_predictions(predictions, labels):
    """Return the share of reviews whose predicted class equals ``labels`` (0 = negative, 1 = positive).

    One output unit: positive when above 0.5 (a sigmoid), or above 0 when the values
    are not probabilities (logits). Two units: the larger one wins (a softmax).
    """
    predictions = np.asarray(predictions, dtype="float64")
    labels = np.asarray(labels)
    predictions = predictions.reshape(len(labels), -1)
    if predictions.shape[1] == 2:
        predicted = predictions.argmax(axis=1)
    elif predictions.shape[1] == 1:
        scores = predictions[:, 0]
        is_probability = scores.size == 0 or (scores.min() >= 0 and scores.max() <= 1)
        predicted = (scores > (0.5 if is_probability else 0.0)).astype("int64")
    else:
        raise LabValueError(f"the model has {predictions.shape[1]} outputs: expected 1 (sigmoid) or 2 (softmax)")
    return float((predicted == labels).mean())


def multi_hot_accuracy(model, sequences, labels, num_words, *, batch_size=512):
    """Return the accuracy of ``model.predict`` on multi-hot ``sequences``, fed batch by batch."""
    from imdb_lab.feeds import MultiHotSequence
    from imdb_lab.outputs import positive_probability

    feed = MultiHotSequence(sequences, num_words=num_words, batch_size=batch_size)
    # read through the model's own output kind, so that a logit of 0.7 counts as positive (a range heuristic
    # would take it for a probability)
    probability = positive_probability(model, model.predict(feed, verbose=0))
    return accuracy_from_predictions(probability, labels)
