"""Answer checks for the lab's TODOs, in the spirit of Kaggle's learntools: one line after each TODO.

Each check prints a verdict instead of raising: ``Correct: ...``, or
``Incorrect: ...`` with a ``Hint: ...`` that points the way without giving the
answer, or ``Not attempted: ...`` while the TODO is untouched (its variable
missing or None, or its stub still raising NotImplementedError).

Called without arguments, a check reads the notebook's variables by their
lab names (``multi_hot``, ``model``, ``history``, ``test_accuracy``,
``predict_sentiment``, ``num_words``, ``x_test`` ...); pass them as keywords
to check other objects. Every check compares with an independent reference
(a naive loop, our own evaluation of the model), never with what the
notebook says about itself.

The core (``core.py``: verdicts, reading the notebook's variables) and one
module per exercise: ``encoding_check``, ``model_check``, ``history_check``,
``accuracy_check``, ``prediction_check``.
"""

from imdb_lab.check.accuracy_check import accuracy, check_accuracy, measure_accuracy
from imdb_lab.check.core import CORRECT, HINT, INCORRECT, NOT_ATTEMPTED, TARGET_ACCURACY, Verdict
from imdb_lab.check.encoding_check import check_encoding, encoding, reference_multi_hot
from imdb_lab.check.history_check import check_history, find_validation, history
from imdb_lab.check.model_check import check_model, model
from imdb_lab.check.prediction_check import PROBE_TEXTS, UNKNOWN_WORD, check_prediction, prediction

__all__ = ["CORRECT", "HINT", "INCORRECT", "NOT_ATTEMPTED", "TARGET_ACCURACY", "Verdict", "PROBE_TEXTS",
           "UNKNOWN_WORD", "reference_multi_hot", "check_encoding", "encoding", "check_model", "model",
           "find_validation", "check_history", "history", "measure_accuracy", "check_accuracy", "accuracy",
           "check_prediction", "prediction"]
