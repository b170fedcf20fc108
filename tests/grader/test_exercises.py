"""Tests of imdb_lab.grader.exercises: the grader's verdicts per exercise, hidden inputs, and the rubric."""

import random

import numpy as np
import pytest

from conftest import naive_multi_hot
from imdb_lab.grader import exercises
from imdb_lab.grader.exercises import DEFAULT_POINTS, EXERCISES, Rubric


def cases(seed=1):
    return exercises.draw_encoding_cases(random.Random(seed))


def test_hidden_cases_hold_the_classic_mistakes_and_differ_from_run_to_run():
    drawn = cases()
    assert len(drawn) == exercises.HIDDEN_CASES
    for case in drawn:
        reviews, num_words = case["sequences"], case["num_words"]
        assert [] in reviews and [0, num_words - 1] in reviews  # an empty review, the first and last column
        assert any(len(set(review)) < len(review) for review in reviews)  # a repeated word
        assert all(0 <= index < num_words for review in reviews for index in review)
    assert cases(1) == cases(1) and cases(1) != cases(2)


def kernel_record(function, drawn):
    """What the runner's cell records for ``function`` on the hidden cases (as JSON would carry it)."""
    records = []
    for case in drawn:
        try:
            records.append({"result": np.asarray(function(case["sequences"], case["num_words"]), float).tolist()})
        except NotImplementedError:
            records.append({"not_attempted": True})
        except Exception as error:  # noqa: BLE001
            records.append({"raised": f"{type(error).__name__}: {error}"})
    return records


def counts(sequences, num_words):
    out = np.zeros((len(sequences), num_words))
    for row, review in enumerate(sequences):
        for index in review:
            out[row, index] += 1
    return out


def stub(sequences, num_words):
    raise NotImplementedError


@pytest.mark.parametrize("function, word, message, hint", [
    (naive_multi_hot, "correct", "multi_hot matches a plain-loop reference on 3 sets of reviews", ""),
    (counts, "incorrect", "not 1", "a word that occurs several times in a review still gives a 1"),
    (lambda s, n: naive_multi_hot(s, n + 1), "incorrect", "the result has shape", "shape (len(sequences), num_words)"),
    (lambda s, n: naive_multi_hot([[i - 1 for i in r if i] for r in s], n), "incorrect", "row",
     "index i goes to column i (0-based): don't subtract 1"),
    (lambda s, n: 1 / 0, "incorrect", "multi_hot raised ZeroDivisionError: division by zero", "sequences is a list"),
    (stub, "not attempted", "multi_hot still raises NotImplementedError", ""),
])
def test_the_encoding_verdict_names_the_mistake_as_check_encoding_does(function, word, message, hint):
    drawn = cases()
    found = exercises.judge_encoding_outputs(drawn, kernel_record(function, drawn))
    assert found["verdict"] == word and found["exercise"] == "encoding" and found["source"] == "grader"
    assert message in found["message"] and hint in found["hint"]


def test_the_encoding_verdict_without_a_function_or_with_a_value_instead():
    assert exercises.judge_encoding_outputs(cases(), {"missing": None})["verdict"] == "not attempted"
    found = exercises.judge_encoding_outputs(cases(), {"missing": "ndarray"})
    assert (found["verdict"], found["message"]) == ("incorrect", "multi_hot should be a function, got ndarray")
    found = exercises.judge_encoding_outputs(cases(), [{"shape": [5, 10**6]}] * exercises.HIDDEN_CASES)
    assert "the result has shape (5, 1000000)" in found["message"]


def test_a_damaged_record_of_the_drawn_reviews_is_not_judged_rather_than_a_crash():
    for damaged in ([{"sequences": [[1]]}], "cases", [3]):
        assert exercises.judge_encoding_outputs(damaged, [])["verdict"] == "not judged"


def test_a_multi_hot_right_on_some_hidden_cases_earns_that_share_where_partial():
    drawn = cases()
    records = kernel_record(naive_multi_hot, drawn)
    records[0] = {"result": counts(drawn[0]["sequences"], drawn[0]["num_words"]).tolist()}
    found = exercises.judge_encoding_outputs(drawn, records)  # every case has a repeated word: counts differ
    assert found["verdict"] == "incorrect" and found["fraction"] == pytest.approx(2 / 3)
    assert Rubric(partial=frozenset({"encoding"})).award(found)["points"] == pytest.approx(0.67)
    assert Rubric().award(found)["points"] == 0


def test_the_accuracy_verdict_and_its_share_above_chance():
    assert exercises.judge_accuracy(0.9, 0.85)["verdict"] == "correct"
    below = exercises.judge_accuracy(0.75, 0.85)
    assert below["verdict"] == "incorrect" and below["fraction"] == pytest.approx(0.25 / 0.35)
    assert "0.7500, below the target of 0.85" in below["message"]
    assert exercises.judge_accuracy(0.3, 0.85)["fraction"] == 0
    partial = Rubric(partial=frozenset({"accuracy"}))
    assert partial.award(below)["points"] == pytest.approx(6 * 0.25 / 0.35, abs=0.01)
    assert Rubric().award(below) == {**below, "points": 0, "max_points": 6}


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
