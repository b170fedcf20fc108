"""Tests of imdb_lab.grader.scorer: the clean process that loads an exported model safely and measures it."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from imdb_lab.data.reviews import FlatReviews
from imdb_lab.errors import RecordError
from imdb_lab.files import sha256_file
from imdb_lab.grader import records, scorer, statuses
from imdb_lab.grader.records import Call, FunctionRecord, ReportedHistory, ScorerRequest, ScorerResult, Settings

ALL_WORDS = 2**31 - 1


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
    for sequence, label in zip(x_test, y_test, strict=True):
        score = sum(weights[i] for i in set(sequence))
        right += int(score > 0) == label
    return right / len(y_test)


@pytest.fixture
def tiny_data(tiny_archive, monkeypatch):
    """Point the data layer at the tiny archive; return its word index."""
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    from imdb_lab import get_word_index

    return get_word_index()


@pytest.fixture
def test_reviews(tiny_data):
    """The tiny archive's test reviews with every word, as the grader keeps them."""
    from imdb_lab import load_flat

    return load_flat(num_words=ALL_WORDS)[1]


@pytest.fixture
def exported(tmp_path, test_reviews):
    """Write the grader's test file; return a function that exports a model with settings and scores it."""
    test_path = tmp_path / "test.npz"
    sha256 = scorer.write_test_data(test_reviews, test_path)

    def export_and_score(model, settings):
        model.save(tmp_path / "model.keras")
        records.write_record(tmp_path / "settings.json", settings)
        return scorer.evaluate_export(tmp_path / "model.keras", tmp_path / "settings.json", test_path, sha256)

    return export_and_score


def test_score_matches_a_naive_loop_with_the_notebooks_num_words_and_skip_top(tiny_data, test_reviews):
    model, weights = signal_model(60, tiny_data, ["great", "loved", "the"], ["awful", "dull"])
    assert scorer.exported_accuracy(model, test_reviews) == pytest.approx(reference_accuracy(weights, 60))
    # "the" is the most frequent word (index 4): skip_top=5 turns it into the OOV mark, num_words=30 more words
    skipped = scorer.exported_accuracy(model, test_reviews, num_words=30, skip_top=5)
    assert skipped == pytest.approx(reference_accuracy(weights, 30, skip_top=5))


@pytest.mark.parametrize("num_words, skip_top, message", [
    (100, 0, "num_words=100 does not fit the model's 60 inputs"),
    (60, 60, "skip_top=60 must be smaller than num_words=60"),
])
def test_exported_accuracy_refuses_settings_that_do_not_fit_the_model(tiny_data, test_reviews, num_words, skip_top,
                                                                      message):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    with pytest.raises(ValueError, match=message):
        scorer.exported_accuracy(model, test_reviews, num_words=num_words, skip_top=skip_top)


def test_test_data_round_trips_and_any_change_is_refused(tmp_path):
    reviews = FlatReviews(np.array([4, 5, 6, 7], np.int32), np.array([0, 1, 4]), np.array([0, 1]))
    path = tmp_path / "test.npz"
    sha256 = scorer.write_test_data(reviews, path)
    back = scorer.read_test_data(path, sha256)
    assert [list(review) for review in back.sequences()] == [[4], [5, 6, 7]]
    assert list(back.labels) == [0, 1]
    content = bytearray(path.read_bytes())
    content[-30] ^= 1
    path.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="is not the file the grader wrote"):
        scorer.read_test_data(path, sha256)


@pytest.mark.parametrize("settings, expected", [
    ({"num_words": 100, "skip_top": 3}, (100, 3)),
    ({"num_words": None, "skip_top": None}, (None, 0)),
    # what the export never writes: a notebook wrote it
    ({"num_words": "100", "skip_top": True}, None),
    ({"num_words": 100}, None),
    ([1, 2], None),
])
def test_read_settings_takes_only_what_the_export_writes(tmp_path, settings, expected):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    if expected is None:
        with pytest.raises(RecordError):
            scorer.read_settings(path)
    else:
        assert scorer.read_settings(path) == expected


def test_evaluate_export_scores_a_plain_model(tiny_data, exported):
    model, weights = signal_model(60, tiny_data, ["great", "loved"], ["awful", "dull"])
    result = exported(model, Settings(60, 0))
    assert result == ScorerResult(statuses.SCORED, pytest.approx(reference_accuracy(weights, 60)))


def test_evaluate_export_refuses_a_subclass_that_overrides_predict(tiny_data, exported):
    import keras

    class Oracle(keras.Sequential):
        def predict(self, x, *args, **kwargs):
            return np.ones((len(x), 1))

    model = Oracle([keras.Input((60,)), keras.layers.Dense(1, activation="sigmoid")])
    result = exported(model, Settings(60))
    assert result.status.startswith(f"{statuses.NOT_LOADABLE}: TypeError: Could not locate class 'Oracle'")
    assert result.accuracy is None


def test_evaluate_export_refuses_a_lambda_layer(tiny_data, exported):
    import keras

    model = keras.Sequential([keras.Input((60,)), keras.layers.Lambda(lambda x: x * 0 + 1.0),
                              keras.layers.Dense(1, activation="sigmoid")])
    result = exported(model, Settings(60))
    assert result.status.startswith(f"{statuses.NOT_LOADABLE}: ValueError: Requested the deserialization of a "
                                       "`Lambda` layer")


def test_evaluate_export_names_a_model_it_cannot_feed(tiny_data, exported):
    import keras

    sequence_model = keras.Sequential([keras.Input((20, 8)), keras.layers.Flatten(), keras.layers.Dense(1)])
    result = exported(sequence_model, Settings())
    assert result.status.startswith(f"{statuses.NOT_SCORABLE}: ValueError: the model's input shape is")


def bomb(path, members, size):
    """Write a zip archive of ``members`` files of ``size`` zero bytes each, deflated (a few KB on disk)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index in range(members):
            with archive.open(f"zeros{index}.bin", "w") as member:
                member.write(bytes(size))


@pytest.mark.parametrize("make, message", [
    (lambda path: bomb(path, 3, 700_000), "the model archive unpacks to 2 MiB, more than the 1 MiB"),
    (lambda path: bomb(path, 11, 10), "the model archive holds 11 files, more than the 10 a Keras model has"),
    (lambda path: path.write_bytes(b"not a zip"), "the model file is not a Keras archive"),
    (lambda path: zipfile.ZipFile(path, "w").writestr("../../outside.h5", b"x"),
     "the model archive has a file outside its folder"),
])
def test_a_model_archive_keras_should_not_unpack_is_refused_before_keras_opens_it(tiny_data, exported, tmp_path,
                                                                                  monkeypatch, make, message):
    monkeypatch.setattr(scorer, "MAX_MODEL_BYTES", 2**20)
    monkeypatch.setattr(scorer, "MAX_ARCHIVE_MEMBERS", 10)
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    exported(model, Settings(60))  # the settings and test files; the model file is replaced below
    make(tmp_path / "model.keras")
    result = scorer.evaluate_export(tmp_path / "model.keras", tmp_path / "settings.json", tmp_path / "test.npz",
                                     sha256_file(tmp_path / "test.npz"))
    assert result.status.startswith(f"{statuses.NOT_LOADABLE}: ValueError: {message}"), result.status


def test_an_honest_model_archive_passes_the_check(tiny_data, tmp_path):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    model.save(tmp_path / "model.keras")
    scorer.check_model_archive(tmp_path / "model.keras")


def test_evaluate_export_reports_altered_test_data(tiny_data, exported, tmp_path):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    model.save(tmp_path / "model.keras")
    records.write_record(tmp_path / "settings.json", Settings())
    result = scorer.evaluate_export(tmp_path / "model.keras", tmp_path / "settings.json", tmp_path / "test.npz",
                                     "0" * 64)
    assert result.status.startswith(f"{statuses.TAMPERED}: ")


def test_main_prints_one_json_line(tiny_data, exported, test_reviews, tmp_path, capsys):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    expected = exported(model, Settings(60))
    sha256 = scorer.write_test_data(test_reviews, tmp_path / "again.npz")
    request = ScorerRequest(str(tmp_path / "model.keras"), str(tmp_path / "settings.json"),
                            str(tmp_path / "again.npz"), sha256, 0.85)
    records.write_record(tmp_path / "request.json", request)
    code = scorer.main([str(tmp_path / "request.json")])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 0
    assert line.startswith("IMDB_LAB_SCORE ")
    assert ScorerResult.from_json(json.loads(line[len("IMDB_LAB_SCORE "):])) == expected


@pytest.mark.parametrize("argv", [[], ["a", "b"], ["a", "b", "c", "d"], ["--self-check", "a"]])
def test_main_with_wrong_arguments_says_how_to_call_it(capsys, argv):
    assert scorer.main(argv) == 2
    assert "usage: python -m imdb_lab.grader.scorer REQUEST.json" in capsys.readouterr().err


@pytest.fixture
def words_file(tiny_archive, tmp_path):
    """The grader's prepared data file of the tiny archive: where the scorer reads the word index from."""
    from imdb_lab.data import archive, cache

    path = tmp_path / "words.npz"
    cache.save(path, archive.encode_dataset(*archive.find_dataset(tiny_archive)), {"prepared": "for a test"})
    return path


def lab_model(num_words, *, dropout=True, loss="binary_crossentropy", activation="sigmoid"):
    import keras

    layers = [keras.Input((num_words,)), keras.layers.Dense(8, activation="relu")]
    layers += [keras.layers.Dropout(0.5)] if dropout else []
    model = keras.Sequential([*layers, keras.layers.Dense(1, activation=activation)])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def trained(model, num_words, steps=3):
    x = np.zeros((8 * steps, num_words), dtype="float32")
    x[::2, 4] = 1
    model.fit(x, np.arange(len(x)) % 2 == 0, batch_size=8, epochs=1, verbose=0)
    return model


HISTORY = {"history": {"loss": [0.6, 0.5, 0.45], "accuracy": [0.7, 0.8, 0.85], "val_loss": [0.55, 0.5, 0.52],
                       "val_accuracy": [0.86, 0.88, 0.87]}, "params": {"epochs": 20, "steps": 40}}


def judged(model, tmp_path, words_file, tiny_data, history=HISTORY, predicted=None, num_words=50, accuracy=None):
    """Export ``model`` and judge it as the scorer does; ``predicted``: the kernel's record of what
    predict_sentiment gave (a function of the model's own probabilities)."""
    from imdb_lab.check.prediction_check import probe_texts
    from imdb_lab.data.text import encode_review
    from imdb_lab.features.multi_hot import multi_hot_encode
    from imdb_lab.models.outputs import positive_probability

    model.save(tmp_path / "model.keras")
    texts = probe_texts(tiny_data, num_words, seed=3)
    own = positive_probability(model, model.predict(multi_hot_encode(
        [encode_review(text, tiny_data, num_words=num_words) for text in texts], num_words), verbose=0))
    call = Call.from_json(predicted(own) if predicted else {"result": own.tolist()})
    evidence = {"training": (None, history and ReportedHistory.from_json(history)),
                "prediction": (texts, FunctionRecord("predict_sentiment", None, (call,)))}
    request = ScorerRequest(str(tmp_path / "model.keras"), "", "", "", 0.85, str(words_file), evidence)
    request = ScorerRequest.from_json(json.loads(json.dumps(request.to_json())))  # as the scorer reads it
    return scorer.judge_exercises(request, num_words, accuracy=accuracy)


def test_the_scorer_judges_a_right_model_training_and_prediction(tmp_path, words_file, tiny_data):
    verdicts = judged(trained(lab_model(50), 50), tmp_path, words_file, tiny_data)
    assert {name: v["verdict"] for name, v in verdicts.items()} == {
        "model": "correct", "training": "correct", "prediction": "correct"}
    assert verdicts["training"]["source"] == "kernel" and verdicts["model"]["source"] == "grader"


@pytest.mark.parametrize("make, history, predicted, exercise, hint", [
    (lambda: trained(lab_model(50, dropout=False), 50), HISTORY, None, "model", "add Dropout after a hidden layer"),
    (lambda: trained(lab_model(50, loss="binary_crossentropy", activation="linear"), 50), HISTORY, None, "model",
     "from_logits=True"),
    (lambda: lab_model(50), HISTORY, None, "training", "run the training cell (model.fit) after building the model"),
    (lambda: trained(lab_model(50), 50), {"history": {"loss": [0.5]}, "params": {}}, None, "training",
     "validation_split=0.2"),
    (lambda: trained(lab_model(50), 50), None, None, "training", ""),
    (lambda: trained(lab_model(50), 50), HISTORY, lambda own: {"result": (own > 0.5).astype(float).tolist()},
     "prediction", "not 0/1 classes"),
    (lambda: trained(lab_model(50), 50), HISTORY, lambda own: {"result": (1 - own).tolist()}, "prediction",
     "probability of NEGATIVE"),
    (lambda: trained(lab_model(50), 50), HISTORY, lambda own: {"raised": "IndexError: index 60 is out of bounds"},
     "prediction", "encode with encode_review(text, word_index, num_words=num_words)"),
    # a result too large to record, as its shape: judged without allocating 10**10 numbers
    (lambda: trained(lab_model(50), 50), HISTORY, lambda own: {"shape": [100000, 100000]}, "prediction",
     "return one probability per text"),
    # a shape no array can have, as a notebook could forge it: wrong, not a grader that fails (which costs nothing)
    (lambda: trained(lab_model(50), 50), HISTORY, lambda own: {"shape": [2**31 - 1] * 3}, "prediction",
     "return one probability per text"),
])
def test_each_mistake_costs_its_own_exercise_with_the_checks_hint(tmp_path, words_file, tiny_data, make, history,
                                                                 predicted, exercise, hint):
    verdicts = judged(make(), tmp_path, words_file, tiny_data, history=history, predicted=predicted)
    wrong = {name for name, v in verdicts.items() if v["verdict"] != "correct"}
    if exercise == "model" and "from_logits" in hint:
        wrong.discard("prediction")  # a linear output is read as a logit: the prediction may still match
    assert wrong == {exercise}, verdicts
    assert hint in verdicts[exercise]["hint"]


def test_when_judging_the_exercises_fails_the_accuracy_stands_and_the_result_says_why(tiny_data, exported,
                                                                                    tmp_path, monkeypatch):
    model, _ = signal_model(60, tiny_data, ["great"], ["awful"])
    measured = exported(model, Settings(60))

    def broken(request, num_words, accuracy=None):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(scorer, "judge_exercises", broken)
    request = ScorerRequest(str(tmp_path / "model.keras"), str(tmp_path / "settings.json"),
                            str(tmp_path / "test.npz"), scorer.hashlib.sha256((tmp_path / "test.npz").read_bytes())
                            .hexdigest(), 0.85, words_path="words.npz")
    result = scorer.score(request)
    assert (result.status, result.accuracy) == (measured.status, measured.accuracy)
    assert result.verdicts == {} and result.error == "RuntimeError: a bug in the grader"
    assert ScorerResult.from_json(json.loads(json.dumps(result.to_json()))) == result  # as the grader reads it


def test_a_judge_that_raises_fails_its_own_exercise_only(tmp_path, words_file, tiny_data, monkeypatch):
    def broken(evidence):
        raise RuntimeError("a bug in the training judge")

    registry = tuple(dataclasses.replace(graded, judge=broken) if graded.name == "training" else graded
                     for graded in scorer.REGISTRY)
    monkeypatch.setattr(scorer, "REGISTRY", registry)
    verdicts = judged(trained(lab_model(50), 50), tmp_path, words_file, tiny_data)
    assert {name: v["verdict"] for name, v in verdicts.items()} == {
        "model": "correct", "training": "grader failed", "prediction": "correct"}
    assert "RuntimeError: a bug in the training judge" in verdicts["training"]["message"]


def test_the_training_point_rests_on_what_the_grader_measured_not_on_a_counter_or_a_made_up_history(
        tmp_path, words_file, tiny_data):
    # an untrained model whose optimizer's counter was set by hand, with a history written to look right
    forged = lab_model(50)
    forged.optimizer.build(forged.trainable_variables)
    forged.optimizer.iterations.assign(900)
    found = judged(forged, tmp_path, words_file, tiny_data, accuracy=0.5)["training"]
    assert found["verdict"] == "incorrect" and "0.5000, near chance" in found["message"]
    # a trained model, with a history of a better one: the history is not this model's
    made_up = {"history": {"loss": [0.3, 0.2], "accuracy": [0.95, 0.99], "val_loss": [0.2, 0.1],
                           "val_accuracy": [0.97, 0.99]}, "params": {"epochs": 20, "steps": 40}}
    found = judged(trained(lab_model(50), 50), tmp_path, words_file, tiny_data, history=made_up,
                   accuracy=0.75)["training"]
    assert found["verdict"] == "incorrect" and "the history is not this model's training" in found["message"]
    # the same model with its own history: right
    assert judged(trained(lab_model(50), 50), tmp_path, words_file, tiny_data, accuracy=0.88)["training"][
        "verdict"] == "correct"
