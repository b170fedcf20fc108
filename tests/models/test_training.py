"""Tests of imdb_lab.models.training: repeatable seeding and the reference training routine."""

import numpy as np
import pytest

from imdb_lab.models.dense import build_model
from imdb_lab.models.training import MIN_DELTA, best_epoch, evaluate, evaluate_accuracy, set_seed, train


@pytest.fixture
def deterministic():
    """Undo set_seed's process-wide op determinism after the test, for the tests that follow."""
    yield
    import keras

    if keras.backend.backend() == "tensorflow":
        # TensorFlow has no public switch back (only this internal one)
        from tensorflow.python.framework import config

        config.disable_op_determinism()
    elif keras.backend.backend() == "torch":
        import torch

        torch.use_deterministic_algorithms(False)


def separable(n, num_words=30, seed=0):
    """Reviews whose label is whether word 3 ("great") occurs: a trivially separable task."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    sequences = np.empty(n, dtype=object)
    for i, label in enumerate(labels):
        words = rng.integers(5, num_words, rng.integers(3, 12)).tolist()
        sequences[i] = [1] + words + ([3] if label else [4])
    return sequences, labels


def fit_once(seed):
    """Seed, then build and train a tiny model; return its weights and history."""
    set_seed(seed)
    x_train, y_train = separable(120)
    model = build_model(30, hidden_units=(8,), learning_rate=0.01)
    history = train(model, x_train, y_train, num_words=30, num_epochs=3, batch_size=16, seed=seed, verbose=0)
    return model.get_weights(), history.history


@pytest.mark.slow
def test_same_seed_gives_the_same_model(deterministic, path):
    weights_a, history_a = fit_once(5)
    weights_b, history_b = fit_once(5)
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert history_a == history_b
    # and the seed matters (so the check above can fail): another seed, other initial weights
    set_seed(6)
    other = build_model(30, hidden_units=(8,)).get_weights()
    set_seed(5)
    same = build_model(30, hidden_units=(8,)).get_weights()
    assert not np.array_equal(other[0], same[0])


@pytest.fixture(params=["multi-hot", "word ids"])
def path(request, monkeypatch):
    """Train on multi-hot batches, or through the word-id twin (as from WORD_IDS_FROM words up)."""
    from imdb_lab.models import training

    if request.param == "word ids":
        monkeypatch.setattr(training, "WORD_IDS_FROM", 1)
    return request.param


@pytest.mark.slow
def test_training_learns_a_separable_task_and_restores_the_best_epoch(deterministic, path):
    set_seed(0)
    x_train, y_train = separable(400, seed=1)
    x_test, y_test = separable(200, seed=2)
    model = build_model(30, hidden_units=(8,), dropout=0.2, learning_rate=0.01)
    history = train(model, x_train, y_train, num_words=30, num_epochs=30, batch_size=32, seed=0, patience=2,
                    verbose=0)
    logs = history.history
    assert set(logs) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # the epoch early stopping kept: the last that improved by more than train's min_delta, within it of the lowest
    best = best_epoch(history, min_delta=MIN_DELTA)
    assert logs["val_loss"][best] <= min(logs["val_loss"]) + MIN_DELTA
    # early stopping restored the best epoch: evaluating the validation split again gives its loss
    from imdb_lab.data.reviews import split_validation

    _, (x_val, y_val) = split_validation(x_train, y_train, 0.2, seed=0)
    # the model itself on multi-hot rows, however it was trained
    val_loss, val_accuracy = evaluate(model, x_val, y_val, num_words=30)
    assert val_loss == pytest.approx(logs["val_loss"][best], rel=1e-4)
    assert val_accuracy == pytest.approx(logs["val_accuracy"][best])
    _, test_accuracy = evaluate(model, x_test, y_test, num_words=30, batch_size=64)
    assert test_accuracy >= 0.95


@pytest.mark.parametrize("min_delta", [0.0, 1e-3, 0.01])
@pytest.mark.parametrize("monitor, values", [
    ("val_loss", [0.50, 0.40, 0.3995, 0.41, 0.3992, 0.398, 0.45]),  # later epochs a little lower than the best
    ("val_loss", [0.30, 0.30, 0.31, float("nan"), 0.2999, 0.28]),
    ("val_accuracy", [0.80, 0.85, 0.8505, 0.851, 0.86, 0.8598]),
])
def test_best_epoch_is_the_epoch_keras_early_stopping_restores(monitor, values, min_delta):
    """The reference: Keras's own EarlyStopping, fed the same epochs, and the epoch whose weights it keeps."""
    import keras

    stopping = keras.callbacks.EarlyStopping(monitor=monitor, min_delta=min_delta, patience=len(values),
                                             mode="max" if "acc" in monitor else "min")
    for epoch, value in enumerate(values):
        stopping.on_epoch_end(epoch, {monitor: value})
    assert best_epoch({monitor: values}, monitor=monitor, min_delta=min_delta) == stopping.best_epoch


def test_min_delta_changes_the_best_epoch():
    values = {"val_loss": [0.50, 0.40, 0.3995, 0.45]}
    assert best_epoch(values) == 2  # the lowest
    assert best_epoch(values, min_delta=1e-3) == 1  # 0.3995 is not better than 0.40 by more than 1e-3
    with pytest.raises(ValueError, match="min_delta must be >= 0"):
        best_epoch(values, min_delta=-1)


@pytest.mark.slow
def test_callbacks_are_called_and_evaluate_accuracy_is_evaluate_in_one_pass(deterministic, path):
    import keras

    set_seed(0)
    x_train, y_train = separable(200, seed=1)
    x_test, y_test = separable(100, seed=2)
    model = build_model(30, hidden_units=(8,), learning_rate=0.01)
    epochs = []
    seen = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch))
    history = train(model, x_train, y_train, num_words=30, num_epochs=3, batch_size=32, seed=0, verbose=0,
                    callbacks=[seen])
    assert epochs == list(range(len(history.history["loss"])))
    passes = []
    predict, evaluate_pass = keras.Model.predict, keras.Model.evaluate

    def counted(name, method):
        def call(self, *arguments, **keywords):
            passes.append(name)
            return method(self, *arguments, **keywords)
        return call

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.Model, "predict", counted("predict", predict))
        patch.setattr(keras.Model, "evaluate", counted("evaluate", evaluate_pass))
        accuracy = evaluate_accuracy(model, x_test, y_test, num_words=30, batch_size=64)
        assert passes == ["predict"]  # one pass over the test reviews
        _, reference = evaluate(model, x_test, y_test, num_words=30, batch_size=64)
    assert accuracy == reference
    # the lab's one accuracy, against a plain loop over the model's own probabilities
    from imdb_lab.features.multi_hot import multi_hot_encode

    probabilities = np.asarray(keras.ops.convert_to_numpy(model(multi_hot_encode(x_test, 30)))).reshape(-1)
    right = [(p > 0.5) == (label == 1) for p, label in zip(probabilities, y_test, strict=True)]
    assert accuracy == pytest.approx(np.mean(right))


def test_bad_arguments_are_rejected():
    x_train, y_train = separable(20)
    model = build_model(30)
    with pytest.raises(ValueError, match="num_epochs must be >= 1, got 0"):
        train(model, x_train, y_train, num_words=30, num_epochs=0)
    with pytest.raises(ValueError, match="monitor must be 'val_loss' or 'val_accuracy', got 'loss'"):
        train(model, x_train, y_train, num_words=30, monitor="loss")
    with pytest.raises(ValueError, match="validation_fraction must be > 0 and < 1, got 1.5"):
        train(model, x_train, y_train, num_words=30, validation_fraction=1.5)
    with pytest.raises(TypeError, match=r"seed must be an int, not 1.5 \(float\)"):
        set_seed(1.5)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        set_seed(-1)
    with pytest.raises(ValueError, match="val_loss"):
        best_epoch({"loss": [0.3]})
    with pytest.raises(ValueError, match="min_delta must be >= 0"):
        train(model, x_train, y_train, num_words=30, min_delta=-0.1)
    with pytest.raises(TypeError, match="callbacks must be a list of Keras callbacks"):
        train(model, x_train, y_train, num_words=30, callbacks=print)
    with pytest.raises(TypeError, match=r"callbacks must be Keras callbacks \(keras.callbacks.Callback\), got 'x'"):
        train(model, x_train, y_train, num_words=30, callbacks=["x"])


# the lab's path on a backend other than TensorFlow, in a fresh Python: nothing of it may import TensorFlow, which
# costs a 1 GB hub's kernel 0.45 GB (Keras's set_random_seed imports it whenever it is installed)
_PATH_WITHOUT_TENSORFLOW = """
import sys
import numpy as np
import imdb_lab
from imdb_lab import choose_backend
choose_backend()
imdb_lab.set_seed(1)
seeded = "tensorflow" in sys.modules
import keras
from imdb_lab import MultiHotSequence, build_model, multi_hot_encode
rng = np.random.default_rng(0)
x = [list(rng.integers(1, 50, 10)) for _ in range(64)]
y = rng.integers(0, 2, 64)
model = build_model(50, hidden_units=(4,))
history = model.fit(multi_hot_encode(x, 50), y, validation_split=0.25, epochs=2, verbose=0)
model.evaluate(MultiHotSequence(x, y, num_words=50, batch_size=16), verbose=0)
from imdb_lab.check.model_check import accuracy_metrics
from imdb_lab.models.twin import twin_of
accuracy_metrics(model)
twin_of(model)
imdb_lab.save_trained_model(model, sys.argv[1], num_words=50, word_index={"film": 1})
after_the_path = "tensorflow" in sys.modules
keras.utils.set_random_seed(2)  # Keras's own call still seeds TensorFlow when the learner makes it
print(seeded, after_the_path, "tensorflow" in sys.modules)
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_kernel_on_another_backend_never_imports_tensorflow(backend, tmp_path):
    import importlib.util
    import os
    import subprocess
    import sys

    missing = [name for name in ("tensorflow", backend) if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"needs TensorFlow and {backend} in one environment; {', '.join(missing)} not installed")
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run([sys.executable, "-c", _PATH_WITHOUT_TENSORFLOW, str(tmp_path / "model.keras")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "False", "True"], result.stdout
