"""The answer checks' core: verdicts, reading the notebook's variables and the learner's state, exercises.

The learner's state is what the kernel holds now: the variables by their lab
names, the exception the last failing cell raised (IPython keeps it as
``sys.last_value``), whether the model's optimizer has taken a step, and
whether the model reads the lab's multi-hot reviews at all.
"""

import inspect
import math
import numbers
import re
import sys
import traceback

import numpy as np

from imdb_lab.errors import LabValueError, describe
from imdb_lab.models.dense import input_width
from imdb_lab.models.evaluation import TARGET
from imdb_lab.models.saving import was_trained

CORRECT = "Correct:"
INCORRECT = "Incorrect:"
NOT_ATTEMPTED = "Not attempted:"
# the grader's verdict on an exercise it had nothing to judge on (no check prints it)
NOT_JUDGED = "Not judged:"
HINT = "Hint:"
TARGET_ACCURACY = TARGET
MISSING = object()


class Verdict:
    """The result of one check: its status (CORRECT, INCORRECT or NOT_ATTEMPTED), message and hint.

    The grader's judging (``check.graded``) may say more: ``fraction``, the
    share of the exercise that is right (partial credit; None: all or nothing
    by its status), and ``source``, "kernel" when the verdict rests on what the
    notebook reported rather than on the grader's own measurement.
    """

    def __init__(self, status, message, hint="", *, fraction=None, source="grader"):
        self.status, self.message, self.hint = status, message, hint
        self.fraction, self.source = fraction, source

    def __str__(self):
        """Return the verdict as the check prints it: status and message, then the hint on its own line."""
        text = f"{self.status} {self.message}"
        return f"{text}\n{HINT} {self.hint}" if self.hint else text

    def __repr__(self):
        """Return a short debugging form: status and message."""
        return f"Verdict({self.status!r}, {self.message!r})"


def correct(message):
    """Return a "Correct:" verdict."""
    return Verdict(CORRECT, message)


def incorrect(message, hint=""):
    """Return an "Incorrect:" verdict with a hint that points the way."""
    return Verdict(INCORRECT, message, hint)


def not_attempted(message):
    """Return a "Not attempted:" verdict, for a TODO still untouched."""
    return Verdict(NOT_ATTEMPTED, message)


def not_judged(message):
    """Return the grader's "Not judged:" verdict: the notebook gave it nothing to judge the exercise on."""
    return Verdict(NOT_JUDGED, message)


def as_number(value):
    """Return ``value`` as a float when it is one real number, else None.

    One number is a Python int or float (not a bool), a NumPy scalar or 0-d
    array, or a scalar tensor of any Keras backend (what ``model.evaluate``
    returns, or ``keras.ops.convert_to_numpy`` of it); NaN is no number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        number = float(value)
    else:
        if getattr(value, "shape", None) is None or tuple(value.shape) != ():
            return None
        try:
            array = np.asarray(value)  # NumPy, TensorFlow, JAX; a CPU PyTorch tensor converts too
        except Exception:  # noqa: BLE001 - a tensor NumPy cannot read (a PyTorch tensor on a GPU, say)
            try:
                import keras  # a tensor exists, so its backend (and Keras) are loaded

                array = np.asarray(keras.ops.convert_to_numpy(value))
            except Exception:  # noqa: BLE001 - not a tensor of any backend: not a number
                return None
        if array.shape != () or array.dtype.kind not in "iuf":
            return None
        number = float(array)
    return None if math.isnan(number) else number


def lookup(given, name, namespace):
    """Return ``given``, or the notebook variable ``name`` when no value was given (``MISSING`` if none)."""
    if given is not MISSING:
        return given
    return namespace.get(name, MISSING)


def caller_namespace():
    """Return the globals of the code that called the check: the first frame outside this package's checks."""
    frame = inspect.currentframe().f_back
    try:
        while frame is not None and frame.f_globals.get("__name__", "").startswith("imdb_lab.check"):
            frame = frame.f_back
        return dict(frame.f_globals) if frame is not None else {}
    finally:
        del frame


def report(verdict):
    """Print ``verdict``: the checks show their answer instead of raising."""
    print(verdict)


def is_missing(value):
    """Return True for a TODO left untouched: a variable that is missing or None."""
    return value is MISSING or value is None


def last_error():
    """Return the exception the last failing cell of this kernel raised (None outside IPython, or none yet)."""
    error = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    return error if isinstance(error, BaseException) else None


def failed_since(error, call):
    """Return True when the cell whose line raised ``error`` (calling ``call``) is the last cell that ran ``call``:
    no cell with ``call`` ran after it, so what an earlier run left (a ``history``) is older than the failure.

    Read from IPython (8 and later: the execution count of each cell's code,
    and ``In``, the cells as they ran); False where either is unknown, so that
    nothing is claimed of an order that cannot be told.
    """
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    cell_numbers = getattr(getattr(shell, "compile", None), "_filename_map", None)  # {code's file name: In[n]}
    inputs = getattr(shell, "user_ns", {}).get("In")
    if error is None or not isinstance(cell_numbers, dict) or not isinstance(inputs, list):
        return False
    failed = [cell_numbers[frame.filename] for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename in cell_numbers and call in (frame.line or "")]
    return bool(failed) and not any(call in str(source) for source in inputs[failed[-1] + 1:])


def raised_in(error, call):
    """Return True when ``error`` was raised by a line of the learner's that calls ``call`` (e.g. ``.fit(``)."""
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    return any(call in (frame.line or "") for frame in frames)


def multi_hot_problem(model, num_words):
    """Return an "Incorrect:" verdict when ``model`` does not read ``num_words`` multi-hot values, else None."""
    try:
        width = input_width(model)
    except LabValueError as error:
        return incorrect(f"the model does not read the lab's multi-hot reviews ({error}), so it cannot be "
                         "measured on them", "the checks, and the cells after them, feed the model num_words "
                         "multi-hot values per review: keras.Input(shape=(num_words,)), then Dense layers")
    if width != num_words:
        return incorrect(f"the model reads {width:,} values per review, but num_words is {num_words:,}",
                         "build the model with keras.Input(shape=(num_words,)) for the num_words the data was "
                         "loaded with, and run the cells below it again")
    return None


def untrained_problem(model):
    """Return an "Incorrect:" verdict when ``model`` was never fitted (``saving.was_trained``), else None."""
    if was_trained(model) is not False:
        return None
    error = last_error()
    if error is not None and raised_in(error, ".fit("):
        return incorrect(f"the model has not been trained: model.fit raised {describe(error)}", fit_hint(error))
    return incorrect("the model has not been trained (it was never fitted): if you ran the model cell "
                     "again after training, the new model replaced the trained one",
                     "run the training cell (model.fit) again, then the cells after it")


def fit_hint(error):
    """Return what to do about an exception ``model.fit`` raised, from the classic mistakes."""
    text = str(error)
    if isinstance(error, NameError) and "x_train_hot" in text:
        # section 6 deletes the training rows to make room for the test rows
        return "x_train_hot is gone (section 6 frees it): run the encoding cell of section 3 again, then train"
    if "compile" in text:
        return "compile the model (model.compile(...)) before calling model.fit"
    if "validation_split" in text:
        return ("validation_split splits arrays only: with a MultiHotSequence feed, pass validation_data=another "
                "feed built from reviews split off the training reviews")
    # two outputs and labels of another shape: output.shape=(None, 2), (32, 2) or torch.Size([32, 2])
    if re.search(r"output\.shape=[\w.]*[(\[]+[^)\]]*, 2[)\]]", text):
        return ("a two-unit softmax with categorical cross-entropy trains on one-hot labels: "
                "keras.utils.to_categorical(y_train); or use sparse_categorical_crossentropy on the 0/1 labels")
    if any(word in text for word in ("object", "sequence", "inhomogeneous", "convert", "data type")):
        return "fit on the multi-hot rows (x_train_hot), not on the reviews as lists of word indices"
    return "fix what the error says in the training cell and run it again"


class Exercise:
    """One exercise of the lab: call it to check the answer; ``hint()`` and ``solution()`` help on demand.

    As in Kaggle's learntools: the notebook's text states what is asked, the
    hint points the way, the solution shows one answer. Asking is counted.
    ``graded``: the exercise's grader half (``check.graded.Graded``).
    """

    def __init__(self, name, check, hint, solution, graded=None):
        self.name, self._check, self._hint, self._solution = name, check, hint, solution
        self.graded = graded  # how the grader judges it outside the kernel (check.graded.Graded)
        self.hints_shown = self.solutions_shown = 0
        self.__doc__ = check.__doc__

    def __call__(self, *args, **kwargs):
        """Check the answer (the notebook's variables by default) and print the verdict."""
        return self._check(*args, **kwargs)

    def hint(self):
        """Print a hint for this exercise."""
        self.hints_shown += 1
        print(f"{HINT} {self._hint}")

    def solution(self):
        """Print one solution of this exercise (yours may differ and be just as right)."""
        self.solutions_shown += 1
        print(f"Solution (one of many): paste it over the whole TODO cell\n{self._solution}")

    @property
    def solution_code(self):
        """Return the solution: the whole TODO cell, answered, as the solutions notebook has it."""
        return self._solution

    def __repr__(self):
        """Return how to use the exercise."""
        return f"<exercise {self.name}: check.{self.name}(), check.{self.name}.hint(), check.{self.name}.solution()>"
