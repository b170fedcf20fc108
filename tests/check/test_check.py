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
    from imdb_lab.features.multi_hot import multi_hot_encode

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


def source_lab_model(num_words=NUM_WORDS):
    """The source lab's own 2017 answer: Dense 512, Dropout, Dense(2, softmax), categorical cross-entropy."""
    import keras

    model = keras.Sequential([keras.Input((num_words,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(2, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def valid_models():
    """Return ``{description: model}`` of the valid answers the lab invites (issue 10's table, and more)."""
    import keras

    from imdb_lab.models.dense import build_model

    return {
        "the source lab's answer (Dense 512, Dropout, 2 softmax, categorical cross-entropy)": source_lab_model(),
        "dropout only, sigmoid, binary cross-entropy": dense_model(l2=None),
        "L2 only, no dropout": dense_model(dropout=0),
        "2 softmax + sparse categorical cross-entropy": dense_model(
            output=(2, "softmax"), loss="sparse_categorical_crossentropy"),
        "Dense(1) logits + BinaryCrossentropy(from_logits=True) + BinaryAccuracy(threshold=0.0)": dense_model(
            output=(1, None), loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=(keras.metrics.BinaryAccuracy(threshold=0.0),)),
        "two logits + sparse categorical cross-entropy from logits": dense_model(
            output=(2, None), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        "2 softmax + categorical cross-entropy + categorical_accuracy": dense_model(
            output=(2, "softmax"), loss="categorical_crossentropy", metrics=("categorical_accuracy",)),
        "L2 + Dropout, binary_accuracy": dense_model(metrics=("binary_accuracy",)),
        "metrics=['acc']": dense_model(metrics=("acc",)),
        "a metric object": dense_model(loss=keras.losses.BinaryCrossentropy(),
                                       metrics=(keras.metrics.BinaryAccuracy(),)),
        "build_model() with its defaults": build_model(NUM_WORDS),
        "build_model(l2=None)": build_model(NUM_WORDS, l2=None),
    }


def test_model_accepts_every_valid_answer():
    verdicts = {name: check.check_model(model, NUM_WORDS) for name, model in valid_models().items()}
    assert {name: v.status for name, v in verdicts.items()} == {name: CORRECT for name in verdicts}, verdicts


def test_model_verdict_says_what_the_model_does():
    verdict = check.check_model(source_lab_model(), NUM_WORDS)
    assert verdict.message == ("the model reads 20 multi-hot values, ends in two softmax outputs with a matching "
                               "categorical cross-entropy loss, fights overfitting with dropout, and reports accuracy.")


def mistakes():
    """Return ``[(description, model, num_words, words the message must hold, words the hint must hold)]``."""
    import keras

    return [
        ("sigmoid output + categorical cross-entropy", dense_model(loss="categorical_crossentropy"), NUM_WORDS,
         "one sigmoid output unit with categorical cross-entropy: over a single unit that loss is always 0",
         "loss='binary_crossentropy'"),
        ("softmax over one unit", dense_model(output=(1, "softmax")), NUM_WORDS,
         "softmax over a single unit, which always outputs 1.0", "Dense(1, activation='sigmoid')"),
        ("sigmoid output + from_logits=True", dense_model(loss=keras.losses.BinaryCrossentropy(from_logits=True)),
         NUM_WORDS, "a sigmoid output with a from_logits=True loss: the sigmoid is applied twice", "from_logits"),
        ("logit output + a loss on probabilities", dense_model(output=(1, None)), NUM_WORDS,
         "a linear output (a logit) with a loss that expects probabilities", "from_logits=True"),
        ("no dropout and no weight penalty", dense_model(dropout=0, l2=None), NUM_WORDS,
         "no dropout and no weight penalty", "Dropout"),
        ("wrong input width", dense_model(), 30, "input shape is (None, 20), expected (None, 30)", "num_words"),
        ("not compiled", dense_model(compile=False), NUM_WORDS, "not compiled", "model.compile"),
        ("no accuracy metric", dense_model(metrics=()), NUM_WORDS, "reports no accuracy", "metrics=['accuracy']"),
        ("mean squared error", dense_model(loss="mse"), NUM_WORDS, "not a cross-entropy", "binary_crossentropy"),
        ("two softmax units + binary cross-entropy", dense_model(output=(2, "softmax")), NUM_WORDS,
         "two output units with binary cross-entropy", "sparse_categorical_crossentropy"),
        ("a relu output", dense_model(output=(1, "relu")), NUM_WORDS, "activation is relu, which is not a probability",
         "sigmoid"),
        ("three output units", dense_model(output=(3, "softmax")), NUM_WORDS, "the output has 3 units", "sigmoid"),
        # the metric that cannot measure the model: Keras's "accuracy" thresholds a logit at 0.5
        ("logit + 'accuracy'", dense_model(output=(1, None), loss=keras.losses.BinaryCrossentropy(from_logits=True)),
         NUM_WORDS, "'accuracy' counts a review as positive when the output is above 0.5, but the output is a logit",
         "BinaryAccuracy(threshold=0.0)"),
        ("sigmoid + BinaryAccuracy(threshold=0.0)", dense_model(metrics=(keras.metrics.BinaryAccuracy(threshold=0.0),)),
         NUM_WORDS, "BinaryAccuracy(threshold=0) counts a review as positive when the output is above 0",
         "metrics=['accuracy']"),
        ("two softmax units + binary_accuracy",
         dense_model(output=(2, "softmax"), loss="sparse_categorical_crossentropy", metrics=("binary_accuracy",)),
         NUM_WORDS, "a binary accuracy on two outputs", "metrics=['accuracy']"),
        ("sparse loss + categorical_accuracy",
         dense_model(output=(2, "softmax"), loss="sparse_categorical_crossentropy", metrics=("categorical_accuracy",)),
         NUM_WORDS,
         "categorical accuracy with sparse categorical cross-entropy", "metrics=['accuracy']"),
        ("an Embedding that reads word indices", embedding_model(), NUM_WORDS,
         "does not read the lab's multi-hot reviews", "keras.Input(shape=(num_words,))"),
    ]


def embedding_model(width=NUM_WORDS):
    """An Embedding + pooling model on ``width`` padded word indices: a good model, but not of multi-hot reviews."""
    import keras

    model = keras.Sequential([keras.Input((width,), dtype="int32"), keras.layers.Embedding(100, 4),
                              keras.layers.Dropout(0.5), keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("index", range(17))
def test_model_names_each_classic_mistake(index):
    description, model, num_words, message, hint = mistakes()[index]
    verdict = check.check_model(model, num_words)
    assert verdict.status == INCORRECT, description
    assert message in verdict.message and hint in verdict.hint, (description, str(verdict))


def test_model_says_the_most_basic_mistake_first():
    # wrong width, a softmax over one unit, not compiled: the width comes first, then the output
    import keras

    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(1, activation="softmax")])
    assert "input shape is (None, 7), expected (None, 20)" in check.check_model(model, NUM_WORDS).message
    assert "softmax over a single unit" in check.check_model(model, 7).message


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


def test_history_accepts_an_honest_run_without_a_model():
    verdict = check.check_history(fake_history())
    assert verdict.status == CORRECT and "validation accuracy 0.870" in verdict.message
    assert check.check_history(fake_history().history).status == CORRECT  # the dict alone


TRAIN_WORDS = 50


def separable(n, seed):
    """Reviews whose label is whether word 3 occurs (an easy task a tiny model learns in a few epochs)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    x = [[1] + rng.integers(5, TRAIN_WORDS, rng.integers(3, 12)).tolist() + ([3] if label else [4]) for label in labels]
    return x, labels


def tiny_lab():
    """A tiny lab: training and test reviews, as the notebook's variables."""
    x_train, y_train = separable(400, 1)
    x_test, y_test = separable(200, 2)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "num_words": TRAIN_WORDS}


@pytest.fixture(scope="module")
def lab_data():
    """The tiny lab, made once for the module."""
    return tiny_lab()


def fitted(data, how, model=None, epochs=8):
    """Train a tiny model the way ``how`` says; return the notebook namespace after it."""
    import keras

    from imdb_lab.features.multi_hot import multi_hot_encode

    keras.utils.set_random_seed(0)
    if model is None:
        model = dense_model(TRAIN_WORDS)
        # a faster learning rate than the default, so that the tiny task is learned in a few epochs on any backend
        model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    namespace = dict(data, model=model, batch_size=32)
    x_hot = multi_hot_encode(data["x_train"], TRAIN_WORDS)
    y = data["y_train"]
    if _name_of_loss(model) == "categoricalcrossentropy" and model.output_shape[-1] == 2:
        y = keras.utils.to_categorical(y, 2)
    if how == "validation_split":
        history = model.fit(x_hot, y, validation_split=0.2, epochs=epochs, batch_size=32, verbose=0)
    elif how == "test":  # the leak, written inline
        history = model.fit(x_hot, y, validation_data=(multi_hot_encode(data["x_test"], TRAIN_WORDS), data["y_test"]),
                            epochs=epochs, batch_size=32, verbose=0)
    else:  # a split into x_fit / x_val, x_val an encoded matrix
        x_fit, x_val, y_fit, y_val = x_hot[:320], x_hot[320:], y[:320], y[320:]
        fit_x, fit_y = (x_hot, y) if how == "fit on everything" else (x_fit, y_fit)
        history = model.fit(fit_x, fit_y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0)
        namespace.update(x_val=x_val, y_val=data["y_train"][320:], x_fit=x_fit)
    namespace["history"] = history
    return namespace


def _name_of_loss(model):
    from imdb_lab.check.model_check import _name

    return _name(model.loss)


def judge(namespace):
    names = ("model", "num_words", "x_train", "y_train", "x_test", "y_test", "x_val", "y_val", "batch_size")
    # a low target: these tests are about where the validation came from, not about the tiny task
    return check.check_history(namespace["history"], **{k: namespace.get(k) for k in names}, target=0.6)


def test_history_accepts_validation_split_and_says_which_epoch_the_model_holds(lab_data):
    verdict = judge(fitted(lab_data, "validation_split"))
    assert verdict.status == CORRECT, str(verdict)
    assert "validated on the training reviews (validation_split=0.2)" in verdict.message
    assert "the model holds the weights of the last epoch" in verdict.message


def test_history_accepts_an_encoded_x_val_split_off_the_training_reviews(lab_data):
    verdict = judge(fitted(lab_data, "x_val"))
    assert verdict.status == CORRECT and "validated on x_val" in verdict.message, str(verdict)


def test_history_catches_test_reviews_passed_inline_as_validation_data(lab_data):
    verdict = judge(fitted(lab_data, "test"))
    assert verdict.status == INCORRECT and "the test set leaked" in verdict.message
    assert "validation_split" in verdict.hint


def test_history_catches_a_fit_on_all_of_x_train_while_x_val_exists(lab_data):
    verdict = judge(fitted(lab_data, "fit on everything"))
    assert verdict.status == INCORRECT and "fit on all of x_train, its validation reviews x_val included" in \
        verdict.message


def test_history_names_a_wrong_model_instead_of_blaming_the_training(lab_data):
    wrong_loss = dense_model(TRAIN_WORDS, loss="categorical_crossentropy")
    verdict = judge(fitted(lab_data, "validation_split", model=wrong_loss))
    assert verdict.status == INCORRECT and "not right: one sigmoid output unit with categorical cross-entropy" in \
        verdict.message and "binary_crossentropy" in verdict.hint


def test_the_source_labs_softmax_answer_passes_history_accuracy_and_prediction(lab_data, capsys):
    namespace = fitted(lab_data, "validation_split", model=source_lab_model(TRAIN_WORDS), epochs=6)
    assert judge(namespace).status == CORRECT, str(judge(namespace))
    model = namespace["model"]
    from imdb_lab.features.multi_hot import multi_hot_encode

    _, test_accuracy = model.evaluate(multi_hot_encode(lab_data["x_test"], TRAIN_WORDS),
                                      np.eye(2)[lab_data["y_test"]], verbose=0)
    verdict = check.check_accuracy(model, test_accuracy, lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS,
                                   target=0.7)
    assert verdict.status == CORRECT, str(verdict)
    word_index = {f"w{i}": i - 3 for i in range(4, 60)}
    word_index["great"] = 0  # index 3 once shifted: the positive word

    def predict_sentiment(texts):
        from imdb_lab import encode_review
        from imdb_lab.models.outputs import positive_probability

        x = multi_hot_encode([encode_review(t, word_index, num_words=TRAIN_WORDS) for t in texts], TRAIN_WORDS)
        return positive_probability(model, model.predict(x, verbose=0))

    verdict = check.check_prediction(predict_sentiment, model, word_index, TRAIN_WORDS)
    assert verdict.status == CORRECT, str(verdict)


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


def test_history_not_attempted_and_wrong_type(capsys, lab_data):
    assert verdict_of("check.history()", lab_data, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.history()", {"history": None}, capsys).startswith(NOT_ATTEMPTED)
    assert verdict_of("check.history()", {"history": 0.88}, capsys).startswith(INCORRECT)
    assert verdict_of("check.history()", {"history": fake_history()}, capsys).startswith(CORRECT)


# ---------------------------------------------------------------- test accuracy

def keyword_model(sign=1.0, start_weight=0.0):
    """A model that says "positive" exactly when word 5 occurs (or the opposite, with sign=-1)."""
    import keras

    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1, activation="sigmoid")])
    weights = np.zeros((NUM_WORDS, 1), dtype="float32")
    weights[5, 0] = 10.0 * sign
    weights[1, 0] = start_weight
    model.layers[-1].set_weights([weights, np.array([-5.0 * sign], dtype="float32")])
    return model  # not compiled: its weights were set, not trained, and no check can tell


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


@pytest.mark.parametrize("make", [float, np.float32, np.float64, np.array, lambda x: np.array(x, dtype="float16"),
                                  lambda x: __import__("keras").ops.convert_to_tensor(x),
                                  lambda x: __import__("keras").ops.convert_to_numpy(
                                      __import__("keras").ops.convert_to_tensor(x))],
                         ids=["float", "np.float32", "np.float64", "0-d array", "0-d float16", "tensor",
                              "convert_to_numpy"])
def test_accuracy_takes_any_one_number(test_split, make):
    """A NumPy scalar, a 0-d array or a scalar tensor of the running backend is a number, as a float is."""
    x_test, y_test = test_split
    verdict = check.check_accuracy(keyword_model(), make(1.0), x_test, y_test, NUM_WORDS)
    assert verdict.status == CORRECT and "1.0000" in verdict.message
    verdict = check.check_accuracy(keyword_model(), make(0.75), x_test, y_test, NUM_WORDS)  # exact in float16
    assert verdict.status == INCORRECT and "test_accuracy is 0.7500" in verdict.message


@pytest.mark.parametrize("value", [True, [1.0], np.array([1.0]), np.array([0.5, 1.0]), "1.0", float("nan"),
                                   np.array("1.0")])
def test_accuracy_refuses_what_is_not_one_number(test_split, value):
    x_test, y_test = test_split
    verdict = check.check_accuracy(keyword_model(), value, x_test, y_test, NUM_WORDS)
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


def test_prediction_catches_a_function_that_ignores_num_words():
    # the probes hold words of rank 17-25, whose indices (20-28) lie beyond num_words=20
    model = keyword_model(start_weight=0.7)
    verdict = check.check_prediction(make_predictor(model, num_words=None), model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == INCORRECT and "rare and unknown words" in verdict.message
    assert "num_words=num_words" in verdict.hint


def oov_model():
    """keyword_model, whose out-of-vocabulary mark 2 counts too: the probes can tell encode_review's rules apart."""
    model = keyword_model(start_weight=0.7)
    kernel, bias = model.layers[-1].get_weights()
    kernel[2, 0] = 1.5
    model.layers[-1].set_weights([kernel, bias])
    return model


def rule_predictor(model, unknown_as_oov=False, rare_dropped=False):
    """A predict_sentiment that gets one of encode_review's rules wrong, as a learner writing their own would."""
    from imdb_lab import multi_hot_encode
    from imdb_lab.data.text import tokenize

    def predict_sentiment(texts):
        sequences = []
        for text in texts:
            ranks = [WORD_INDEX.get(word) for word in tokenize(text)]
            sequence = [1]
            for rank in ranks:
                if rank is None:
                    sequence += [2] if unknown_as_oov else []
                elif rank + 3 < NUM_WORDS:
                    sequence.append(rank + 3)
                elif not rare_dropped:
                    sequence.append(2)
            sequences.append(sequence)
        return model.predict(multi_hot_encode(sequences, NUM_WORDS), verbose=0)

    return predict_sentiment


def test_prediction_tells_each_encoding_rule_apart_and_names_the_one_broken():
    model = oov_model()
    right = check.check_prediction(rule_predictor(model), model, WORD_INDEX, NUM_WORDS)
    assert right.status == CORRECT and "unknown words dropped, rare words as 2" in right.message, right
    unknown = check.check_prediction(rule_predictor(model, unknown_as_oov=True), model, WORD_INDEX, NUM_WORDS)
    assert unknown.status == INCORRECT and "never seen is dropped" in unknown.hint, unknown
    rare = check.check_prediction(rule_predictor(model, rare_dropped=True), model, WORD_INDEX, NUM_WORDS)
    assert rare.status == INCORRECT and "it is not dropped" in rare.hint, rare


def test_prediction_claims_no_rule_the_probes_could_not_test():
    """The keyword model ignores the mark 2: both rules give it the same probabilities, so neither is claimed."""
    model = keyword_model(start_weight=0.7)
    verdict = check.check_prediction(rule_predictor(model, unknown_as_oov=True), model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == CORRECT and "unknown words" not in verdict.message and "rare" not in verdict.message


def test_prediction_of_a_logit_model_that_returns_logits_is_told_the_sigmoid():
    import keras

    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(1)])
    kernel = np.zeros((NUM_WORDS, 1), dtype="float32")
    kernel[5, 0] = 4.0
    model.layers[-1].set_weights([kernel, np.array([-2.0], dtype="float32")])
    model.compile(optimizer="rmsprop", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    verdict = check.check_prediction(make_predictor(model), model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == INCORRECT and "logits" in verdict.hint and "positive_probability" in verdict.hint


def softmax_predictor(model, column):
    from imdb_lab import encode_review, multi_hot_encode

    def predict_sentiment(texts):
        x = multi_hot_encode([encode_review(t, WORD_INDEX, num_words=NUM_WORDS) for t in texts], NUM_WORDS)
        out = model.predict(x, verbose=0)
        return out if column is None else out[:, column]

    return predict_sentiment


def test_prediction_with_a_two_unit_softmax_wants_the_positive_column_and_never_crashes():
    model = dense_model(output=(2, "softmax"), loss="sparse_categorical_crossentropy")
    assert check.check_prediction(softmax_predictor(model, 1), model, WORD_INDEX, NUM_WORDS).status == CORRECT
    negative = check.check_prediction(softmax_predictor(model, 0), model, WORD_INDEX, NUM_WORDS)
    assert negative.status == INCORRECT and "probability of NEGATIVE" in negative.hint
    both = check.check_prediction(softmax_predictor(model, None), model, WORD_INDEX, NUM_WORDS)
    assert both.status == INCORRECT and "predictions[:, 1]" in both.hint


def test_prediction_with_a_model_that_cannot_predict_is_a_verdict():
    model = dense_model(num_words=7)  # reads 7 values, the texts give 20
    verdict = check.check_prediction(make_predictor(model), model, WORD_INDEX, NUM_WORDS)
    assert verdict.status == INCORRECT and "the model reads 7 values per review, but num_words is 20" in verdict.message


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
