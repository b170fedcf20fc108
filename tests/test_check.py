"""Answer checks: each one with right answers, wrong ones, and untouched TODOs."""

from types import SimpleNamespace

import numpy as np
import pytest

from imdb_lab import check
from imdb_lab.check import CORRECT, HINT, INCORRECT, NOT_ATTEMPTED

NUM_WORDS = 20


def verdict_of(source, namespace, capsys):
    """Run ``source`` (a notebook's check line) in ``namespace``; return what it printed."""
    exec(source, {"check": check, **namespace})
    return capsys.readouterr().out


# ---------------------------------------------------------------- encoding

def loop_multi_hot(sequences, num_words):
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for i, sequence in enumerate(sequences):
        out[i, sequence] = 1
    return out


def vectorized_multi_hot(sequences, num_words):
    rows = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    out = np.zeros((len(sequences), num_words))
    out[rows, np.concatenate([np.asarray(s, dtype=int) for s in sequences] + [np.zeros(0, int)])] = 1
    return out


def as_lists(sequences, num_words):
    return loop_multi_hot(sequences, num_words).astype(int).tolist()


def counts(sequences, num_words):
    out = np.zeros((len(sequences), num_words))
    for i, sequence in enumerate(sequences):
        np.add.at(out[i], sequence, 1)
    return out


def one_based(sequences, num_words):
    out = np.zeros((len(sequences), num_words))
    for i, sequence in enumerate(sequences):
        out[i, [w - 1 for w in sequence if w > 0]] = 1
    return out


def transposed(sequences, num_words):
    return loop_multi_hot(sequences, num_words).T


def memorized_example(sequences, num_words):
    """Hard-codes the lab's example: must not pass."""
    return np.array([[0, 1, 0, 0, 1, 0, 0, 0, 1, 0]], dtype="float32")


def crashes_on_empty_reviews(sequences, num_words):
    out = np.zeros((len(sequences), num_words))
    for i, sequence in enumerate(sequences):
        out[i, np.max(sequence)] = 1
        out[i, sequence] = 1
    return out


def stub(sequences, num_words):
    raise NotImplementedError("TODO: make zeros ...")


@pytest.mark.parametrize("function", [loop_multi_hot, vectorized_multi_hot, as_lists])
def test_encoding_accepts_right_answers(function):
    assert check.check_encoding(function).status == CORRECT


def test_encoding_accepts_the_package_encoder():
    from imdb_lab.encoding import multi_hot_encode

    assert check.check_encoding(multi_hot_encode).status == CORRECT


@pytest.mark.parametrize("function, words", [
    (counts, "still gives a 1, not its count"),
    (one_based, "0-based"),
    (transposed, "shape (len(sequences), num_words)"),
    (memorized_example, "expected (1, 8)"),
    (crashes_on_empty_reviews, "raised ValueError"),
])
def test_encoding_rejects_wrong_answers_with_a_hint(function, words):
    verdict = check.check_encoding(function)
    assert verdict.status == INCORRECT
    assert words in str(verdict)


def test_encoding_rejects_a_result_instead_of_a_function():
    verdict = check.check_encoding(np.zeros((1, 10)))
    assert verdict.status == INCORRECT and "not its result" in verdict.hint


def test_encoding_prints_its_verdict_from_the_notebook_variables(capsys):
    out = verdict_of("check.encoding()", {"multi_hot": loop_multi_hot}, capsys)
    assert out.startswith(CORRECT) and INCORRECT not in out
    out = verdict_of("check.encoding()", {"multi_hot": counts}, capsys)
    assert out.startswith(INCORRECT) and f"\n{HINT} " in out
    for namespace in ({}, {"multi_hot": None}, {"multi_hot": stub}):
        assert verdict_of("check.encoding()", namespace, capsys).startswith(NOT_ATTEMPTED)
    # an explicit argument wins over the notebook's variable
    assert verdict_of("check.encoding(loop_multi_hot)", {"multi_hot": counts, "loop_multi_hot": loop_multi_hot},
                      capsys).startswith(CORRECT)


# ---------------------------------------------------------------- model

def dense_model(num_words=NUM_WORDS, *, dropout=0.5, l2=1e-4, output=(1, "sigmoid"), compile=True,
                loss="binary_crossentropy", metrics=("accuracy",)):
    import keras

    regularizer = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.Input((num_words,)), keras.layers.Dense(4, activation="relu", kernel_regularizer=regularizer)]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(output[0], activation=output[1]))
    model = keras.Sequential(layers)
    if compile:
        model.compile(optimizer="rmsprop", loss=loss, metrics=list(metrics))
    return model


def test_model_accepts_the_reference_model_and_other_right_answers():
    import keras

    from imdb_lab.model import build_model

    assert check.check_model(build_model(NUM_WORDS, l2=1e-4), NUM_WORDS).status == CORRECT
    assert check.check_model(dense_model(), NUM_WORDS).status == CORRECT
    right_loss = dense_model(loss=keras.losses.BinaryCrossentropy(), metrics=(keras.metrics.BinaryAccuracy(),))
    assert check.check_model(right_loss, NUM_WORDS).status == CORRECT


@pytest.mark.parametrize("kwargs, num_words, words", [
    ({}, 30, "input shape is (None, 20), expected (None, 30)"),
    ({"output": (2, "softmax")}, NUM_WORDS, "expected (None, 1) with a sigmoid"),
    ({"output": (1, None)}, NUM_WORDS, "with activation linear"),
    ({"dropout": 0}, NUM_WORDS, "no Dropout layer"),
    ({"l2": None}, NUM_WORDS, "no layer has a weight penalty"),
    ({"compile": False}, NUM_WORDS, "not compiled"),
    ({"loss": "mse"}, NUM_WORDS, "not binary cross-entropy"),
    ({"metrics": ()}, NUM_WORDS, "reports no accuracy"),
])
def test_model_rejects_wrong_models(kwargs, num_words, words):
    verdict = check.check_model(dense_model(**kwargs), num_words)
    assert verdict.status == INCORRECT
    assert words in verdict.message and verdict.hint


def test_model_rejects_logits_loss_on_a_sigmoid_output():
    import keras

    verdict = check.check_model(dense_model(loss=keras.losses.BinaryCrossentropy(from_logits=True)), NUM_WORDS)
    assert verdict.status == INCORRECT and "not binary cross-entropy on probabilities" in verdict.message


def test_model_says_what_is_already_right():
    verdict = check.check_model(dense_model(dropout=0), NUM_WORDS)
    assert "right so far: an input of 20 multi-hot values, one sigmoid output" in verdict.message


def test_model_not_attempted_and_not_a_model(capsys):
    assert verdict_of("check.model()", {"num_words": NUM_WORDS}, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.model()", {"num_words": NUM_WORDS, "model": None}, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.model()", {"model": dense_model()}, capsys).startswith(NOT_ATTEMPTED)
    out = verdict_of("check.model()", {"num_words": NUM_WORDS, "model": "Sequential"}, capsys)
    assert out.startswith(INCORRECT) and "should be a Keras model" in out
    assert verdict_of("check.model()", {"num_words": NUM_WORDS, "model": dense_model()}, capsys).startswith(CORRECT)


# ---------------------------------------------------------------- history

def fake_history(val_loss=(0.5, 0.4, 0.35, 0.36, 0.38), val_accuracy=(0.80, 0.86, 0.88, 0.87, 0.87), epochs=10):
    n = len(val_loss)
    logs = {"loss": list(np.linspace(0.6, 0.2, n)), "accuracy": [0.9] * n,
            "val_loss": list(val_loss), "val_accuracy": list(val_accuracy)}
    return SimpleNamespace(history=logs, params={"epochs": epochs, "steps": 40})


def reviews(seed, n=200):
    rng = np.random.default_rng(seed)
    return [rng.integers(1, 500, size=rng.integers(5, 40)).tolist() for _ in range(n)]


@pytest.fixture
def splits():
    x_train, x_test = reviews(1), reviews(2)
    return {"x_train": x_train, "x_fit": x_train[:160], "x_val": x_train[160:], "x_test": x_test}


def test_history_accepts_an_honest_run(splits):
    verdict = check.check_history(fake_history(), **splits)
    assert verdict.status == CORRECT and "split off the training reviews" in verdict.message
    assert check.check_history(fake_history().history).status == CORRECT  # the dict alone


def test_history_accepts_flat_reviews(splits):
    from imdb_lab.data import FlatReviews

    flat = {name: FlatReviews.from_sequences(x, np.zeros(len(x))) for name, x in splits.items()}
    assert check.check_history(fake_history(), **flat).status == CORRECT


@pytest.mark.parametrize("change, words", [
    ({"x_val": "x_test"}, "validation reviews are test reviews"),
    ({"x_val": "other"}, "do not come from x_train"),
    ({"x_fit": "x_train"}, "fit on its validation reviews too"),
])
def test_history_rejects_a_dishonest_validation_split(splits, change, words):
    (name, source), = change.items()
    splits[name] = reviews(3) if source == "other" else splits[source]
    verdict = check.check_history(fake_history(), **splits)
    assert verdict.status == INCORRECT and words in verdict.message and verdict.hint


def test_history_rejects_a_run_without_validation_or_early_stopping():
    no_validation = SimpleNamespace(history={"loss": [0.5, 0.4], "accuracy": [0.8, 0.9]}, params={"epochs": 2})
    assert "no validation scores" in check.check_history(no_validation).message
    overfit = fake_history(val_loss=(0.4, 0.3, 0.35, 0.4, 0.45, 0.5), val_accuracy=(0.88,) * 6, epochs=6)
    verdict = check.check_history(overfit)
    assert verdict.status == INCORRECT and "EarlyStopping" in verdict.hint
    # the same curve cut short by early stopping passes
    assert check.check_history(fake_history(val_loss=(0.4, 0.3, 0.35, 0.4), val_accuracy=(0.88,) * 4)).status == CORRECT


def test_history_rejects_a_model_that_learns_little():
    verdict = check.check_history(fake_history(val_accuracy=(0.5, 0.6, 0.7, 0.7, 0.7)))
    assert verdict.status == INCORRECT and "below the target" in verdict.message


def test_history_not_attempted_and_wrong_type(capsys, splits):
    assert verdict_of("check.history()", splits, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.history()", {"history": None}, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.history()", {"history": 0.88}, capsys).startswith(INCORRECT)
    assert verdict_of("check.history()", {"history": fake_history(), **splits}, capsys).startswith(CORRECT)


# ---------------------------------------------------------------- test accuracy

def keyword_model(sign=1.0, start_weight=0.0):
    """A model that says "positive" exactly when word 5 occurs (or the opposite, with sign=-1)."""
    import keras

    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1, activation="sigmoid")])
    weights = np.zeros((NUM_WORDS, 1), dtype="float32")
    weights[5, 0] = 10.0 * sign
    weights[1, 0] = start_weight
    model.layers[-1].set_weights([weights, np.array([-5.0 * sign], dtype="float32")])
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def test_split():
    rng = np.random.default_rng(0)
    x_test = [rng.integers(6, NUM_WORDS, size=8).tolist() + ([5] if i % 2 else []) for i in range(100)]
    return x_test, np.arange(100) % 2


def test_accuracy_accepts_a_true_report(test_split):
    x_test, y_test = test_split
    verdict = check.check_accuracy(keyword_model(), 1.0, x_test, y_test, NUM_WORDS)
    assert verdict.status == CORRECT and "1.0000" in verdict.message


def test_accuracy_rejects_a_false_report_and_a_weak_model(test_split):
    x_test, y_test = test_split
    verdict = check.check_accuracy(keyword_model(), 0.9, x_test, y_test, NUM_WORDS)
    assert verdict.status == INCORRECT and "is 1.0000" in verdict.message
    verdict = check.check_accuracy(keyword_model(sign=-1), 0.0, x_test, y_test, NUM_WORDS)
    assert verdict.status == INCORRECT and "below the target" in verdict.message
    verdict = check.check_accuracy(keyword_model(), [0.3, 1.0], x_test, y_test, NUM_WORDS)
    assert verdict.status == INCORRECT and "should be a number" in verdict.message


def test_accuracy_not_attempted(capsys, test_split):
    x_test, y_test = test_split
    namespace = {"x_test": x_test, "y_test": y_test, "num_words": NUM_WORDS, "model": keyword_model()}
    assert verdict_of("check.accuracy()", namespace, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.accuracy()", {**namespace, "model": None}, capsys).startswith(NOT_ATTEMPTED)
    out = verdict_of("check.accuracy()", {**namespace, "test_accuracy": 1.0}, capsys)
    assert out.startswith(CORRECT)


# ---------------------------------------------------------------- predicting new text

WORD_INDEX = {word: rank for rank, word in enumerate(
    "the a and of film movie i it was great loved awful waste boring plot story acting superb wonderful "
    "two hours time sunday watched".split(), start=1)}


def make_predictor(model, num_words=NUM_WORDS, start_char=1, classes=False):
    from imdb_lab import encode_review, multi_hot_encode

    def predict_sentiment(texts):
        sequences = [encode_review(text, WORD_INDEX, num_words=num_words, start_char=start_char) for text in texts]
        probabilities = model.predict(multi_hot_encode(sequences, NUM_WORDS), verbose=0)
        return np.round(probabilities) if classes else probabilities

    return predict_sentiment


def test_prediction_accepts_the_right_function():
    model = keyword_model(start_weight=0.7)
    assert check.check_prediction(make_predictor(model), model, WORD_INDEX, NUM_WORDS).status == CORRECT


@pytest.mark.parametrize("kwargs, words", [
    ({"classes": True}, "not 0/1 classes"),
    ({"start_char": None}, "encode_review(text, word_index, num_words=num_words)"),
    ({"num_words": None}, "raised ValueError"),
])
def test_prediction_rejects_wrong_functions(kwargs, words):
    model = keyword_model(start_weight=0.7)
    verdict = check.check_prediction(make_predictor(model, **kwargs), model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == INCORRECT and words in str(verdict)


def test_prediction_rejects_one_answer_for_all_texts():
    model = keyword_model()
    verdict = check.check_prediction(lambda texts: 0.5, model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == INCORRECT and "one probability per text" in verdict.hint


def test_prediction_not_attempted(capsys):
    def stub_predict(texts):
        raise NotImplementedError("TODO: encode each text ...")

    namespace = {"word_index": WORD_INDEX, "num_words": NUM_WORDS, "model": keyword_model()}
    assert verdict_of("check.prediction()", namespace, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.prediction()", {**namespace, "predict_sentiment": stub_predict},
                      capsys).startswith(NOT_ATTEMPTED)
    out = verdict_of("check.prediction()", {**namespace, "predict_sentiment": make_predictor(namespace["model"])},
                     capsys)
    assert out.startswith(CORRECT)
