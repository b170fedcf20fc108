"""The test-accuracy exercise: ``check.accuracy()`` measures the model again, whatever its output and metric."""

import traceback

import numpy as np

from imdb_lab.check.core import (
    MISSING, TARGET_ACCURACY, as_number, caller_namespace, correct, incorrect, is_missing, last_error, lookup,
    multi_hot_problem, not_attempted, raised_in, report, untrained_problem,
)
from imdb_lab.check.graded import Graded
from imdb_lab.check.history_check import find_validation
from imdb_lab.check.model_check import EXACT_ACCURACY, accuracy_metrics
from imdb_lab.errors import describe
from imdb_lab.models.evaluation import compiled_metrics, multi_hot_accuracy
from imdb_lab.models.outputs import LOGIT, output_kind


# a feed of the test reviews, for a model with one-hot labels (the labels live in the feed, not in evaluate's y)
CATEGORICAL_FEED = ("test_feed = MultiHotSequence(x_test, keras.utils.to_categorical(y_test), num_words=num_words, "
                    "batch_size=batch_size)")
HINT = ("model.evaluate(test_feed, verbose=0) returns the loss and the accuracy: test_loss, test_accuracy = ... "
        "(test_feed holds the labels; with categorical cross-entropy, make it with one-hot labels: "
        f"{CATEGORICAL_FEED})")
# the whole TODO cell, as the solutions notebook has it
SOLUTION = """\
test_loss, test_accuracy = model.evaluate(test_feed, verbose=0)
print(f"test accuracy: {test_accuracy:.4f} (test loss {test_loss:.4f})")"""


def measure_accuracy(model, x_test, y_test, num_words, *, batch_size=512):
    """Return the share of reviews whose class the model gets right (the lab's one accuracy), fed batch by batch.

    Args:
        model: a binary classifier of multi-hot rows (one probability, one logit, or two classes).
        x_test: the reviews (word indices) or their multi-hot rows.
        y_test: their labels, 0/1 or one-hot.
        num_words: the width of the multi-hot rows.
        batch_size: reviews encoded and predicted at a time.
    """
    y = np.asarray(y_test)
    labels = y.argmax(axis=1) if y.ndim == 2 else y.reshape(-1)  # one-hot labels of a categorical design
    return multi_hot_accuracy(model, x_test, labels, num_words, batch_size=batch_size)


def _metric_misreads(model):
    """Return ``(why, hint)`` when the model's compiled accuracy metric is not its accuracy, or None."""
    metrics = accuracy_metrics(model)
    if metrics and metrics[0][0] == "exact":
        return (f"{EXACT_ACCURACY}: the number model.evaluate reports is not the accuracy",
                "compile with metrics=['accuracy'] (check.model() says so too), then evaluate again")
    try:
        kind = output_kind(model)
    except ValueError:
        return None
    thresholds = [threshold for name, threshold in metrics if threshold is not None]
    if kind == LOGIT and thresholds and thresholds[0] != 0.0:
        return ("Keras's 'accuracy' counts a review as positive when the output is above 0.5, but the model "
                "outputs a logit, positive above 0: the number model.evaluate reports is not the accuracy",
                "compile with metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)] (check.model() says so too), "
                "train and evaluate again")
    return None


def _unpacking_failed(error):
    """Return True when ``error`` is the learner's line that calls ``evaluate`` failing to unpack its result: the
    error was raised in that line's own frame, after the call returned, not inside the call."""
    frames = traceback.extract_tb(error.__traceback__)
    return (isinstance(error, ValueError) and "values to unpack" in str(error) and bool(frames)
            and ".evaluate(" in (frames[-1].line or ""))


def _compiled_metric_names(model):
    """Return the names of the metrics ``model`` was compiled with, in the order ``evaluate`` returns them."""
    return [metric if isinstance(metric, str) else str((metric.get("config") or {}).get("name", "a metric"))
            if isinstance(metric, dict) else "a metric" for metric in compiled_metrics(model)]


def _leak(model, num_words, namespace):
    """Return True when the notebook's ``history`` shows the model was validated on the test reviews."""
    names = ("history", "x_train", "y_train", "x_test", "y_test", "x_val", "y_val")
    values = {name: namespace.get(name) for name in names}
    if is_missing(values["history"]) or not hasattr(values["history"], "history"):
        return False
    try:
        where, _ = find_validation(values.pop("history"), model, num_words, **values)
    except Exception:  # noqa: BLE001 - data of another shape than the lab's: no judgement
        return False
    return where == "test"


def check_accuracy(model, test_accuracy, x_test, y_test, num_words, *, target=TARGET_ACCURACY, namespace=None):
    """Return the Verdict of the reported ``test_accuracy``, measured again on ``x_test``, ``y_test``.

    It judges the model that exists now: one that does not read multi-hot
    reviews, or that was never trained, is told so rather than scored; the
    true accuracy is measured whatever the output kind; a number from a
    metric that cannot measure the model is named as such; a model validated
    on the test reviews (``namespace``'s ``history``) has no clean test accuracy.

    Args:
        model: the notebook's trained model.
        test_accuracy: the accuracy the notebook reported (from ``model.evaluate``).
        x_test, y_test: the test reviews and their labels.
        num_words: the width of the multi-hot rows.
        target: the accuracy to reach.
        namespace: the notebook's variables (its ``history`` and data), to tell a leak; None: not looked at.
    """
    if is_missing(model):
        return not_attempted("there is no model yet: build and train it first")
    problem = multi_hot_problem(model, num_words) or untrained_problem(model)
    if problem:
        return problem
    if is_missing(test_accuracy):
        error = last_error()
        if error is not None and _unpacking_failed(error):
            names = ", ".join(["loss", *_compiled_metric_names(model)])
            return incorrect(f"there is no test_accuracy: model.evaluate ran, but it returns the loss and then one "
                             f"value per compiled metric ({names}), and the names before `=` do not match them "
                             f"({describe(error)})",
                             "name one variable per value (test_loss, test_accuracy, ... in the order above), or "
                             "take the accuracy by its name: results = model.evaluate(test_feed, verbose=0, "
                             "return_dict=True), then test_accuracy = results['accuracy']")
        if error is not None and raised_in(error, ".evaluate("):
            hint = ("with a two-unit softmax and categorical cross-entropy, give the feed one-hot labels: "
                    f"{CATEGORICAL_FEED}; else fix what the error says")
            if isinstance(error, NameError) and "test_feed" in str(error):
                hint = "run the cell above the TODO first: it makes test_feed, the test reviews batch by batch"
            elif isinstance(error, NameError) and "x_test_hot" in str(error):
                # a notebook handed out before section 6 evaluated from a feed
                hint = "run the cell above the TODO first: it encodes the test reviews as x_test_hot"
            elif "`y` should not be passed" in str(error):
                hint = "the feed holds the labels already: model.evaluate(test_feed, verbose=0)"
            return incorrect(f"there is no test_accuracy: model.evaluate raised {describe(error)}", hint)
        return not_attempted("there is no test_accuracy yet: evaluate the model on the test reviews in the "
                             "TODO cell above")
    reported = as_number(test_accuracy)
    if reported is None:
        return incorrect(f"test_accuracy should be a number, got {test_accuracy!r}",
                         "model.evaluate returns [loss, accuracy] when the model was compiled with an accuracy metric")
    measured = measure_accuracy(model, x_test, y_test, num_words)
    if namespace is not None and _leak(model, num_words, namespace):
        return incorrect(f"the model's test accuracy is {measured:.4f}, but it is not a clean measurement: the test "
                         "reviews were the validation data that chose when to stop",
                         "validate on part of the TRAINING reviews (validation_split=0.2), train again, then "
                         "evaluate on the test reviews once")
    if abs(reported - measured) > 0.002:
        misread = _metric_misreads(model)
        if misread:
            return incorrect(f"test_accuracy is {reported:.4f}, but the model's accuracy on the "
                             f"{len(y_test):,} test reviews is {measured:.4f}: {misread[0]}", misread[1])
        return incorrect(f"test_accuracy is {reported:.4f}, but the model's accuracy on the "
                         f"{len(y_test):,} test reviews is {measured:.4f}",
                         "evaluate the trained model on the test reviews and their labels (test_feed), once")
    if measured < target:
        return incorrect(f"the test accuracy is {measured:.4f}, below the target of {target}",
                         "look at the learning curves: stop at the best validation epoch, and check the model")
    return correct(f"test accuracy {measured:.4f} (measured again here), above the target of {target}.")


def accuracy(model=MISSING, test_accuracy=MISSING, x_test=MISSING, y_test=MISSING, num_words=MISSING):
    """Check ``test_accuracy`` against our own evaluation of ``model`` on the test reviews; print the verdict.

    Args:
        model: the trained model (default: the notebook's ``model``).
        test_accuracy: the accuracy the notebook reported (default: its ``test_accuracy``).
        x_test, y_test: the test reviews and labels (default: the notebook's).
        num_words: the width of the multi-hot rows (default: the notebook's).
    """
    namespace = caller_namespace()
    values = {name: lookup(value, name, namespace) for name, value in
              (("model", model), ("test_accuracy", test_accuracy), ("x_test", x_test), ("y_test", y_test),
               ("num_words", num_words))}
    for name in ("x_test", "y_test", "num_words"):
        if is_missing(values[name]):
            report(not_attempted(f"{name} is not set: run the cells from the top of the notebook"))
            return
    report(check_accuracy(**values, namespace=namespace))


# The grader's half (check.graded): the scorer's own measurement on the test reviews, against the target.
TITLE = "Test accuracy, measured by the grader"


def judge_measured_accuracy(evidence):
    """Return the accuracy verdict: the scorer's measurement (``evidence.accuracy``) against ``evidence.target``;
    its ``fraction`` grows from chance (0.5) to the target."""
    accuracy, target = evidence.accuracy, evidence.target
    if accuracy is None:
        return None
    if accuracy >= target:
        return correct(f"the grader measured a test accuracy of {accuracy:.4f}, at or above the target of "
                       f"{target:.2f}.")
    found = incorrect(f"the grader measured a test accuracy of {accuracy:.4f}, below the target of {target:.2f}",
                      "look at the learning curves: train until the validation loss stops falling, with dropout or "
                      "a weight penalty against overfitting")
    found.fraction = min(1.0, max(0.0, (accuracy - 0.5) / (target - 0.5))) if target > 0.5 else 0.0
    return found


GRADED = Graded("accuracy", TITLE, 6, judge_measured_accuracy)
