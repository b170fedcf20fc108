"""The test-accuracy exercise: ``check.accuracy()`` measures the model again."""

import math
import numbers

import numpy as np

from imdb_lab.check.core import (
    MISSING, TARGET_ACCURACY, caller_namespace, correct, incorrect, is_missing, lookup, not_attempted, report,
)
from imdb_lab.models.evaluation import multi_hot_accuracy


def measure_accuracy(model, x_test, y_test, num_words, batch_size=1024):
    """Return the share of reviews whose class (probability > 0.5) the model gets right, fed batch by batch."""
    return multi_hot_accuracy(model, x_test, np.asarray(y_test).reshape(-1), num_words, batch_size=batch_size)


def check_accuracy(model, test_accuracy, x_test, y_test, num_words, target=TARGET_ACCURACY):
    """Return the Verdict of the reported ``test_accuracy``, measured again on ``x_test``, ``y_test``."""
    if is_missing(model):
        return not_attempted("there is no model yet: build and train it first")
    if is_missing(test_accuracy):
        return not_attempted("there is no test_accuracy yet: evaluate the model on the test reviews in the "
                              "TODO cell above")
    if isinstance(test_accuracy, bool) or not isinstance(test_accuracy, numbers.Real) or math.isnan(test_accuracy):
        return incorrect(f"test_accuracy should be a number, got {test_accuracy!r}",
                          "model.evaluate returns [loss, accuracy] when the model was compiled with an accuracy metric")
    measured = measure_accuracy(model, x_test, y_test, num_words)
    if abs(float(test_accuracy) - measured) > 0.002:
        return incorrect(f"test_accuracy is {float(test_accuracy):.4f}, but the model's accuracy on the "
                          f"{len(y_test):,} test reviews is {measured:.4f}",
                          "evaluate the trained model on the test reviews and labels (x_test, y_test), once")
    if measured < target:
        return incorrect(f"the test accuracy is {measured:.4f}, below the target of {target}",
                          "look at the learning curves: stop at the best validation epoch, and check the model")
    return correct(f"test accuracy {measured:.4f} (measured again here), above the target of {target}.")


def accuracy(model=MISSING, test_accuracy=MISSING, x_test=MISSING, y_test=MISSING, num_words=MISSING):
    """Check ``test_accuracy`` against our own evaluation of ``model`` on the test reviews; print the verdict."""
    namespace = caller_namespace()
    values = {name: lookup(value, name, namespace) for name, value in
              (("model", model), ("test_accuracy", test_accuracy), ("x_test", x_test), ("y_test", y_test),
               ("num_words", num_words))}
    for name in ("x_test", "y_test", "num_words"):
        if is_missing(values[name]):
            report(not_attempted(f"{name} is not set: run the cells from the top of the notebook"))
            return
    report(check_accuracy(**values))
