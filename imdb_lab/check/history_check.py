"""The training exercise: ``check.history()`` finds the validation data the model was fitted with."""

import math

import numpy as np

from imdb_lab.check.core import (
    CORRECT, MISSING, TARGET_ACCURACY, caller_namespace, correct, failed_since, fit_hint, incorrect, is_missing,
    last_error, lookup, not_attempted, raised_in, report,
)
from imdb_lab.check.graded import Graded, Probe
from imdb_lab.check.model_check import check_model, compile_settings_problem, expects_one_hot_labels
from imdb_lab.errors import describe, error_name
from imdb_lab.features.multi_hot import multi_hot_encode
from imdb_lab.models.evaluation import accuracy_key, accuracy_log_names
from imdb_lab.models.saving import trained_steps, was_trained


HINT = ("model.fit(x_train_hot, y_train, validation_split=0.2, epochs=num_epochs, batch_size=batch_size, "
        "callbacks=[..., stop_on_nan]) with keras.callbacks.EarlyStopping(monitor='val_loss', min_delta=1e-3, "
        "patience=2, restore_best_weights=True); keep what fit returns: history = model.fit(...). With a two-unit "
        "softmax and categorical cross-entropy, train on keras.utils.to_categorical(y_train)")
# the whole TODO cell, as the solutions notebook has it
SOLUTION = """\
num_epochs = 20
batch_size = 512
stop_on_nan = keras.callbacks.TerminateOnNaN()  # stops a run whose loss turned NaN (see above)
if "x_train_hot" not in globals():  # section 6 freed the rows: training again (a re-run from section 4) needs them
    x_train_hot = multi_hot_encode(x_train, num_words, dtype="uint8")
early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-3, patience=2,
                                               restore_best_weights=True)
history = model.fit(x_train_hot, y_train, validation_split=0.2, epochs=num_epochs, batch_size=batch_size,
                    callbacks=[early_stopping, stop_on_nan], verbose=2)"""


def _logs(history):
    logs = getattr(history, "history", history)
    return logs if isinstance(logs, dict) else None


# validation_split takes the LAST fraction of the training arrays: the fractions a learner is likely to pick
_SPLIT_FRACTIONS = (0.2, 0.1, 0.15, 0.25, 0.3)


def _model_inputs(x, y, num_words):
    """Return what ``model.evaluate`` reads for reviews ``x`` and targets ``y``: ``(x, y)``, or ``(batches, None)``.

    A 2-D array is read as it is; reviews become multi-hot rows a batch at a
    time (a MultiHotSequence), rather than 50 MB of rows that TensorFlow copies again.
    """
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype != object:
        return x, y
    if y.ndim == 1:
        from imdb_lab.features.feeds import MultiHotSequence  # imports Keras: only once a model exists

        return MultiHotSequence(x, y, num_words=num_words, batch_size=512), None
    return multi_hot_encode(x, num_words, dtype="uint8"), y


def _model_targets(model, y):
    """Return labels ``y`` as the model's loss reads them: one-hot for a categorical cross-entropy."""
    y = np.asarray(y)
    if y.ndim == 1 and expects_one_hot_labels(model):
        return np.eye(2, dtype="float32")[y.astype(int)]
    return y


def _loss_on(model, x, y, num_words):
    """Return the model's loss (with its weight penalties, as Keras logs val_loss) on reviews ``x``, ``y``."""
    inputs, targets = _model_inputs(x, _model_targets(model, y), num_words)
    batch_size = None if targets is None else 512  # a feed has its own batches
    results = model.evaluate(inputs, targets, batch_size=batch_size, verbose=0, return_dict=True)
    return float(results["loss"])


def _matching_epoch(val_loss, loss):
    """Return the epoch whose logged val_loss equals ``loss`` (the weights the model holds), or None."""
    # recomputed, the loss of the same weights on the same reviews agrees to float32 rounding (~1e-7); another
    # set of reviews would have to land within 1e-5 of one epoch's loss by chance
    close = [e for e, value in enumerate(val_loss) if abs(value - loss) <= 1e-5 * max(1.0, abs(loss))]
    return close[-1] if close else None


def find_validation(history, model, num_words, *, x_train=None, y_train=None, x_test=None, y_test=None,
                    x_val=None, y_val=None):
    """Return ``(where, epoch)``: which reviews the fit validated on, and which epoch's weights the model holds.

    It recomputes the model's loss on each candidate (the notebook's ``x_val``,
    the last 20 % (or 10-30 %) of ``x_train`` as ``validation_split`` takes them,
    the test reviews) and compares it with the logged ``val_loss``: the weights
    the model holds reproduce their epoch's validation loss exactly.

    Args:
        history: what ``model.fit`` returned (or its ``history`` dict).
        model: the trained model.
        num_words: the width of the multi-hot rows.
        x_train, y_train, x_test, y_test, x_val, y_val: the notebook's data
            (reviews or encoded rows); None where the notebook has none.

    Returns:
        ``where`` ("x_val", "validation_split=F", "test", or None when no
        candidate matched) and the 0-based ``epoch`` (or None).
    """
    val_loss = [float(v) for v in _logs(history)["val_loss"]]
    candidates = []
    if not is_missing(x_val) and not is_missing(y_val):
        candidates.append(("x_val", lambda: (x_val, y_val)))
    if not is_missing(x_train) and not is_missing(y_train):
        n = len(y_train)
        for fraction in _SPLIT_FRACTIONS:
            # Keras's validation_split: the rows from int(n * (1 - fraction)) on
            start = int(n * (1 - fraction))
            candidates.append((f"validation_split={fraction}", lambda s=start: (x_train[s:], np.asarray(y_train)[s:])))
    if not is_missing(x_test) and not is_missing(y_test):
        candidates.insert(min(len(candidates), 2), ("test", lambda: (x_test, y_test)))
    for where, data in candidates:
        x, y = data()
        epoch = _matching_epoch(val_loss, _loss_on(model, x, y, num_words))
        if epoch is not None:
            return where, epoch
    return None, None


def _fit_on_everything(history, n_all, n_validation, batch_size):
    """Return True when the epochs had as many steps as all ``n_all`` training reviews give, though
    ``n_validation`` of them validated (``history.params``, the steps Keras ran, against the batch size)."""
    steps = getattr(history, "params", {}).get("steps") if hasattr(history, "params") else None
    if steps is None or is_missing(batch_size) or not batch_size:
        return False
    return steps == math.ceil(n_all / batch_size) != math.ceil((n_all - n_validation) / batch_size)


def _history_problem(history):
    """Return the verdict when there is no usable history to judge (none, a failed fit since, no validation
    scores), else None."""
    if is_missing(history):
        error = last_error()
        if error is not None and raised_in(error, ".fit("):
            return incorrect(f"there is no history: model.fit raised {describe(error)}", fit_hint(error))
        return not_attempted("there is no history yet: keep what model.fit returns as `history`")
    error = last_error()
    if error is not None and failed_since(error, ".fit("):  # the newest event wins: the training that raised
        return incorrect(f"the last training run raised {describe(error)}: `history` still holds an earlier run",
                         fit_hint(error))
    logs = _logs(history)
    if logs is None or "loss" not in logs:
        return incorrect(f"history should be what model.fit returns, got {type(history).__name__}",
                         "history = model.fit(...)")
    if "val_loss" not in logs:
        return incorrect("the training has no validation scores",
                         "hold out part of the TRAINING reviews: model.fit(..., validation_split=0.2)")
    return None


def _validation_problem(history, where, data, batch_size):
    """Return the verdict when the fit validated on reviews it must not have (the test reviews, or training reviews
    it also trained on), else None; ``where``: what ``find_validation`` found; ``data``: the notebook's."""
    if where == "test":
        return incorrect("the validation scores are the test reviews' scores: the test set leaked into training "
                         "decisions", "validate on part of the TRAINING reviews (validation_split=0.2); the test "
                         "set is for one final evaluation")
    x_train, x_val = data["x_train"], data["x_val"]
    if not is_missing(x_train) and not is_missing(x_val) and _fit_on_everything(history, len(x_train), len(x_val),
                                                                                 batch_size):
        return incorrect("the model was fit on all of x_train, its validation reviews x_val included",
                         "fit on the training part of the split only, so that validation measures unseen reviews")
    if where and where.startswith("validation_split=") and not is_missing(x_train):
        # the last rows of x_train validated: by validation_split (trained on the rest), or by validation_data
        # while fit read every row (then each epoch had the steps of all the rows)
        n_all = len(x_train)
        n_validation = n_all - int(n_all * (1 - float(where.split("=")[1])))
        if _fit_on_everything(history, n_all, n_validation, batch_size):
            return incorrect(f"the validation reviews are the last {n_validation:,} training reviews, and the model "
                             "was fit on all of x_train, those included: it validated on reviews it trained on",
                             "validation_split=0.2 holds the last 20 % of the training reviews out of the fit; or fit "
                             "on x_train_hot[:-5000] and validate on validation_data=(x_train_hot[-5000:], "
                             "y_train[-5000:])")
    return None


def _epoch_verdict(history, val_loss, val_accuracy, where, epoch, target):
    """Return the verdict of the epoch whose weights the model holds (``epoch``, None when not recomputed: the
    last), from its validation loss and accuracy: overfitted weights kept, below ``target``, or right."""
    epochs = len(val_loss)
    best = int(np.argmin(val_loss))
    recomputed = epoch is not None  # else which weights the model holds is not known: say nothing of them
    if epoch is None:
        epoch = epochs - 1
    asked = getattr(history, "params", {}).get("epochs") if hasattr(history, "params") else None
    if asked is not None and epochs == asked and epoch == epochs - 1 and epochs - 1 - best >= 3:
        return incorrect(f"val_loss was lowest at epoch {best + 1} but training went on for all {epochs} "
                         "epochs, and the model keeps the last, overfitted weights",
                         "an EarlyStopping callback (with restore_best_weights=True) stops when val_loss stops "
                         "improving and keeps the best epoch's weights")
    accuracy = float(val_accuracy[epoch])
    if accuracy < target:
        return incorrect(f"the model's validation accuracy is {accuracy:.3f} (epoch {epoch + 1}), below the "
                         f"target of {target}",
                         "look at the learning curves: does the validation loss still fall? train longer, or "
                         "change the network; check that each review is paired with its own label")
    if where is None:
        source = ""
    elif where == "x_val":
        source = ", validated on x_val, split off the training reviews"
    else:
        source = f", validated on the training reviews ({where})"
    if not recomputed:
        return correct(f"{epochs} epochs{source}; validation accuracy {accuracy:.3f} in the last epoch.")
    held = "the last epoch" if epoch == epochs - 1 else f"epoch {epoch + 1}, restored by early stopping"
    note = ""
    if epoch == epochs - 1 and best != epoch:
        note = (f" Note: val_loss was lowest at epoch {best + 1}; the lab keeps the best epoch's weights: "
                "EarlyStopping(..., restore_best_weights=True) puts them back at the end.")
    return correct(f"{epochs} epochs{source}; the model holds the weights of {held}, with a validation "
                   f"accuracy of {accuracy:.3f}.{note}")


def check_history(history, *, model=None, num_words=None, x_train=None, y_train=None, x_test=None, y_test=None,
                  x_val=None, y_val=None, batch_size=None, target=TARGET_ACCURACY):
    """Return the Verdict of a training run, judged by what the fit saw, recomputed from the model.

    Validating on the test reviews (however they were passed) is a leak;
    ``validation_split=`` and a validation set split off ``x_train`` (reviews or
    an encoded matrix) are right. The validation accuracy reported is the one
    of the epoch whose weights the model holds.

    Args:
        history: what ``model.fit`` returned (or its ``history`` dict).
        model: the trained model (None: judged by the history alone).
        num_words: the width of the multi-hot rows.
        x_train, y_train, x_test, y_test, x_val, y_val: the notebook's data
            (reviews or encoded rows), to find which the fit validated on.
        batch_size: the fit's batch size, to tell from the steps it ran
            whether it trained on its validation reviews too.
        target: the validation accuracy to reach.
    """
    problem = _history_problem(history)
    if problem is not None:
        return problem
    logs = _logs(history)
    key = accuracy_key(logs, () if is_missing(model) else accuracy_log_names(model))
    if key is None or f"val_{key}" not in logs:
        return incorrect("the history has no validation accuracy", "compile the model with metrics=['accuracy']")
    data = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "x_val": x_val, "y_val": y_val}
    where = epoch = None
    if not is_missing(model) and not is_missing(num_words):
        model_verdict = check_model(model, num_words)
        if model_verdict.status != CORRECT:
            return incorrect(f"the model that was trained is not right: {model_verdict.message}", model_verdict.hint)
        if was_trained(model) is False:
            return incorrect("the model has not been trained: `history` belongs to a model that was replaced "
                             "(the model cell ran again after training, and built a new, untrained model)",
                             "run the training cell again, then the cells after it")
        try:
            where, epoch = find_validation(history, model, num_words, **data)
        except Exception as error:  # noqa: BLE001 - data of another shape than the lab's: judge by the history alone
            where = epoch = None
            print(f"(could not recompute the validation loss: {error_name(error)}: {error})")
    problem = _validation_problem(history, where, data, batch_size)
    if problem is not None:
        return problem
    val_loss = np.asarray(logs["val_loss"], dtype=float)
    return _epoch_verdict(history, val_loss, np.asarray(logs[f"val_{key}"], dtype=float), where, epoch, target)


def history(history=MISSING, model=MISSING, num_words=MISSING, x_train=MISSING, y_train=MISSING,
            x_test=MISSING, y_test=MISSING, x_val=MISSING, y_val=MISSING, batch_size=MISSING):
    """Check the training run (default: the notebook's ``history``, ``model``, data ...) and print the verdict.

    Args:
        history: what ``model.fit`` returned (default: the notebook's ``history``).
        model: the trained model (default: the notebook's ``model``).
        num_words: the width of the multi-hot rows.
        x_train, y_train, x_test, y_test, x_val, y_val: the notebook's data, to find
            which reviews the fit validated on.
        batch_size: the fit's batch size.
        Each defaults to the notebook's variable of that name.
    """
    namespace = caller_namespace()
    given = {"model": model, "num_words": num_words, "x_train": x_train, "y_train": y_train, "x_test": x_test,
             "y_test": y_test, "x_val": x_val, "y_val": y_val, "batch_size": batch_size}
    values = {name: lookup(value, name, namespace) for name, value in given.items()}
    values = {name: (None if value is MISSING else value) for name, value in values.items()}
    report(check_history(lookup(history, "history", namespace), **values))


# The grader's half (check.graded): what the grader measured first (the exported model's test accuracy, above
# chance; its optimizer's steps, read from its file), then the history the kernel reported, which only the notebook
# can give (its verdict says so: source "kernel"), and which must fit the model the grader measured.
TITLE = "Training: validated on training reviews, stopped early, the best epoch's weights"
# a trained model of the lab is far from chance (0.5); an untrained one is near it, whatever its counters say
TRAINED_ACCURACY = 0.6
# how far the reported validation accuracy may be from the accuracy the grader measured on the test reviews
AGREEMENT = 0.1


def judge_reported_training(evidence):
    """Return the training verdict: whether the exported model was trained, by what the grader measured (its test
    accuracy above chance, ``evidence.accuracy``, and its optimizer's steps), then the reported history
    (``evidence.record``, a ``records.ReportedHistory``) judged as ``check_history`` judges it, and only if one of
    its epochs' validation accuracy is near the measured one: a history the notebook made up, or one of another
    model, is not this model's training."""
    if evidence.model is None:
        return not_attempted(f"there is no Keras model to judge ({evidence.status})")
    if evidence.model_problem is not None:
        return compile_settings_problem(evidence.model_problem)
    untrained = "run the training cell (model.fit) after building the model, and do not build it again after training"
    if trained_steps(evidence.model) == 0:
        return incorrect("the exported model has not been trained (its optimizer has taken no step)", untrained)
    if evidence.record is None:
        found = not_attempted("there is no `history`: keep what model.fit returns as `history`")
    elif evidence.accuracy is not None and evidence.accuracy < TRAINED_ACCURACY:
        found = incorrect(f"the grader measured a test accuracy of {evidence.accuracy:.4f}, near chance (0.5): the "
                          "exported model has not learned from the reviews, whatever its history says", untrained)
    else:
        found = check_history(evidence.record, target=evidence.target)
        reported = _reported_accuracies(evidence.record)
        if found.status == CORRECT and evidence.accuracy is not None and reported and min(
                abs(value - evidence.accuracy) for value in reported) > AGREEMENT:
            found = incorrect(f"the history reports validation accuracies from {min(reported):.3f} to "
                              f"{max(reported):.3f}, but the grader measured {evidence.accuracy:.4f} on the exported "
                              "model: the history is not this model's training",
                              "export the model that model.fit trained, with the history it returned")
    found.source = "kernel"
    return found


def _reported_accuracies(history):
    """Return the validation accuracies a reported history logs (any accuracy log's), finite ones only."""
    logs = _logs(history) or {}
    key = accuracy_key(logs, ())
    values = logs.get(f"val_{key}", []) if key else []
    return [float(value) for value in values if math.isfinite(float(value))]


GRADED = Graded("training", TITLE, 1, judge_reported_training, in_scorer=True, probe=Probe())
