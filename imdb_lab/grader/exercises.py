"""The lab's exercises as the grader grades them (``REGISTRY``), each verdict as a row carries it, and the rubric.

Each exercise's module in ``imdb_lab.check`` holds its grader's half
(``check.graded.Graded``): what the runner runs in the kernel for it, and how
it is judged outside the kernel. ``REGISTRY`` is their list, in the order of
``check.EXERCISES``, which is the order of a row's exercises and of the CSV's
columns. README "Points per exercise" says what each one's verdict rests on.

A verdict is a plain dict (``verdict``): it goes through the rows file, the
CSV, Gradescope's ``results.json`` and the feedback pages as it is.
"""

import dataclasses
import math
import sys
from pathlib import Path

from imdb_lab import check
from imdb_lab.arguments import is_real
from imdb_lab.check.core import CORRECT, INCORRECT, NOT_ATTEMPTED, NOT_JUDGED
from imdb_lab.errors import LabTypeError, LabValueError, first_line
from imdb_lab.grader import statuses
from imdb_lab.grader.statuses import GRADER_FAILED

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the standard library's tomllib, as a package
    import tomli as tomllib

# the grader's half of each exercise (check.graded.Graded), in a row's order
REGISTRY = tuple(exercise.graded for exercise in check.EXERCISES)
BY_NAME = {graded.name: graded for graded in REGISTRY}
EXERCISES = tuple(BY_NAME)
TITLES = {graded.name: graded.title for graded in REGISTRY}
# the accuracy is worth the most; the rest one point each (10 in all)
DEFAULT_POINTS = {graded.name: graded.points for graded in REGISTRY}
# the verdict words of a row, from the checks' statuses (without their colon)
VERDICTS = {CORRECT: "correct", INCORRECT: "incorrect", NOT_ATTEMPTED: "not attempted",
            NOT_JUDGED: statuses.NOT_JUDGED}


def verdict(exercise, check_verdict):
    """Return an exercise's verdict dict from a check's ``Verdict`` (its ``fraction`` right: all or nothing by its
    status unless it says)."""
    word = VERDICTS[check_verdict.status]
    fraction = (1.0 if word == "correct" else 0.0) if check_verdict.fraction is None else check_verdict.fraction
    return {"exercise": exercise, "verdict": word, "message": check_verdict.message, "hint": check_verdict.hint,
            "fraction": float(fraction), "source": check_verdict.source}


def not_judged(exercise, why):
    """Return the verdict of an exercise the grader had nothing to judge on (the notebook exported nothing)."""
    return {"exercise": exercise, "verdict": statuses.NOT_JUDGED, "message": why, "hint": "", "fraction": 0.0,
            "source": "grader"}


def grader_failed(exercise, error):
    """Return the verdict of an exercise the grader failed to judge (``error``, a message): its points are left out
    of the score, and the student is told that grading it again is the instructor's to do."""
    return {"exercise": exercise, "verdict": GRADER_FAILED,
            "message": f"the grader failed while judging this exercise ({first_line(error)}); this is not a "
                       "mistake of your notebook, and the exercise is left out of your score",
            "hint": "tell your instructor: they can grade your notebook again once the grader is mended",
            "fraction": 0.0, "source": "grader"}


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
            if not is_real(value) or not math.isfinite(value) or value < 0:
                raise LabTypeError(f"in the rubric {path}, points.{name} must be a number, 0 or more; got {value!r}")
            points[name] = value
        partial = content.get("partial", {})
        for name, value in partial.items():
            if not isinstance(value, bool):
                raise LabTypeError(f"in the rubric {path}, partial.{name} must be true or false; got {value!r}")
        if sum(points.values()) <= 0:
            raise LabValueError(f"the rubric {path} gives no points at all: give at least one exercise points")
        return cls(points, frozenset(name for name, value in partial.items() if value))
