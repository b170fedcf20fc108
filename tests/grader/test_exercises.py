"""Tests of imdb_lab.grader.exercises: the grader's verdicts per exercise, hidden inputs, and the rubric."""

import random

import numpy as np
import pytest

from conftest import naive_multi_hot
from imdb_lab.grader import exercises, kernel_probe, records
from imdb_lab.grader.exercises import DEFAULT_POINTS, EXERCISES, Rubric
from imdb_lab.grader.statuses import GRADER_FAILED, VERDICT_WORDS


def cases(seed=1):
    return exercises.draw_encoding_cases(random.Random(seed))


def test_hidden_cases_hold_the_classic_mistakes_and_differ_from_run_to_run():
    drawn = cases()
    assert len(drawn) == exercises.HIDDEN_CASES
    for case in drawn:
        reviews, num_words = case.sequences, case.num_words
        assert () in reviews and (0, num_words - 1) in reviews  # an empty review, the first and last column
        assert any(len(set(review)) < len(review) for review in reviews)  # a repeated word
        assert all(0 <= index < num_words for review in reviews for index in review)
    assert cases(1) == cases(1) and cases(1) != cases(2)


def kernel_record(namespace, drawn, tmp_path):
    """What kernel_probe records of the notebook's ``multi_hot`` on the hidden cases, read as the grader reads it."""
    path = tmp_path / "encoding.json"
    calls = [[[list(review) for review in case.sequences], case.num_words] for case in drawn]
    kernel_probe.call_function(namespace, {"function": "multi_hot", "path": str(path), "calls": calls})
    return records.read_record(path, records.FunctionRecord)


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
def test_the_encoding_verdict_names_the_mistake_as_check_encoding_does(function, word, message, hint, tmp_path):
    drawn = cases()
    found = exercises.judge_encoding_outputs(drawn, kernel_record({"multi_hot": function}, drawn, tmp_path))
    assert found["verdict"] == word and found["exercise"] == "encoding" and found["source"] == "grader"
    assert message in found["message"] and hint in found["hint"]


def test_the_encoding_verdict_without_a_function_or_with_a_value_instead(tmp_path):
    drawn = cases()
    assert exercises.judge_encoding_outputs(drawn, kernel_record({}, drawn, tmp_path))["verdict"] == "not attempted"
    found = exercises.judge_encoding_outputs(drawn, kernel_record({"multi_hot": np.zeros(3)}, drawn, tmp_path))
    assert (found["verdict"], found["message"]) == ("incorrect", "multi_hot should be a function, got ndarray")
    found = exercises.judge_encoding_outputs(drawn, kernel_record({"multi_hot": lambda s, n: np.zeros((5, 10**6))},
                                                                  drawn, tmp_path))
    assert "the result has shape (5, 1000000)" in found["message"]
    found = exercises.judge_encoding_outputs(drawn, kernel_record({"multi_hot": lambda s, n: "rows"}, drawn, tmp_path))
    assert "multi_hot returned a str, not an array" in found["message"]


def test_without_a_record_of_multi_hot_the_encoding_is_not_judged():
    found = exercises.judge_encoding_outputs(cases(), None)
    assert found["verdict"] == "not judged" and "recorded nothing of multi_hot" in found["message"]


def test_an_exercise_the_grader_failed_to_judge_costs_nothing_and_says_so():
    found = exercises.grader_failed("model", "RuntimeError: the scorer broke")
    assert found["verdict"] == GRADER_FAILED in VERDICT_WORDS
    assert "RuntimeError: the scorer broke" in found["message"] and "not a mistake of your notebook" in found["message"]
    assert Rubric().award(found)["points"] == Rubric().award(found)["max_points"] == 0


def test_every_verdict_word_of_the_checks_is_one_the_grader_knows():
    assert set(exercises.VERDICTS.values()) < set(VERDICT_WORDS)


def test_a_multi_hot_right_on_some_hidden_cases_earns_that_share_where_partial(tmp_path):
    drawn = cases()
    first = drawn[0].sequences

    def right_but_on_the_first(sequences, num_words):
        return (counts if sequences == [list(review) for review in first] else naive_multi_hot)(sequences, num_words)

    # every case has a repeated word: counts differ
    found = exercises.judge_encoding_outputs(drawn, kernel_record({"multi_hot": right_but_on_the_first}, drawn,
                                                                  tmp_path))
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
