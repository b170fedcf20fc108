"""The checks judge the learner's state as it is: one test per row of the lab's table of misjudged states.

Each test builds the state a learner gets into on tiny data (a model of 20 or
30 words, trained for a few steps), then asks the checks; the verdict must
name the real cause.
"""

import linecache
import sys

import numpy as np
import pytest

from imdb_lab import check
from imdb_lab.check import CORRECT, INCORRECT, NOT_ATTEMPTED

from test_check import TRAIN_WORDS, dense_model, embedding_model, fitted, tiny_lab, verdict_of

NUM_WORDS = 20


@pytest.fixture(scope="module")
def lab_data():
    """The tiny lab of the model checks' tests, made once for the module."""
    return tiny_lab()


def history_verdict(namespace, target=0.6):
    """Return check.history's verdict of a notebook ``namespace``: its ``history``, model and data."""
    names = ("model", "num_words", "x_train", "y_train", "x_test", "y_test", "batch_size")
    return check.check_history(namespace["history"], **{name: namespace[name] for name in names}, target=target)


def raise_in_cell(code, namespace, monkeypatch):
    """Run ``code`` as a notebook cell would, and keep its exception as IPython does (``sys.last_value``)."""
    filename = f"<cell {abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # IPython caches cells so
    try:
        exec(compile(code, filename, "exec"), namespace)
    except Exception as error:  # noqa: BLE001 - the learner's error, kept as the kernel keeps it
        monkeypatch.setattr(sys, "last_value", error, raising=False)
        monkeypatch.setattr(sys, "last_exc", error, raising=False)
        return error
    raise AssertionError(f"{code!r} did not raise")


def trained_with(model, kernel, bias, loss, labels_width=None):
    """Compile ``model``, train it one step at learning rate 0 (trained, as far as anyone can tell), set its weights."""
    import keras

    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss, metrics=["accuracy"])
    y = np.zeros((2, labels_width)) if labels_width else np.zeros(2)
    model.fit(np.zeros((2, NUM_WORDS), dtype="float32"), y, epochs=1, verbose=0)
    model.set_weights([np.asarray(kernel, dtype="float32"), np.asarray(bias, dtype="float32")])
    return model


def logit_keyword_model():
    """One logit unit: +0.3 when word 5 occurs, -0.3 otherwise: right on every review, but below Keras's 0.5."""
    import keras

    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    kernel = np.zeros((NUM_WORDS, 1))
    kernel[5] = 0.6
    return trained_with(model, kernel, [-0.3], keras.losses.BinaryCrossentropy(from_logits=True))


def keyword_reviews():
    rng = np.random.default_rng(0)
    x = [rng.integers(6, NUM_WORDS, size=8).tolist() + ([5] if i % 2 else []) for i in range(100)]
    return x, np.arange(100) % 2


def test_a_logit_with_keras_accuracy_is_named_by_the_model_and_the_accuracy_checks():
    from imdb_lab.features.multi_hot import multi_hot_encode

    model = logit_keyword_model()
    model_verdict = check.check_model(model, NUM_WORDS)
    assert model_verdict.status == INCORRECT and "BinaryAccuracy(threshold=0.0)" in model_verdict.hint
    x_test, y_test = keyword_reviews()
    _, reported = model.evaluate(multi_hot_encode(x_test, NUM_WORDS), y_test, verbose=0)
    assert reported == pytest.approx(0.5)  # Keras's "accuracy" reads every logit below 0.5 as negative
    verdict = check.check_accuracy(model, reported, x_test, y_test, NUM_WORDS)
    assert verdict.status == INCORRECT
    assert "the model's accuracy on the 100 test reviews is 1.0000" in verdict.message
    assert "the number model.evaluate reports is not the accuracy" in verdict.message
    assert "BinaryAccuracy(threshold=0.0)" in verdict.hint
    # the right report of the same model is correct
    assert check.check_accuracy(model, 1.0, x_test, y_test, NUM_WORDS).status == CORRECT


def test_a_model_built_again_after_training_is_untrained_and_the_history_is_not_its(lab_data):
    namespace = fitted(lab_data, "validation_split")
    namespace["model"] = dense_model(TRAIN_WORDS)  # the model cell ran again: a new, untrained model
    verdict = history_verdict(namespace)
    assert verdict.status == INCORRECT and "the model has not been trained" in verdict.message
    assert "built a new, untrained model" in verdict.message and "run the training cell again" in verdict.hint
    accuracy = check.check_accuracy(namespace["model"], 0.48, lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS)
    assert accuracy.status == INCORRECT and "has not been trained" in accuracy.message


def test_a_model_compiled_again_after_training_is_still_trained(lab_data):
    """Compiling again (to change a metric, say) starts a new optimizer at step 0, but keeps the trained weights."""
    import keras

    from imdb_lab.check.accuracy_check import measure_accuracy
    from imdb_lab.models.saving import trained_steps

    namespace = fitted(lab_data, "validation_split")
    model = namespace["model"]
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy()])
    assert trained_steps(model) == 0  # the counter the checks read before
    verdict = history_verdict(namespace)
    assert verdict.status == CORRECT, verdict
    measured = measure_accuracy(model, lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS)
    accuracy = check.check_accuracy(model, measured, lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS, target=0.6)
    assert accuracy.status == CORRECT, accuracy
    # and a model built again after that is untrained, whatever the old one's history
    again = dense_model(TRAIN_WORDS)
    again.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    assert "has not been trained" in check.check_accuracy(again, 0.5, lab_data["x_test"], lab_data["y_test"],
                                                          TRAIN_WORDS).message


@pytest.mark.parametrize("cell, hint", [
    ("history = model.fit(x_train_hot, y_train, epochs=1, verbose=0)", "compile the model"),
    ("model.compile(loss='binary_crossentropy', metrics=['accuracy'])\n"
     "history = model.fit(x_train, y_train, epochs=1, verbose=0)", "fit on the multi-hot rows (x_train_hot)"),
    ("model.compile(loss='binary_crossentropy', metrics=['accuracy'])\n"
     "history = model.fit(feed, validation_split=0.2, epochs=1, verbose=0)", "validation_data=another feed"),
    ("model = keras.Sequential([keras.Input((num_words,)), keras.layers.Dropout(0.5),\n"
     "                          keras.layers.Dense(2, activation='softmax')])\n"
     "model.compile(loss='categorical_crossentropy', metrics=['accuracy'])\n"
     "history = model.fit(x_train_hot, y_train, epochs=1, verbose=0)", "keras.utils.to_categorical(y_train)"),
    # training again after section 6 freed the training rows for the test rows
    ("model.compile(loss='binary_crossentropy', metrics=['accuracy'])\n"
     "del x_train_hot\n"
     "history = model.fit(x_train_hot, y_train, epochs=1, verbose=0)", "run the encoding cell of section 3 again"),
])
def test_when_model_fit_raised_the_checks_name_its_error(cell, hint, monkeypatch, capsys):
    import keras

    from imdb_lab.data.reviews import object_array
    from imdb_lab.features.feeds import MultiHotSequence
    from imdb_lab.features.multi_hot import multi_hot_encode

    x_train, y_train = keyword_reviews()
    namespace = {"keras": keras, "num_words": NUM_WORDS, "x_train": object_array(x_train), "y_train": y_train,
                 "x_train_hot": multi_hot_encode(x_train, NUM_WORDS, dtype="uint8"),
                 "feed": MultiHotSequence(x_train, y_train, num_words=NUM_WORDS, batch_size=32),
                 "model": dense_model(NUM_WORDS, compile=False)}
    error = raise_in_cell(cell, namespace, monkeypatch)
    out = verdict_of("check.history()", namespace, capsys)
    assert out.startswith(f"{INCORRECT} there is no history: model.fit raised {type(error).__name__}"), out
    assert hint in out
    # and the accuracy check, asked next, says the model never trained (where it can tell)
    if getattr(namespace["model"], "optimizer", None) is not None:
        namespace["test_accuracy"] = 0.5
        out = verdict_of("check.accuracy()", {**namespace, "x_test": x_train, "y_test": y_train}, capsys)
        assert "the model has not been trained: model.fit raised" in out, out


@pytest.mark.parametrize("evaluation, hint", [
    ("model.evaluate(test_feed, verbose=0)", "run the cell above the TODO first: it makes test_feed, the test "
                                             "reviews batch by batch"),
    # the notebook as handed out before section 6 evaluated from a feed
    ("model.evaluate(x_test_hot, y_test, verbose=0)", "run the cell above the TODO first: it encodes the test "
                                                      "reviews as x_test_hot"),
])
def test_evaluating_before_the_test_rows_are_made_says_to_run_that_cell(lab_data, evaluation, hint, monkeypatch,
                                                                        capsys):
    namespace = fitted(lab_data, "validation_split")
    error = raise_in_cell(f"test_loss, test_accuracy = {evaluation}", namespace, monkeypatch)
    assert isinstance(error, NameError)
    out = verdict_of("check.accuracy()", namespace, capsys)
    assert out.startswith(f"{INCORRECT} there is no test_accuracy: model.evaluate raised NameError"), out
    assert hint in out


def test_passing_labels_beside_the_test_feed_says_the_feed_holds_them(lab_data, monkeypatch, capsys):
    from imdb_lab.features.feeds import MultiHotSequence

    namespace = fitted(lab_data, "validation_split")
    namespace["test_feed"] = MultiHotSequence(namespace["x_test"], namespace["y_test"],
                                              num_words=namespace["num_words"], batch_size=64)
    error = raise_in_cell("test_loss, test_accuracy = model.evaluate(test_feed, y_test, verbose=0)", namespace,
                          monkeypatch)
    assert isinstance(error, ValueError)  # Keras's own: y beside a PyDataset
    out = verdict_of("check.accuracy()", namespace, capsys)
    assert out.startswith(f"{INCORRECT} there is no test_accuracy: model.evaluate raised ValueError"), out
    assert "the feed holds the labels already: model.evaluate(test_feed, verbose=0)" in out


def test_history_is_not_attempted_while_the_last_error_is_not_from_fit(monkeypatch, capsys):
    raise_in_cell("1 / 0", {}, monkeypatch)
    assert verdict_of("check.history()", {"num_words": NUM_WORDS}, capsys).startswith(NOT_ATTEMPTED)


def test_a_model_that_reads_padded_sequences_is_told_so_by_every_check(capsys):
    model = embedding_model(NUM_WORDS)
    x_test, y_test = keyword_reviews()
    for verdict in (check.check_model(model, NUM_WORDS),
                    check.check_accuracy(model, 0.8, x_test, y_test, NUM_WORDS),
                    check.check_prediction(lambda texts: np.zeros(len(texts)), model, {"great": 1}, NUM_WORDS)):
        assert verdict.status == INCORRECT and "does not read the lab's multi-hot reviews" in verdict.message
    # the word-ranking cell asks first, and prints why instead of lists
    assert check.usable_model(model, NUM_WORDS) is False
    assert "Skipped: the model does not read the lab's multi-hot reviews" in capsys.readouterr().out


def test_a_test_set_used_for_validation_taints_the_accuracy(lab_data, capsys):
    from imdb_lab.models.evaluation import multi_hot_accuracy

    namespace = fitted(lab_data, "test")
    measured = multi_hot_accuracy(namespace["model"], lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS)
    namespace["test_accuracy"] = measured
    out = verdict_of("check.accuracy()", namespace, capsys)
    assert out.startswith(INCORRECT) and "not a clean measurement" in out and "validation_split=0.2" in out


def test_early_stopping_without_restoring_the_best_weights_gets_a_note(lab_data):
    namespace = fitted(lab_data, "validation_split", epochs=4)
    history = namespace["history"]
    # the run stopped early (20 epochs asked) with the last epoch's weights, though an earlier one was best
    history.history["val_loss"][0] = min(history.history["val_loss"]) - 0.05
    history.params["epochs"] = 20
    verdict = history_verdict(namespace)
    assert verdict.status == CORRECT, str(verdict)
    assert "the model holds the weights of the last epoch" in verdict.message
    assert "Note: val_loss was lowest at epoch 1" in verdict.message and "restore_best_weights=True" in verdict.message


def test_the_two_unit_softmax_with_categorical_labels_is_measured_right():
    import keras

    from imdb_lab.features.multi_hot import multi_hot_encode

    x_test, y_test = keyword_reviews()
    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(2, activation="softmax")])
    kernel = np.zeros((NUM_WORDS, 2))
    kernel[5] = [-3.0, 3.0]
    trained_with(model, kernel, [1.5, -1.5], "categorical_crossentropy", labels_width=2)
    one_hot = keras.utils.to_categorical(y_test, 2)
    _, reported = model.evaluate(multi_hot_encode(x_test, NUM_WORDS), one_hot, verbose=0)
    assert check.check_accuracy(model, reported, x_test, one_hot, NUM_WORDS).status == CORRECT
    assert check.check_accuracy(model, reported, x_test, y_test, NUM_WORDS).status == CORRECT


def test_every_exercise_has_a_hint_and_a_solution_on_demand(capsys):
    for exercise in check.EXERCISES:
        exercise.hint()
        exercise.solution()
        out = capsys.readouterr().out
        assert out.startswith("Hint: ") and "Solution (one of many): paste it over the whole TODO cell\n" in out
        assert out.endswith(exercise.solution_code + "\n")
        assert exercise.hints_shown == exercise.solutions_shown == 1
        assert f"check.{exercise.name}.hint()" in repr(exercise)


def test_each_solution_is_the_solutions_notebooks_own_cell():
    from pathlib import Path

    import nbformat

    from imdb_lab.student import SOLUTIONS_NAME, solution_cells

    notebook = nbformat.read(Path(__file__).resolve().parents[2] / SOLUTIONS_NAME, as_version=4)
    assert solution_cells(notebook) == [exercise.solution_code for exercise in check.EXERCISES]
    # a whole cell that runs as shown: a function's body keeps its def line and its indentation
    for exercise in check.EXERCISES:
        compile(exercise.solution_code, f"<check.{exercise.name}.solution()>", "exec")


def metric_model(metric):
    """A tiny model compiled with ``metric`` and RMSprop(0.01), as the model checks' tests train them."""
    import keras

    model = dense_model(TRAIN_WORDS, compile=False)
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="binary_crossentropy", metrics=[metric])
    return model


def test_keras_accuracy_object_is_named_as_the_cause_by_every_check_it_affects(lab_data):
    """keras.metrics.Accuracy() (exact equality) on a sigmoid logs about 0: the model, history and accuracy checks
    name it; "accuracy", its correct twin, stays Correct."""
    import keras

    wrong = fitted(lab_data, "validation_split", model=metric_model(keras.metrics.Accuracy()))
    model_verdict = check.check_model(wrong["model"], TRAIN_WORDS)
    assert model_verdict.status == INCORRECT and "keras.metrics.Accuracy()" in model_verdict.message
    assert "metrics=['accuracy']" in model_verdict.hint
    history = history_verdict(wrong)
    assert history.status == INCORRECT and "keras.metrics.Accuracy()" in history.message, history
    _, reported = wrong["model"].evaluate(np.asarray(__import__("imdb_lab").multi_hot_encode(
        lab_data["x_test"], TRAIN_WORDS)), lab_data["y_test"], verbose=0)
    assert reported < 0.05  # what the learner sees
    accuracy = check.check_accuracy(wrong["model"], reported, lab_data["x_test"], lab_data["y_test"], TRAIN_WORDS)
    assert accuracy.status == INCORRECT and "keras.metrics.Accuracy()" in accuracy.message, accuracy
    assert "metrics=['accuracy']" in accuracy.hint
    right = fitted(lab_data, "validation_split", model=metric_model("accuracy"))
    assert check.check_model(right["model"], TRAIN_WORDS).status == CORRECT
    assert history_verdict(right).status == CORRECT


@pytest.mark.parametrize("name", ["bin_acc", "how_often_right"])
def test_an_accuracy_metric_is_found_whatever_its_name(lab_data, name):
    """BinaryAccuracy(name=...) is the model's accuracy for the history check, and plot_history draws it."""
    import keras

    from imdb_lab.models.plotting import plot_history

    namespace = fitted(lab_data, "validation_split", model=metric_model(keras.metrics.BinaryAccuracy(name=name)))
    assert f"val_{name}" in namespace["history"].history
    verdict = history_verdict(namespace)
    assert verdict.status == CORRECT, verdict
    figure = plot_history(namespace["history"])  # the History knows its model, and so its metrics' names
    assert [ax.get_ylabel() for ax in figure.axes] == ["Loss", "Accuracy"]
    assert list(figure.axes[1].lines[1].get_ydata()) == namespace["history"].history[f"val_{name}"]
    if "acc" in name:  # the logs alone, without the model, name it by what it logged
        assert plot_history(dict(namespace["history"].history)).axes[1].get_ylabel() == "Accuracy"


def test_a_result_unpacked_into_too_few_names_is_told_so_not_blamed_on_evaluate(lab_data, monkeypatch, capsys):
    """metrics=["accuracy", AUC()]: evaluate returns three values; the notebook's line names two."""
    import keras

    from imdb_lab.features.feeds import MultiHotSequence

    model = dense_model(TRAIN_WORDS, compile=False)
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    namespace = fitted(lab_data, "validation_split", model=model)
    namespace["test_feed"] = MultiHotSequence(namespace["x_test"], namespace["y_test"],
                                              num_words=namespace["num_words"], batch_size=64)
    error = raise_in_cell("test_loss, test_accuracy = model.evaluate(test_feed, verbose=0)", namespace, monkeypatch)
    assert isinstance(error, ValueError) and "unpack" in str(error)
    out = verdict_of("check.accuracy()", namespace, capsys)
    assert out.startswith(f"{INCORRECT} there is no test_accuracy: model.evaluate ran"), out
    assert "(loss, accuracy, auc)" in out and "return_dict=True" in out and "softmax" not in out
    # the twin that unpacks three names is right
    exec("test_loss, test_accuracy, test_auc = model.evaluate(test_feed, verbose=0)", namespace)
    monkeypatch.setattr("sys.last_value", None, raising=False)
    monkeypatch.setattr("sys.last_exc", None, raising=False)
    assert verdict_of("check.accuracy()", namespace, capsys).startswith(CORRECT)


@pytest.mark.parametrize("fit_rows, verdict", [(slice(None), INCORRECT), (slice(None, -80), CORRECT)])
def test_validation_rows_the_model_also_trained_on_are_told_so(lab_data, fit_rows, verdict):
    """validation_data=(the last rows of x_train) while fit reads all of x_train: validated on trained reviews;
    its twin, fit on the rows before them, is right. The steps Keras ran (history.params) tell the two apart."""
    import keras

    from imdb_lab.features.multi_hot import multi_hot_encode

    keras.utils.set_random_seed(0)
    model = metric_model("accuracy")
    x_hot, y = multi_hot_encode(lab_data["x_train"], TRAIN_WORDS), lab_data["y_train"]
    history = model.fit(x_hot[fit_rows], y[fit_rows], validation_data=(x_hot[-80:], y[-80:]), epochs=8,
                        batch_size=32, verbose=0)
    namespace = dict(lab_data, model=model, batch_size=32, history=history)
    result = history_verdict(namespace)
    assert result.status == verdict, result
    if verdict == INCORRECT:
        assert "it validated on reviews it trained on" in result.message and "validation_split=0.2" in result.hint


def test_a_training_run_that_raised_after_an_earlier_one_is_what_check_history_judges(lab_data, capsys, monkeypatch):
    """In a real IPython shell: a fit that worked, then one that raised; check.history names the failure, not the
    earlier history. Once the training cell runs again and works, the history is judged again."""
    from IPython.core.interactiveshell import InteractiveShell

    for name in ("last_type", "last_value", "last_traceback", "last_exc", "excepthook", "displayhook"):
        # the shell sets these as a kernel's does: put back afterwards, for the tests that follow
        monkeypatch.setattr(sys, name, getattr(sys, name, None), raising=False)
    shell = InteractiveShell.instance()

    def run(cell):  # as a kernel runs a cell: numbered, in In
        return shell.run_cell(cell, store_history=True).success

    try:
        shell.user_ns.update(fitted(lab_data, "validation_split", epochs=2), check=check)
        run("from imdb_lab.features.multi_hot import multi_hot_encode\nx_hot = multi_hot_encode(x_train, num_words)")
        good = "history = model.fit(x_hot, y_train, validation_split=0.2, epochs=2, batch_size=32, verbose=0)"
        assert run(good)
        # the learner changes the cell, and it raises: the history of the run before stays
        assert not run(good.replace("x_hot,", "x_hot[:, :5],"))
        judge = ("print(check.check_history(history, model=model, num_words=num_words, x_train=x_train, "
                 "y_train=y_train, x_test=x_test, y_test=y_test, batch_size=32, target=0.6))")
        capsys.readouterr()
        assert run(judge)
        out = capsys.readouterr().out
        assert out.startswith(f"{INCORRECT} the last training run raised"), out
        assert "`history` still holds an earlier run" in out
        # fixed: the model cell and the training cell ran again (on JAX a fit that raised leaves the model's
        # variables unusable, so the model is built again), and worked
        shell.user_ns["model"] = metric_model("accuracy")
        assert run(good)
        assert run(judge)
        out = capsys.readouterr().out
        assert out.startswith(CORRECT), out
    finally:
        InteractiveShell.clear_instance()
