"""Answer checks for the lab's TODOs, in the spirit of Kaggle's learntools: one line after each TODO.

Each exercise is an ``Exercise``: ``check.model()`` prints a verdict instead
of raising (``Correct: ...``, or ``Incorrect: ...`` with a ``Hint: ...`` that
points the way without giving the answer, or ``Not attempted: ...`` while the
TODO is untouched); ``check.model.hint()`` and ``check.model.solution()`` help
on demand.

Called without arguments, a check reads the notebook's variables by their
lab names (``multi_hot``, ``model``, ``history``, ``test_accuracy``,
``predict_sentiment``, ``num_words``, ``x_test`` ...); pass them as keywords
to check other objects. Every check compares with an independent reference
(a naive loop, our own evaluation of the model), never with what the
notebook says about itself, and judges the learner's state as it is now: the
model that exists, whether it was trained, the error the last cell raised.

The core (``core.py``: verdicts, the notebook's variables, the learner's
state, exercises; ``graded.py``: the shape of the grader's half of an
exercise) and one module per exercise, which holds its check, hint,
solution and grader's half (``GRADED``): ``encoding_check``,
``model_check``, ``history_check``, ``accuracy_check``, ``prediction_check``.
"""

from imdb_lab.check import accuracy_check, encoding_check, history_check, model_check, prediction_check
from imdb_lab.check.accuracy_check import check_accuracy, measure_accuracy
from imdb_lab.check.core import (
    CORRECT, HINT, INCORRECT, NOT_ATTEMPTED, TARGET_ACCURACY, Exercise, Verdict, multi_hot_problem,
    untrained_problem,
)
from imdb_lab.check.encoding_check import check_encoding, reference_multi_hot
from imdb_lab.check.history_check import check_history, find_validation
from imdb_lab.check.model_check import check_model
from imdb_lab.check.prediction_check import PROBE_TEXTS, UNKNOWN_WORD, check_prediction

encoding = Exercise("encoding", encoding_check.encoding, encoding_check.HINT, encoding_check.SOLUTION,
                    encoding_check.GRADED)
model = Exercise("model", model_check.model, model_check.HINT, model_check.SOLUTION, model_check.GRADED)
history = Exercise("history", history_check.history, history_check.HINT, history_check.SOLUTION,
                   history_check.GRADED)
accuracy = Exercise("accuracy", accuracy_check.accuracy, accuracy_check.HINT, accuracy_check.SOLUTION,
                    accuracy_check.GRADED)
prediction = Exercise("prediction", prediction_check.prediction, prediction_check.HINT, prediction_check.SOLUTION,
                      prediction_check.GRADED)
# the lab's exercises, in order: the grader grades each (imdb_lab.grader.exercises.REGISTRY) and a row lists them so
EXERCISES = (encoding, model, history, accuracy, prediction)


def usable_model(model, num_words):
    """Return True when ``model`` is a trained model of num_words multi-hot values; else print why, return False."""
    problem = multi_hot_problem(model, num_words) or untrained_problem(model)
    if problem:
        print(f"Skipped: {problem.message}\n{HINT} {problem.hint}")
        return False
    return True


__all__ = ["CORRECT", "HINT", "INCORRECT", "NOT_ATTEMPTED", "TARGET_ACCURACY", "Verdict", "Exercise", "EXERCISES",
           "PROBE_TEXTS", "UNKNOWN_WORD", "reference_multi_hot", "check_encoding", "encoding", "check_model", "model",
           "find_validation", "check_history", "history", "measure_accuracy", "check_accuracy", "accuracy",
           "check_prediction", "prediction", "usable_model"]
