"""Repeatable training: seeding, and the one fit loop, used by the CLI, the benchmarks and the notebook.

Keras is imported with this module (through its feeds): choose the backend
first (``imdb_lab.choose_backend()``).
"""

import keras
import numpy as np

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.backend import tensorflow_left_alone
from imdb_lab.data.reviews import split_validation, valid_labels
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.features.feeds import MultiHotSequence, word_id_feed
from imdb_lab.models.evaluation import model_accuracy
from imdb_lab.models.twin import can_twin, twin_of

__all__ = ["set_seed", "train", "fit_with_early_stopping", "evaluate", "evaluate_accuracy", "best_epoch", "PATIENCE",
           "MIN_DELTA"]


def set_seed(seed):
    """Make CPU runs repeatable on every Keras backend: seed Python, NumPy and Keras, and ask for deterministic ops.

    All backends: ``keras.utils.set_random_seed(seed)`` seeds Python's and
    NumPy's generators and Keras's own seed generator (weight initialisation,
    dropout, shuffling). It also seeds TensorFlow whenever TensorFlow is
    installed, importing it (0.45 GB) into a kernel that runs on JAX or
    PyTorch; a TensorFlow that is not imported has no generator to seed, so on
    those backends it is left out (``backend.tensorflow_left_alone``). Then, per backend:

    - TensorFlow: ``tf.config.experimental.enable_op_determinism()``. TensorFlow
      then picks deterministic kernels (some reductions and scatters run slower,
      a few ops raise instead of running); the switch is process-wide and stays
      on. For this lab's small Dense model the slowdown is small.
    - JAX: nothing more; its CPU computations are deterministic for a given seed.
    - PyTorch: ``torch.use_deterministic_algorithms(True, warn_only=True)``:
      deterministic kernels where PyTorch has them (a warning where it has none);
      on the CPU this lab's ops already are. Process-wide, like TensorFlow's.

    Same seed, same backend, same machine: the same weights and the same test
    accuracy. Different backends give (slightly) different numbers.
    """
    seed = valid_int("seed", seed, minimum=0)
    backend = keras.backend.backend()
    with tensorflow_left_alone():
        keras.utils.set_random_seed(seed)
    if backend == "tensorflow":
        import tensorflow as tf  # only the running backend is installed everywhere

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch  # only the running backend is installed everywhere

        torch.use_deterministic_algorithms(True, warn_only=True)


def _multi_hot_feed(sequences, labels, *, num_words, batch_size, shuffle=False, seed=None):
    """Return the default feed: a ``MultiHotSequence`` of ``sequences``."""
    return MultiHotSequence(sequences, labels, num_words=num_words, batch_size=batch_size, shuffle=shuffle, seed=seed)


# From this many words up, a Dense model trains through its word-id twin, on the same batches, to the same weights
# and test accuracy: there the multi-hot batches cost several times the twin's time on every backend. Below it the
# model trains on the multi-hot batches the notebook teaches (README, "Measured choices").
WORD_IDS_FROM = 20000


def _fitting(model, num_words):
    """Return ``(the model to fit, its feed)``: a Dense model's word-id twin for a large vocabulary."""
    if num_words >= WORD_IDS_FROM and can_twin(model):
        # the same model computed from each review's word ids: the cost follows the words a review holds, not
        # num_words (at 88,000 words a multi-hot batch is 512 x 88,000); it shares the model's weights
        return twin_of(model), word_id_feed
    return model, _multi_hot_feed


def fit_with_early_stopping(model, train_feed, validation_feed, *, num_epochs, patience, monitor="val_loss",
                            min_delta=0.0, verbose=2, callbacks=()):
    """Fit ``model`` on ``train_feed`` (a Keras input that shuffles itself); keep the best epoch; return the History.

    The one fit loop of the package (the Dense model and the n-gram model):
    early stopping watches ``monitor`` on ``validation_feed`` (an epoch improves
    on the best when by more than ``min_delta``) and restores the weights of
    the best epoch at the end. With ``validation_feed=None`` (a
    final fit on all the training reviews, for an epoch count chosen before)
    it trains for ``num_epochs`` exactly. ``callbacks`` (Keras callbacks) are
    called after early stopping's.

    Args:
        model: the compiled model.
        train_feed: the training batches (shuffled by the feed).
        validation_feed: the validation batches (None: fit ``num_epochs`` exactly).
        num_epochs: the most epochs.
        patience: epochs without improvement before stopping.
        monitor: the log early stopping watches.
        min_delta: the least change that counts as an improvement.
        verbose: Keras's progress setting.
        callbacks: more Keras callbacks.
    """
    valid_int("num_epochs", num_epochs, minimum=1)
    valid_int("patience", patience, minimum=0)
    min_delta = valid_number("min_delta", min_delta, low=0)
    if monitor not in ("val_loss", "val_accuracy"):
        raise LabValueError(f"monitor must be 'val_loss' or 'val_accuracy', got {monitor!r}")
    callbacks = _valid_callbacks(callbacks)
    if validation_feed is not None:
        callbacks.insert(0, keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, min_delta=min_delta,
                                                          restore_best_weights=True))
    # shuffle=False: the feed shuffles the reviews itself, from its own seeded generator
    return model.fit(train_feed, validation_data=validation_feed, epochs=num_epochs, shuffle=False,
                     callbacks=callbacks, verbose=verbose)


def _valid_callbacks(callbacks):
    """Return ``callbacks`` as a new list, or raise LabTypeError naming what is not a Keras callback."""
    if isinstance(callbacks, keras.callbacks.Callback) or not hasattr(callbacks, "__iter__"):
        raise LabTypeError(f"callbacks must be a list of Keras callbacks, got {callbacks!r}")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            raise LabTypeError(f"callbacks must be Keras callbacks (keras.callbacks.Callback), got {callback!r}")
    return callbacks


# train's early stopping: 2 epochs without an improvement of the validation loss by more than 1e-3, chosen with
# build_model's decaying learning rate (README, "Measured choices")
PATIENCE, MIN_DELTA = 2, 1e-3


def train(model, x_train, y_train, *, num_words, num_epochs=20, batch_size=512, validation_fraction=0.2,
          seed=None, patience=PATIENCE, min_delta=MIN_DELTA, monitor="val_loss", verbose=2, callbacks=()):
    """Fit ``model`` on the training reviews with early stopping on a validation split of them; return the History.

    The validation reviews come from ``x_train`` (``split_validation``), never
    from the test split; the best epoch's weights (by ``monitor``) are
    restored at the end; it stops after ``patience`` epochs without an
    improvement of more than ``min_delta`` (chosen with ``build_model``'s
    decaying learning rate, whose late epochs improve by less and less:
    README, "Measured choices"). From ``WORD_IDS_FROM`` words up, a
    ``keras.Sequential`` that starts with ``Dense`` (as ``build_model``'s) is
    fitted through its word-id twin (``imdb_lab.models.twin``), which trains the
    model's own weights at a cost that follows the words a review holds; below
    that, and for any other model, on ``MultiHotSequence`` batches.
    ``callbacks``: more Keras callbacks for ``fit``.

    Args:
        model: the compiled model.
        x_train, y_train: the training reviews (word indices) and labels.
        num_words: the width of the multi-hot rows.
        num_epochs: the most epochs.
        batch_size: reviews per step.
        validation_fraction: the share of the training reviews held out.
        seed: the shuffle's seed (None: the last reviews validate, as ``validation_split``).
        patience, min_delta, monitor: early stopping's.
        verbose: Keras's progress setting.
        callbacks: more Keras callbacks.
    """
    valid_int("num_epochs", num_epochs, minimum=1)  # before the (slower) split and feeds
    fitted, feed = _fitting(model, num_words)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, validation_fraction, seed=seed)
    train_feed = feed(x_fit, y_fit, num_words=num_words, batch_size=batch_size, shuffle=True, seed=seed)
    val_feed = feed(x_val, y_val, num_words=num_words, batch_size=batch_size)
    return fit_with_early_stopping(fitted, train_feed, val_feed, num_epochs=num_epochs, patience=patience,
                                   monitor=monitor, min_delta=min_delta, verbose=verbose, callbacks=callbacks)


def evaluate(model, x_test, y_test, *, num_words, batch_size=512):
    """Return ``(loss, accuracy)`` of ``model`` on the given reviews, fed batch by batch (as ``train`` feeds them).

    The loss is the model's compiled loss, as ``model.evaluate`` reports it; the
    accuracy is the lab's one accuracy (``evaluation.accuracy_of``), whatever the
    model's output kind and compiled metrics. That is two passes over the
    reviews: ``evaluate_accuracy`` makes the one the accuracy needs.

    Args:
        model: the trained model.
        x_test, y_test: the reviews (word indices) and labels.
        num_words: the width of the multi-hot rows.
        batch_size: reviews per batch.
    """
    fitted, feed = _fitting(model, num_words)
    y_test = valid_labels(y_test, len(x_test))
    loss = fitted.evaluate(feed(x_test, y_test, num_words=num_words, batch_size=batch_size), verbose=0,
                           return_dict=True)["loss"]
    return float(loss), evaluate_accuracy(model, x_test, y_test, num_words=num_words, batch_size=batch_size)


def evaluate_accuracy(model, x_test, y_test, *, num_words, batch_size=512):
    """Return the accuracy of ``model`` on the given reviews, in one pass over them (``evaluate`` without the loss).

    Fed as ``train`` feeds them (through the word-id twin from ``WORD_IDS_FROM``
    words up); the lab's one accuracy (``evaluation.accuracy_of``).

    Args:
        model, x_test, y_test, num_words, batch_size: as ``evaluate``'s.
    """
    fitted, feed = _fitting(model, num_words)
    y_test = valid_labels(y_test, len(x_test))
    return model_accuracy(fitted, feed(x_test, None, num_words=num_words, batch_size=batch_size), y_test)


def best_epoch(history, monitor="val_loss", min_delta=0.0):
    """Return the 0-based epoch whose weights early stopping restored: the lowest val_loss (highest val_accuracy),
    counting an epoch as better only when by more than ``min_delta``, as ``keras.callbacks.EarlyStopping`` does.

    Give the ``min_delta`` the training stopped with (``train``'s is ``MIN_DELTA``): with it, a later epoch a
    little lower than the best does not replace it.
    """
    logs = getattr(history, "history", history)
    if monitor not in logs:
        raise LabValueError(f"the history has no {monitor!r}: train with validation data")
    min_delta = valid_number("min_delta", min_delta, low=0)
    higher_is_better = "acc" in monitor
    best, best_value = 0, None
    for epoch, value in enumerate(np.asarray(logs[monitor], dtype=float)):
        if best_value is None or (value - min_delta > best_value if higher_is_better
                                  else value + min_delta < best_value):
            best, best_value = epoch, value
    return best
