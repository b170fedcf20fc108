"""Tests of imdb_lab.grading: the evaluation that runs in a student's kernel, and the grade table."""

import json

import numpy as np
import pytest

from imdb_lab import grading


def naive_accuracy(outputs, labels):
    """Reference: one review at a time, as the grading rules describe it."""
    right = 0
    for row, label in zip(outputs, labels):
        row = list(np.ravel(row))
        if len(row) == 2:
            predicted = 1 if row[1] > row[0] else 0
        else:
            predicted = 1 if row[0] > 0.5 else 0
        right += predicted == label
    return right / len(labels)


def test_accuracy_from_sigmoid_and_softmax_outputs_matches_a_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=50)
    sigmoid = rng.random((50, 1))
    softmax = rng.random((50, 2))
    softmax /= softmax.sum(axis=1, keepdims=True)
    assert grading.accuracy_from_predictions(sigmoid, labels) == pytest.approx(naive_accuracy(sigmoid, labels))
    assert grading.accuracy_from_predictions(softmax, labels) == pytest.approx(naive_accuracy(softmax, labels))


def test_accuracy_from_logits_uses_zero_as_the_threshold():
    labels = np.array([1, 0, 1, 0])
    logits = np.array([[2.5], [-0.2], [0.3], [-3.0]])  # 0.3 is positive as a logit
    assert grading.accuracy_from_predictions(logits, labels) == 1.0
    # the same numbers read as probabilities would call 0.3 negative
    assert grading.accuracy_from_predictions(np.array([[0.9], [0.2], [0.3], [0.1]]), labels) == 0.75


def test_accuracy_rejects_three_outputs():
    with pytest.raises(ValueError, match="3 outputs"):
        grading.accuracy_from_predictions(np.zeros((4, 3)), np.zeros(4))


def signal_model(num_words, word_index, positive, negative, index_from=3):
    """A Dense(1, sigmoid) model: +1 for each ``positive`` word, -1 for each ``negative`` word."""
    import keras

    weights = np.zeros((num_words, 1), dtype="float32")
    for word in positive:
        weights[word_index[word] + index_from] = 1.0
    for word in negative:
        weights[word_index[word] + index_from] = -1.0
    model = keras.Sequential([keras.Input((num_words,)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([weights, np.zeros(1, dtype="float32")])
    return model, weights[:, 0]


def reference_accuracy(weights, num_words, skip_top=0):
    """Loop over load_data's test reviews: a review is positive when its distinct words' weights sum above 0."""
    from imdb_lab import load_data

    _, (x_test, y_test) = load_data(num_words=num_words, skip_top=skip_top)
    right = 0
    for sequence, label in zip(x_test, y_test):
        score = sum(weights[i] for i in set(sequence))
        right += int(score > 0) == label
    return right / len(y_test)


@pytest.fixture
def tiny_data(tiny_archive, monkeypatch):
    """Point the data layer at the tiny archive, as the grader's kernel inherits IMDB_LAB_DATA."""
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    from imdb_lab import get_word_index

    return get_word_index()


def test_evaluate_model_matches_a_naive_loop_on_the_test_split(tiny_data):
    model, weights = signal_model(60, tiny_data, ["great", "loved"], ["awful", "dull"])
    accuracy = grading.evaluate_model(model)
    assert accuracy == pytest.approx(reference_accuracy(weights, 60))
    assert 0 < accuracy < 1


def test_evaluate_namespace_uses_the_notebooks_num_words_and_skip_top(tiny_data, tmp_path):
    model, weights = signal_model(60, tiny_data, ["great", "loved", "the"], ["awful", "dull"])
    # "the" is the most frequent word (index 4): skip_top=5 turns it into the OOV mark
    result_path = tmp_path / "result.json"
    grading.evaluate_namespace({"model": model, "num_words": 60, "skip_top": 5}, result_path)
    result = json.loads(result_path.read_text())
    assert result["status"] == "evaluated"
    assert result["accuracy"] == pytest.approx(reference_accuracy(weights, 60, skip_top=5))
    assert result["accuracy"] != pytest.approx(reference_accuracy(weights, 60))


def test_evaluate_namespace_ignores_a_num_words_that_is_not_an_int(tiny_data, tmp_path):
    model, weights = signal_model(60, tiny_data, ["great"], ["awful"])
    result_path = tmp_path / "result.json"
    grading.evaluate_namespace({"model": model, "num_words": "many", "skip_top": True}, result_path)
    assert json.loads(result_path.read_text())["accuracy"] == pytest.approx(reference_accuracy(weights, 60))


def test_evaluate_namespace_reports_missing_and_foreign_models(tmp_path):
    result_path = tmp_path / "result.json"
    grading.evaluate_namespace({"num_words": 100}, result_path)
    assert json.loads(result_path.read_text()) == {"status": "no model", "accuracy": None}
    grading.evaluate_namespace({"model": {"weights": [1, 2]}}, result_path)
    assert json.loads(result_path.read_text()) == {"status": "not a Keras model", "accuracy": None}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary file left


def test_evaluate_namespace_reports_a_model_it_cannot_feed(tiny_data, tmp_path):
    import keras

    sequence_model = keras.Sequential([keras.Input((20, 8)), keras.layers.Flatten(), keras.layers.Dense(1)])
    result_path = tmp_path / "result.json"
    grading.evaluate_namespace({"model": sequence_model}, result_path)
    result = json.loads(result_path.read_text())
    assert result["status"].startswith("evaluation failed: ValueError: the model's input shape is")
    assert result["accuracy"] is None


def test_evaluate_model_rejects_num_words_above_the_model_input(tiny_data):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    with pytest.raises(ValueError, match="num_words=100 is larger than the model's 60 inputs"):
        grading.evaluate_model(model, num_words=100)


def test_format_table_has_one_row_per_notebook_and_a_summary():
    results = [
        grading.GradeResult("a.ipynb", "passed", 0.9123456, 12.34),
        grading.GradeResult("b.ipynb", "no model", None, 1.0),
    ]
    lines = grading.format_table(results).splitlines()
    assert lines[0].split() == ["notebook", "status", "accuracy", "seconds"]
    assert lines[1].split() == ["a.ipynb", "passed", "0.9123", "12.3"]
    assert lines[2].split() == ["b.ipynb", "no", "model", "-", "1.0"]
    assert lines[3] == "1 of 2 passed"
    assert results[0].as_dict() == {"notebook": "a.ipynb", "status": "passed", "accuracy": 0.9123456,
                                    "seconds": 12.34}


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), "10", True])
def test_grade_notebook_rejects_a_bad_timeout(timeout, tmp_path):
    with pytest.raises(ValueError, match="timeout"):
        grading.grade_notebook(tmp_path / "x.ipynb", timeout=timeout)


def test_grade_notebook_gives_a_row_for_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grading.grade_notebook(path, timeout=10)
    assert result.status.startswith("not a notebook: ")
    assert result.accuracy is None and not result.passed


def test_write_json_atomically_replaces_the_file(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text("old")
    grading.write_json_atomically([{"a": 1}], path)
    assert json.loads(path.read_text()) == [{"a": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]
