"""Tests of each exercise's grader half (check.graded, ``GRADED`` in each exercise module): what its probe draws and
runs in a kernel, and how its judge reads what came back. The student's functions run through the real
kernel_probe and are read back as the grader reads them (imdb_lab.grader.records); the judges in the scorer with a
real model are in tests/grader/test_scorer.py."""

import json
import random

import numpy as np
import pytest

from conftest import naive_multi_hot
from imdb_lab import check
from imdb_lab.check import accuracy_check, encoding_check, history_check, model_check, prediction_check
from imdb_lab.check.graded import Evidence
from imdb_lab.errors import RecordError
from imdb_lab.grader import exercises, kernel_probe, records
from imdb_lab.grader.exercises import Rubric, verdict


def cases(seed=1):
    return encoding_check.draw_hidden_cases(random.Random(seed))


def kernel_record(namespace, graded, inputs, tmp_path):
    """What kernel_probe records of the notebook's function for ``graded`` on ``inputs``, read as the grader
    reads it."""
    path = tmp_path / f"{graded.name}.json"
    kernel_probe.call_function(namespace, {"function": graded.probe.function, "path": str(path),
                                           "calls": graded.probe.arguments(inputs)})
    return records.read_record(path, records.kernel_record_type(graded.name))


def judged_encoding(function, tmp_path, drawn=None):
    """The encoding verdict dict of a notebook whose ``multi_hot`` is ``function`` (absent: None)."""
    drawn = cases() if drawn is None else drawn
    namespace = {} if function is None else {"multi_hot": function}
    record = kernel_record(namespace, encoding_check.GRADED, drawn, tmp_path)
    return verdict("encoding", encoding_check.GRADED.judge(Evidence("passed", drawn, record)))


def test_hidden_cases_hold_the_classic_mistakes_and_differ_from_run_to_run():
    drawn = cases()
    assert len(drawn) == encoding_check.HIDDEN_CASES
    for case in drawn:
        reviews, num_words = case["sequences"], case["num_words"]
        assert [] in reviews and [0, num_words - 1] in reviews  # an empty review, the first and last column
        assert any(len(set(review)) < len(review) for review in reviews)  # a repeated word
        assert all(0 <= index < num_words for review in reviews for index in review)
    assert cases(1) == cases(1) and cases(1) != cases(2)
    # what the runner reports is read back the same, and what it cannot have drawn is refused
    assert encoding_check.read_hidden_cases(json.loads(json.dumps(drawn))) == drawn
    wrong_index = [{**drawn[0], "sequences": [[drawn[0]["num_words"]]]}]
    for damaged in ([{"sequences": [[1]]}], "cases", [3], wrong_index):
        with pytest.raises(RecordError):
            encoding_check.read_hidden_cases(damaged)


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
    (None, "not attempted", "there is no function multi_hot", ""),
    (np.zeros(3), "incorrect", "multi_hot should be a function, got ndarray", "def multi_hot(sequences, num_words)"),
    (lambda s, n: np.zeros((5, 10**6)), "incorrect", "the result has shape (5, 1000000)", "one row per review"),
    (lambda s, n: "rows", "incorrect", "multi_hot returned a str, not an array", "a NumPy array"),
])
def test_the_encoding_verdict_names_the_mistake_as_check_encoding_does(function, word, message, hint, tmp_path):
    found = judged_encoding(function, tmp_path)
    assert found["verdict"] == word and found["exercise"] == "encoding" and found["source"] == "grader"
    assert message in found["message"] and hint in found["hint"]


def test_without_a_record_of_multi_hot_the_encoding_is_not_judged():
    judge = encoding_check.GRADED.judge
    found = judge(Evidence("passed", cases(), None))
    assert found.status == check.core.NOT_JUDGED and "recorded nothing of multi_hot" in found.message
    assert judge(Evidence("error in cell 2: ValueError: x")) is None  # nothing drawn: the row's status says why


def test_a_multi_hot_right_on_some_hidden_cases_earns_that_share_where_partial(tmp_path):
    drawn = cases()
    first = drawn[0]["sequences"]

    def right_but_on_the_first(sequences, num_words):
        return (counts if sequences == first else naive_multi_hot)(sequences, num_words)

    found = judged_encoding(right_but_on_the_first, tmp_path, drawn)  # every case has a repeated word
    assert found["verdict"] == "incorrect" and found["fraction"] == pytest.approx(2 / 3)
    assert Rubric(partial=frozenset({"encoding"})).award(found)["points"] == pytest.approx(0.67)
    assert Rubric().award(found)["points"] == 0


def test_the_accuracy_verdict_and_its_share_above_chance():
    def judged(accuracy):
        found = accuracy_check.GRADED.judge(Evidence("passed", accuracy=accuracy, target=0.85))
        return None if found is None else verdict("accuracy", found)

    assert judged(0.9)["verdict"] == "correct"
    below = judged(0.75)
    assert below["verdict"] == "incorrect" and below["fraction"] == pytest.approx(0.25 / 0.35)
    assert "0.7500, below the target of 0.85" in below["message"]
    assert judged(0.3)["fraction"] == 0
    assert judged(None) is None  # not scored: nothing to judge
    partial = Rubric(partial=frozenset({"accuracy"}))
    assert partial.award(below)["points"] == pytest.approx(6 * 0.25 / 0.35, abs=0.01)
    assert Rubric().award(below) == {**below, "points": 0, "max_points": 6}


@pytest.mark.parametrize("graded", [model_check.GRADED, history_check.GRADED])
def test_without_a_keras_model_the_model_and_training_are_not_attempted(graded):
    found = graded.judge(Evidence("no model"))
    assert found.status == check.NOT_ATTEMPTED and found.message == "there is no Keras model to judge (no model)"
    problem = graded.judge(Evidence("scored", model=object(), model_problem="TypeError: unknown optimizer"))
    assert problem.status == check.INCORRECT and "compile settings cannot be loaded safely" in problem.message


def test_predictions_are_drawn_for_a_usable_num_words_only_and_read_back_checked(tiny_archive, monkeypatch):
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    from imdb_lab import get_word_index

    draw = prediction_check.GRADED.probe.draw
    texts = draw(random.Random(0), 60, get_word_index)
    assert prediction_check.UNKNOWN_WORD in texts[-1] and prediction_check.PROBE_TEXTS[0] in texts
    assert prediction_check.read_texts(texts) == texts
    assert draw(random.Random(0), None, get_word_index) is None and draw(random.Random(0), 3, get_word_index) is None
    with pytest.raises(RecordError):
        prediction_check.read_texts(["a text", 7])
    assert prediction_check.GRADED.judge(Evidence("no model")) is None  # the row's status says why


def test_the_registry_is_the_checks_exercises_in_a_rows_order_each_graded_in_one_shape():
    assert exercises.REGISTRY == tuple(exercise.graded for exercise in check.EXERCISES)
    assert exercises.EXERCISES == ("encoding", "model", "training", "accuracy", "prediction")
    assert records.SCORER_EXERCISES == ("model", "training", "prediction")
    for graded in exercises.REGISTRY:
        assert graded.title and graded.points > 0 and callable(graded.judge)
        if graded.probe is not None and graded.probe.function is not None:
            assert callable(graded.probe.arguments) and (graded.probe.draw is None) == (graded.probe.read is None)
