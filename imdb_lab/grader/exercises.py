"""Points per exercise, judged by the grader in the answer checks' own words, and the rubric that prices them.

The five exercises of the lab, each judged outside the student's kernel:

- ``encoding``: the student's ``multi_hot`` ran in the kernel on reviews the
  runner drew after the notebook's cells had run; the grader compares its
  outputs with a plain-loop reference (``check.encoding``'s rules);
- ``model``: the exported model, loaded (compiled, safely) in the scorer and
  judged as ``check.model()`` judges it;
- ``training``: whether the exported model was trained (its optimizer's steps,
  read by the scorer), and the history the kernel reported, judged as
  ``check.history()`` judges it: that part can only come from the kernel, and
  its verdict says so (``source`` "kernel");
- ``accuracy``: the scorer's own measurement against the target;
- ``prediction``: the student's ``predict_sentiment`` on texts the runner chose
  after the cells ran, against the exported model's own probabilities.

A verdict is a plain dict (``verdict``): it goes through the rows file, the
CSV, Gradescope's ``results.json`` and the feedback pages as it is.
"""

import dataclasses
import math
import sys
from pathlib import Path

from imdb_lab.check.core import CORRECT, INCORRECT, NOT_ATTEMPTED, correct, incorrect, not_attempted
from imdb_lab.check.encoding_check import judge_encoding, multi_hot_raised
from imdb_lab.errors import LabTypeError, LabValueError, first_line
from imdb_lab.grader.records import EncodingCase
from imdb_lab.grader.statuses import GRADER_FAILED, NOT_JUDGED

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the standard library's tomllib, as a package
    import tomli as tomllib

EXERCISES = ("encoding", "model", "training", "accuracy", "prediction")
TITLES = {
    "encoding": "Multi-hot encoding: multi_hot(sequences, num_words)",
    "model": "The model: a compiled binary classifier of multi-hot reviews, with dropout or a weight penalty",
    "training": "Training: validated on training reviews, stopped early, the best epoch's weights",
    "accuracy": "Test accuracy, measured by the grader",
    "prediction": "New reviews: predict_sentiment(texts)",
}
# the accuracy is worth the most; the rest one point each (10 in all)
DEFAULT_POINTS = {"encoding": 1, "model": 1, "training": 1, "accuracy": 6, "prediction": 1}
# verdict words, as the checks print them, without their colon
VERDICTS = {CORRECT: "correct", INCORRECT: "incorrect", NOT_ATTEMPTED: "not attempted"}
# how many reviews, and how many words at most, the runner draws for each hidden encoding case
HIDDEN_CASES = 3


def verdict(exercise, check_verdict, *, source="grader", fraction=None):
    """Return an exercise's verdict dict from a check's ``Verdict``; ``fraction`` (0 to 1) of it right."""
    word = VERDICTS[check_verdict.status]
    return {"exercise": exercise, "verdict": word, "message": check_verdict.message, "hint": check_verdict.hint,
            "fraction": (1.0 if word == "correct" else 0.0) if fraction is None else float(fraction),
            "source": source}


def not_judged(exercise, why):
    """Return the verdict of an exercise the grader could not judge (the notebook exported nothing)."""
    return {"exercise": exercise, "verdict": NOT_JUDGED, "message": why, "hint": "", "fraction": 0.0,
            "source": "grader"}


def grader_failed(exercise, error):
    """Return the verdict of an exercise the grader failed to judge (``error``, a message): its points are left out
    of the score, and the student is told that grading it again is the instructor's to do."""
    return {"exercise": exercise, "verdict": GRADER_FAILED,
            "message": f"the grader failed while judging this exercise ({first_line(error)}); this is not a "
                       "mistake of your notebook, and the exercise is left out of your score",
            "hint": "tell your instructor: they can grade your notebook again once the grader is mended",
            "fraction": 0.0, "source": "grader"}


def draw_encoding_cases(rng):
    """Return hidden encoding cases (``records.EncodingCase``) drawn with ``rng``.

    Each case has a repeated word, an empty review, and the first and last
    column, among random reviews: the mistakes of ``check.encoding``'s cases,
    on inputs the notebook cannot have seen.
    """
    cases = []
    for number in range(1, HIDDEN_CASES + 1):
        num_words = rng.randrange(12, 60)
        reviews = [[rng.randrange(num_words) for _ in range(rng.randrange(1, 25))] for _ in range(rng.randrange(4, 12))]
        reviews[0] += [reviews[0][0]] * 2  # a repeated word
        reviews.append([])
        reviews.append([0, num_words - 1])
        rng.shuffle(reviews)
        cases.append(EncodingCase(f"hidden case {number}: {len(reviews)} reviews over {num_words} words",
                                  tuple(map(tuple, reviews)), num_words))
    return tuple(cases)


def judge_encoding_outputs(cases, record):
    """Return the encoding verdict from the hidden ``cases`` (``records.EncodingCase``) and the kernel's
    ``records.FunctionRecord`` of ``multi_hot`` on them (None: the kernel recorded nothing)."""
    if record is None:
        return not_judged("encoding", "the notebook's kernel recorded nothing of multi_hot (it stopped, or ran out "
                                      "of time, before the grader could call it)")
    if record.missing is not None:
        if not record.missing:
            return verdict("encoding", not_attempted("there is no function multi_hot"))
        return verdict("encoding", incorrect(f"multi_hot should be a function, got {record.missing[:60]}",
                                             "define it with def multi_hot(sequences, num_words): ..."))
    if len(record.calls) != len(cases):
        return verdict("encoding", incorrect("multi_hot gave no answer for some of the hidden reviews"))
    first_wrong, right = None, 0
    for case, call in zip(cases, record.calls, strict=True):
        if call.kind == "not_attempted":
            return verdict("encoding", not_attempted("multi_hot still raises NotImplementedError"))
        sequences = [list(sequence) for sequence in case.sequences]
        expected_shape = (len(sequences), case.num_words)
        if call.kind == "raised":
            wrong = multi_hot_raised(case.description, call.value)
        elif call.kind == "shape":  # too large to record: its shape says what went wrong
            wrong = incorrect(f"on {case.description}, the result has shape {call.value}, expected "
                              f"{expected_shape}", "one row per review and one column per word index: shape "
                              "(len(sequences), num_words)")
        elif call.kind == "result":
            wrong = judge_encoding(call.value, case.description, sequences, case.num_words)
        else:
            wrong = incorrect(f"on {case.description}, multi_hot returned a {call.value[:60]}, not an array",
                              "return a NumPy array of 0s and 1s")
        right += wrong is None
        first_wrong = first_wrong or wrong
    if first_wrong is not None:
        return verdict("encoding", first_wrong, fraction=right / len(cases))
    return verdict("encoding", correct(f"multi_hot matches a plain-loop reference on {len(cases)} sets of reviews "
                                       "the grader drew after the notebook ran."))


def judge_accuracy(accuracy, target):
    """Return the accuracy verdict: the scorer's measurement against ``target``; partly right above chance (0.5)."""
    if accuracy >= target:
        return verdict("accuracy", correct(f"the grader measured a test accuracy of {accuracy:.4f}, at or above the "
                                           f"target of {target:.2f}."))
    fraction = min(1.0, max(0.0, (accuracy - 0.5) / (target - 0.5))) if target > 0.5 else 0.0
    return verdict("accuracy", incorrect(f"the grader measured a test accuracy of {accuracy:.4f}, below the target "
                                         f"of {target:.2f}",
                                         "look at the learning curves: train until the validation loss stops "
                                         "falling, with dropout or a weight penalty against overfitting"),
                   fraction=fraction)


@dataclasses.dataclass(frozen=True)
class Rubric:
    """What each exercise is worth (``points``), and which of them earn part of their points (``partial``)."""

    points: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_POINTS))
    partial: frozenset = frozenset()

    @property
    def total(self):
        """Return the points of the whole lab."""
        return sum(self.points.values())

    def award(self, exercise_verdict):
        """Return ``exercise_verdict`` with its ``points`` and ``max_points`` under this rubric."""
        name = exercise_verdict["exercise"]
        most = 0 if exercise_verdict["verdict"] == GRADER_FAILED else self.points[name]
        fraction = exercise_verdict["fraction"] if name in self.partial else float(exercise_verdict["fraction"] == 1)
        return {**exercise_verdict, "points": round(most * fraction, 2), "max_points": most}

    @classmethod
    def from_file(cls, path):
        """Read a rubric from a TOML file; raise LabValueError, saying what to write, for anything else.

        The file::

            [points]            # any of the five; those left out keep their default
            accuracy = 6
            encoding = 1
            [partial]           # an exercise listed true earns part of its points
            accuracy = true     # (above chance: 0.5 gives 0, the target all)
            encoding = true     # (the share of the hidden cases it got right)
        """
        path = Path(path)
        try:
            content = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise LabValueError(f"cannot read the rubric {path}: {error.strerror or error}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise LabValueError(f"the rubric {path} is not TOML: {error}") from None
        unknown = set(content) - {"points", "partial"}
        if unknown:
            raise LabValueError(f"the rubric {path} has a table [{sorted(unknown)[0]}]: it takes [points] and "
                                "[partial]")
        points = dict(DEFAULT_POINTS)
        for table in ("points", "partial"):
            section = content.get(table, {})
            if not isinstance(section, dict):
                raise LabValueError(f"in the rubric {path}, {table} must be a table: [{table}]")
            strange = set(section) - set(EXERCISES)
            if strange:
                raise LabValueError(f"the rubric {path} names an exercise {sorted(strange)[0]!r}: the exercises "
                                    f"are {', '.join(EXERCISES)}")
        for name, value in content.get("points", {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise LabTypeError(f"in the rubric {path}, points.{name} must be a number, 0 or more; got {value!r}")
            points[name] = value
        partial = content.get("partial", {})
        for name, value in partial.items():
            if not isinstance(value, bool):
                raise LabTypeError(f"in the rubric {path}, partial.{name} must be true or false; got {value!r}")
        if sum(points.values()) <= 0:
            raise LabValueError(f"the rubric {path} gives no points at all: give at least one exercise points")
        return cls(points, frozenset(name for name, value in partial.items() if value))
