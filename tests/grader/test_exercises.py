"""Tests of imdb_lab.grader.exercises: a verdict as a row carries it, and the rubric (each exercise's grader half:
tests/check/test_graded.py)."""

import pytest

from imdb_lab.grader import exercises
from imdb_lab.grader.exercises import DEFAULT_POINTS, EXERCISES, Rubric
from imdb_lab.grader.statuses import GRADER_FAILED, VERDICT_WORDS


def test_an_exercise_the_grader_failed_to_judge_costs_nothing_and_says_so():
    found = exercises.grader_failed("model", "RuntimeError: the scorer broke")
    assert found["verdict"] == GRADER_FAILED in VERDICT_WORDS
    assert "RuntimeError: the scorer broke" in found["message"] and "not a mistake of your notebook" in found["message"]
    assert Rubric().award(found)["points"] == Rubric().award(found)["max_points"] == 0


def test_every_verdict_word_of_the_checks_is_one_the_grader_knows():
    assert set(exercises.VERDICTS.values()) < set(VERDICT_WORDS)


def test_the_default_rubric_weighs_the_accuracy_most():
    rubric = Rubric()
    assert rubric.points == DEFAULT_POINTS and rubric.total == 10
    assert max(rubric.points, key=rubric.points.get) == "accuracy"


def test_a_rubric_file_changes_points_and_partial_credit(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text("[points]\naccuracy = 4\nencoding = 2.5\n\n[partial]\naccuracy = true\nmodel = false\n")
    rubric = Rubric.from_file(path)
    assert rubric.points == {**DEFAULT_POINTS, "accuracy": 4, "encoding": 2.5}
    assert rubric.partial == {"accuracy"} and rubric.total == 9.5


@pytest.mark.parametrize("text, error, message", [
    ("[points\n", ValueError, "is not TOML"),
    ("[weights]\naccuracy = 1\n", ValueError, r"has a table \[weights\]: it takes \[points\] and \[partial\]"),
    ("[points]\nacuracy = 1\n", ValueError, "names an exercise 'acuracy': the exercises are encoding, model"),
    ("[points]\naccuracy = -1\n", TypeError, "points.accuracy must be a number, 0 or more; got -1"),
    ("[points]\naccuracy = 'six'\n", TypeError, "points.accuracy must be a number"),
    ("[partial]\naccuracy = 1\n", TypeError, "partial.accuracy must be true or false; got 1"),
    ("points = 3\n", ValueError, r"points must be a table: \[points\]"),
    ("[points]\n" + "".join(f"{name} = 0\n" for name in EXERCISES), ValueError, "gives no points at all"),
])
def test_a_bad_rubric_file_says_what_to_write(tmp_path, text, error, message):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(error, match=message):
        Rubric.from_file(path)


def test_a_missing_rubric_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="cannot read the rubric .*nowhere.toml"):
        Rubric.from_file(tmp_path / "nowhere.toml")
