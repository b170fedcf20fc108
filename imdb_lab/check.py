"""Answer checks for the lab's TODOs, in the spirit of Kaggle's learntools: one line after each TODO.

Each check prints a verdict instead of raising: ``Correct: ...``, or
``Incorrect: ...`` with a ``Hint: ...`` that points the way without giving the
answer, or ``Not attempted: ...`` while the TODO is untouched (its variable
missing or None, or its stub still raising NotImplementedError).

Called without arguments, a check reads the notebook's variables by their
lab names (``multi_hot``, ``model``, ``history``, ``test_accuracy``,
``predict_sentiment``, ``num_words``, ``x_test`` ...); pass them as keywords
to check other objects. Every check compares with an independent reference
(a naive loop, our own evaluation of the model), never with what the
notebook says about itself.
"""

import inspect
import math
import numbers

import numpy as np

CORRECT = "Correct:"
INCORRECT = "Incorrect:"
NOT_ATTEMPTED = "Not attempted:"
HINT = "Hint:"
TARGET_ACCURACY = 0.85
_MISSING = object()


class Verdict:
    """The result of one check: its status (CORRECT, INCORRECT or NOT_ATTEMPTED), message and hint."""

    def __init__(self, status, message, hint=""):
        self.status, self.message, self.hint = status, message, hint

    def __str__(self):
        """Return the verdict as the check prints it: status and message, then the hint on its own line."""
        text = f"{self.status} {self.message}"
        return f"{text}\n{HINT} {self.hint}" if self.hint else text

    def __repr__(self):
        """Return a short debugging form: status and message."""
        return f"Verdict({self.status!r}, {self.message!r})"


def _correct(message):
    return Verdict(CORRECT, message)


def _incorrect(message, hint=""):
    return Verdict(INCORRECT, message, hint)


def _not_attempted(message):
    return Verdict(NOT_ATTEMPTED, message)


def _lookup(given, name, namespace):
    """Return ``given``, or the notebook variable ``name`` when no value was given (``_MISSING`` if none)."""
    if given is not _MISSING:
        return given
    return namespace.get(name, _MISSING)


def _caller_namespace():
    """Return the globals of the code that called the public check (the notebook's namespace)."""
    frame = inspect.currentframe().f_back.f_back
    try:
        return dict(frame.f_globals)
    finally:
        del frame


def _report(verdict):
    print(verdict)


def _is_missing(value):
    return value is _MISSING or value is None


# ---------------------------------------------------------------- multi-hot encoding

def reference_multi_hot(sequences, num_words):
    """Return the multi-hot matrix of ``sequences`` by a plain loop: the reference the checks compare with."""
    out = np.zeros((len(sequences), num_words), dtype=np.float64)
    for row, sequence in enumerate(sequences):
        for index in sequence:
            out[row, index] = 1.0
    return out


def _object_array(sequences):
    array = np.empty(len(sequences), dtype=object)
    array[:] = [list(s) for s in sequences]
    return array


def _encoding_cases():
    """Return ``[(description, sequences, num_words), ...]``: the lab's example, edge cases and random reviews."""
    rng = np.random.default_rng(2024)
    random_reviews = [rng.integers(0, 37, size=rng.integers(0, 30)).tolist() for _ in range(60)]
    return [
        ("the lab's example multi_hot([[4, 1, 8]], num_words=10)", [[4, 1, 8]], 10),
        ("a review that repeats a word, [[1, 5, 5, 5, 2]] over 8 words", [[1, 5, 5, 5, 2]], 8),
        ("reviews with the first and last index and an empty review, [[0, 9], [], [3]] over 10 words",
         [[0, 9], [], [3]], 10),
        ("60 random reviews over 37 words, as the object array load_data returns", _object_array(random_reviews), 37),
    ]


def _encoding_hint(result, expected, sequences, num_words):
    """Return a hint for a wrong multi-hot result that has the right shape."""
    counts = np.zeros_like(expected)
    for row, sequence in enumerate(sequences):
        for index in sequence:
            counts[row, index] += 1
    if np.array_equal(result, counts):
        return "a word that occurs several times in a review still gives a 1, not its count"
    shifted = np.zeros_like(expected)
    shifted[:, :-1] = expected[:, 1:]
    if np.array_equal(result, shifted):
        return "index i goes to column i (0-based): don't subtract 1"
    if not np.all(np.isin(result, (0, 1))):
        return "every value should be 0 or 1"
    if np.array_equal(result, np.ones_like(expected)) or np.array_equal(result, np.zeros_like(expected)):
        return "set only the columns of the word indices that occur in each review"
    return "row i should have a 1 in column w for every word index w of review i, and 0 everywhere else"


def check_encoding(multi_hot):
    """Return the Verdict of a learner's ``multi_hot(sequences, num_words)`` function."""
    if _is_missing(multi_hot):
        return _not_attempted("there is no function multi_hot yet: write it in the TODO cell above and run that cell")
    if not callable(multi_hot):
        return _incorrect(f"multi_hot should be a function, got {type(multi_hot).__name__}",
                          "pass the function itself, check.encoding(multi_hot), not its result")
    for description, sequences, num_words in _encoding_cases():
        try:
            result = multi_hot(sequences, num_words)
        except NotImplementedError:
            return _not_attempted("multi_hot still raises NotImplementedError: replace the TODO stub with your code")
        except Exception as error:  # any bug in the learner's code is a verdict, not a crash
            return _incorrect(f"on {description}, multi_hot raised {type(error).__name__}: {error}",
                              "sequences is a list (or object array) of reviews, each a list of word indices")
        expected = reference_multi_hot(sequences, num_words)
        try:
            result = np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError):
            return _incorrect(f"on {description}, multi_hot returned a {type(result).__name__}, not an array",
                              "return a NumPy array of 0s and 1s")
        if result.shape != expected.shape:
            return _incorrect(f"on {description}, the result has shape {result.shape}, expected {expected.shape}",
                              "one row per review and one column per word index: shape (len(sequences), num_words)")
        if not np.array_equal(result, expected):
            row = int(np.flatnonzero(np.any(result != expected, axis=1))[0])
            return _incorrect(
                f"on {description}, row {row} has 1s in columns {np.flatnonzero(result[row]).tolist()} "
                f"(values {sorted(set(result[row].tolist()))}), expected 1s in columns "
                f"{np.flatnonzero(expected[row]).tolist()}",
                _encoding_hint(result, expected, sequences, num_words))
    return _correct("multi_hot matches a plain-loop reference on the lab's example, a repeated word, the first "
                    "and last index, an empty review and 60 random reviews.")


def encoding(multi_hot=_MISSING):
    """Check ``multi_hot(sequences, num_words)`` (default: the notebook's ``multi_hot``) and print the verdict."""
    _report(check_encoding(_lookup(multi_hot, "multi_hot", _caller_namespace())))


# ---------------------------------------------------------------- the model

def _loss_name(loss):
    """Return a normalized name of a compiled loss ("binarycrossentropy"), or "" when unknown."""
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(getattr(loss, "fn", None), "__name__", None) or getattr(loss, "__name__", None)
        name = name or type(loss).__name__
    return name.lower().replace("_", "")


def _from_logits(loss):
    config = getattr(loss, "get_config", lambda: {})()
    return bool(config.get("from_logits", False)) if isinstance(config, dict) else False


def _accuracy_metric(model):
    try:
        metrics = model.get_compile_config().get("metrics") or []
    except Exception:  # not compiled, or compiled with objects that do not serialize
        metrics = []
    names = []
    for metric in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        if isinstance(metric, dict):  # a serialized metric object
            names += [metric.get("config", {}).get("name"), metric.get("class_name")]
        else:
            names.append(metric if isinstance(metric, str) else getattr(metric, "name", type(metric).__name__))
    return any(str(name).lower() in ("accuracy", "acc", "binary_accuracy", "binaryaccuracy") for name in names)


def check_model(model, num_words):
    """Return the Verdict of a learner's compiled Keras model for ``num_words``-wide multi-hot reviews."""
    if _is_missing(model):
        return _not_attempted("there is no model yet: build and compile it in the TODO cell above and run that cell")
    import keras

    if not isinstance(model, keras.Model):
        return _incorrect(f"model should be a Keras model, got {type(model).__name__}",
                          "build it with keras.Sequential([...]) and compile it")
    try:
        input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError):
        return _incorrect("the model has no input shape yet",
                          "start the layer list with keras.Input(...) so that Keras knows the input size")
    right, wrong = [], []
    if input_shape == (None, num_words):
        right.append(f"an input of {num_words:,} multi-hot values")
    else:
        wrong.append((f"its input shape is {input_shape}, expected (None, {num_words})",
                      "each review is one row of num_words multi-hot values"))
    last = next((layer for layer in reversed(model.layers) if hasattr(layer, "activation")), None)
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if output_shape == (None, 1) and activation == "sigmoid":
        right.append("one sigmoid output")
    else:
        wrong.append((f"its output has shape {output_shape} with activation {activation}, expected (None, 1) "
                      "with a sigmoid", "the answer is one probability per review, between 0 and 1"))
    if any(isinstance(layer, keras.layers.Dropout) and getattr(layer, "rate", 0) > 0 for layer in model.layers):
        right.append("dropout")
    else:
        wrong.append(("it has no Dropout layer", "Dropout after a hidden layer fights overfitting"))
    if any(getattr(layer, "kernel_regularizer", None) is not None for layer in model.layers):
        right.append("a weight penalty")
    else:
        wrong.append(("no layer has a weight penalty",
                      "give the hidden Dense layers a kernel_regularizer (keras.regularizers.L2)"))
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        wrong.append(("the model is not compiled", "call model.compile(optimizer=..., loss=..., metrics=...)"))
    else:
        loss = getattr(model, "loss", None)
        if _loss_name(loss) not in ("binarycrossentropy", "bce") or _from_logits(loss):
            wrong.append((f"its loss is {_loss_name(loss) or loss!r}, not binary cross-entropy on probabilities",
                          "two classes and a sigmoid output call for loss='binary_crossentropy'"))
        else:
            right.append("binary cross-entropy loss")
        if _accuracy_metric(model):
            right.append("an accuracy metric")
        else:
            wrong.append(("it reports no accuracy", "add metrics=['accuracy'] to compile"))
    if wrong:
        message = "; ".join(problem for problem, _ in wrong)
        if right:
            message += f" (right so far: {', '.join(right)})"
        return _incorrect(message, " ".join(hint + "." for _, hint in wrong))
    return _correct(f"the model has {', '.join(right[:-1])} and {right[-1]}.")


def model(model=_MISSING, num_words=_MISSING):
    """Check the compiled model (default: the notebook's ``model`` and ``num_words``) and print the verdict."""
    namespace = _caller_namespace()
    num_words = _lookup(num_words, "num_words", namespace)
    if _is_missing(num_words):
        _report(_not_attempted("num_words is not set: run the cells from the top of the notebook"))
        return
    _report(check_model(_lookup(model, "model", namespace), num_words))


# ---------------------------------------------------------------- training

def _as_reviews(x, limit=None):
    """Return (the first ``limit`` of) the reviews ``x`` (sequences or FlatReviews) as tuples."""
    if hasattr(x, "tokens") and hasattr(x, "offsets"):
        offsets = np.asarray(x.offsets)[: None if limit is None else limit + 1].tolist()
        tokens = np.asarray(x.tokens)[: offsets[-1]].tolist()
        return [tuple(tokens[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    return [tuple(review) for review in (x if limit is None else x[:limit])]


def _share_in(reviews, others):
    """Return the share of ``reviews`` that also occur in ``others`` (exact duplicates are rare in IMDB)."""
    if not reviews:
        return 0.0
    others = set(others)
    return sum(review in others for review in reviews) / len(reviews)


def _logs(history):
    logs = getattr(history, "history", history)
    return logs if isinstance(logs, dict) else None


def _accuracy_key(logs, prefix=""):
    return next((prefix + k for k in ("accuracy", "acc", "binary_accuracy") if prefix + k in logs), None)


def check_history(history, x_fit=None, x_val=None, x_train=None, x_test=None, target=TARGET_ACCURACY):
    """Return the Verdict of a training run: its History, and where its validation reviews came from."""
    if _is_missing(history):
        return _not_attempted("there is no history yet: keep what model.fit returns as `history`")
    logs = _logs(history)
    if logs is None or "loss" not in logs:
        return _incorrect(f"history should be what model.fit returns, got {type(history).__name__}",
                          "history = model.fit(...)")
    if "val_loss" not in logs:
        return _incorrect("the training has no validation scores",
                          "give model.fit validation_data made from reviews you split off the TRAINING data")
    if _is_missing(x_val):
        x_val = None
    sample = None if x_val is None else _as_reviews(x_val, limit=1000)  # enough to tell where they come from
    if x_val is not None and x_test is not None and _share_in(sample, _as_reviews(x_test)) > 0.5:
        return _incorrect("the validation reviews are test reviews",
                          "split the validation reviews off x_train; the test set is for one final evaluation")
    if x_val is not None and x_train is not None and _share_in(sample, _as_reviews(x_train)) < 0.5:
        return _incorrect("the validation reviews do not come from x_train",
                          "split_validation(x_train, y_train, ...) splits the training reviews in two")
    if x_val is not None and x_fit is not None and _share_in(sample, _as_reviews(x_fit)) > 0.5:
        return _incorrect("the model was fit on its validation reviews too",
                          "fit on the first part of the split only, so that validation measures unseen reviews")
    val_loss = np.asarray(logs["val_loss"], dtype=float)
    epochs = len(val_loss)
    best = int(np.argmin(val_loss))
    asked = getattr(history, "params", {}).get("epochs") if hasattr(history, "params") else None
    if asked is not None and epochs == asked and epochs - 1 - best >= 3:
        return _incorrect(f"val_loss was lowest at epoch {best + 1} but training went on for all {epochs} "
                          "epochs, overfitting",
                          "an EarlyStopping callback (with restore_best_weights=True) stops when val_loss stops "
                          "improving and keeps the best epoch's weights")
    key = _accuracy_key(logs, "val_")
    if key is None:
        return _incorrect("the history has no validation accuracy", "compile the model with metrics=['accuracy']")
    best_accuracy = float(np.max(logs[key]))
    if best_accuracy < target:
        return _incorrect(f"the best validation accuracy is {best_accuracy:.3f}, below the target of {target}",
                          "check that the feeds pair each review with its own label, and look at the "
                          "learning curves: does the loss go down at all?")
    where = "split off the training reviews, " if x_val is not None and x_train is not None else ""
    return _correct(f"{epochs} epochs, validation {where}best val_loss at epoch {best + 1}, "
                    f"best validation accuracy {best_accuracy:.3f}.")


def history(history=_MISSING, x_fit=_MISSING, x_val=_MISSING, x_train=_MISSING, x_test=_MISSING):
    """Check the training run (default: the notebook's ``history``, ``x_fit``, ``x_val`` ...) and print the verdict."""
    namespace = _caller_namespace()
    values = {name: _lookup(value, name, namespace) for name, value in
              (("x_fit", x_fit), ("x_val", x_val), ("x_train", x_train), ("x_test", x_test))}
    values = {name: (None if value is _MISSING else value) for name, value in values.items()}
    _report(check_history(_lookup(history, "history", namespace), **values))


# ---------------------------------------------------------------- test accuracy

def measure_accuracy(model, x_test, y_test, num_words, batch_size=1024):
    """Return the share of reviews whose class (probability > 0.5) the model gets right, fed batch by batch."""
    from imdb_lab.grading import multi_hot_accuracy

    return multi_hot_accuracy(model, x_test, np.asarray(y_test).reshape(-1), num_words, batch_size=batch_size)


def check_accuracy(model, test_accuracy, x_test, y_test, num_words, target=TARGET_ACCURACY):
    """Return the Verdict of the reported ``test_accuracy``, measured again on ``x_test``, ``y_test``."""
    if _is_missing(model):
        return _not_attempted("there is no model yet: build and train it first")
    if _is_missing(test_accuracy):
        return _not_attempted("there is no test_accuracy yet: evaluate the model on the test reviews in the "
                              "TODO cell above")
    if isinstance(test_accuracy, bool) or not isinstance(test_accuracy, numbers.Real) or math.isnan(test_accuracy):
        return _incorrect(f"test_accuracy should be a number, got {test_accuracy!r}",
                          "model.evaluate returns [loss, accuracy] when the model was compiled with an accuracy metric")
    measured = measure_accuracy(model, x_test, y_test, num_words)
    if abs(float(test_accuracy) - measured) > 0.002:
        return _incorrect(f"test_accuracy is {float(test_accuracy):.4f}, but the model's accuracy on the "
                          f"{len(y_test):,} test reviews is {measured:.4f}",
                          "evaluate the trained model on the test reviews and labels (x_test, y_test), once")
    if measured < target:
        return _incorrect(f"the test accuracy is {measured:.4f}, below the target of {target}",
                          "look at the learning curves: stop at the best validation epoch, and check the model")
    return _correct(f"test accuracy {measured:.4f} (measured again here), above the target of {target}.")


def accuracy(model=_MISSING, test_accuracy=_MISSING, x_test=_MISSING, y_test=_MISSING, num_words=_MISSING):
    """Check ``test_accuracy`` against our own evaluation of ``model`` on the test reviews; print the verdict."""
    namespace = _caller_namespace()
    values = {name: _lookup(value, name, namespace) for name, value in
              (("model", model), ("test_accuracy", test_accuracy), ("x_test", x_test), ("y_test", y_test),
               ("num_words", num_words))}
    for name in ("x_test", "y_test", "num_words"):
        if _is_missing(values[name]):
            _report(_not_attempted(f"{name} is not set: run the cells from the top of the notebook"))
            return
    _report(check_accuracy(**values))


# ---------------------------------------------------------------- predicting new reviews

PROBE_TEXTS = (
    "A wonderful film: I loved the story and the acting was superb.",
    "Awful. A boring, predictable plot and a waste of two hours.",
    "I watched this movie on a Sunday.",
)


def _probe_texts(word_index, num_words):
    """Return the fixed probe texts plus one random text of known words (so answers cannot be memorized)."""
    rng = np.random.default_rng(7)
    words = sorted(word for word, rank in word_index.items() if rank + 3 < min(num_words, 2000))
    return list(PROBE_TEXTS) + [" ".join(rng.choice(words, size=25).tolist())]


def check_prediction(predict_sentiment, model, word_index, num_words):
    """Return the Verdict of a learner's ``predict_sentiment(texts)`` against encode_review + multi_hot_encode."""
    if _is_missing(predict_sentiment):
        return _not_attempted("there is no function predict_sentiment yet: write it in the TODO cell above")
    if not callable(predict_sentiment):
        return _incorrect(f"predict_sentiment should be a function, got {type(predict_sentiment).__name__}",
                          "pass the function itself: check.prediction(predict_sentiment)")
    if _is_missing(model):
        return _not_attempted("there is no model yet: build and train it first")
    from imdb_lab.encoding import multi_hot_encode
    from imdb_lab.text import encode_review

    texts = _probe_texts(word_index, num_words)
    try:
        result = predict_sentiment(texts)
    except NotImplementedError:
        return _not_attempted("predict_sentiment still raises NotImplementedError: replace the TODO stub")
    except Exception as error:  # the learner's bug is a verdict, not a crash
        return _incorrect(f"predict_sentiment(texts) raised {type(error).__name__}: {error}",
                          "texts is a list of strings; encode each one like the training reviews")
    try:
        result = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return _incorrect(f"predict_sentiment returned a {type(result).__name__}, not numbers",
                          "return model.predict's probabilities, one per text")
    if result.size != len(texts) or result.ndim > 2:
        return _incorrect(f"predict_sentiment returned shape {result.shape} for {len(texts)} texts",
                          "return one probability per text")
    result = result.reshape(-1)
    sequences = [encode_review(text, word_index, num_words=num_words) for text in texts]
    expected = np.asarray(model.predict(multi_hot_encode(sequences, num_words), verbose=0), dtype=np.float64)
    expected = expected.reshape(-1)
    if np.allclose(result, expected, atol=1e-4):
        return _correct(f"predict_sentiment gives the model's probabilities for {len(texts)} new texts, "
                        "encoded like the training reviews.")
    if np.all(np.isin(result, (0.0, 1.0))):
        hint = "return the probabilities themselves, not 0/1 classes"
    else:
        hint = ("encode each text with encode_review(text, word_index, num_words=num_words), "
                "multi-hot encode them with num_words columns, then model.predict")
    return _incorrect(f"for {texts[0]!r} predict_sentiment gives {result[0]:.4f}, the model gives {expected[0]:.4f}",
                      hint)


def prediction(predict_sentiment=_MISSING, model=_MISSING, word_index=_MISSING, num_words=_MISSING):
    """Check ``predict_sentiment(texts)`` (default: the notebook's) and print the verdict."""
    namespace = _caller_namespace()
    values = {name: _lookup(value, name, namespace) for name, value in
              (("predict_sentiment", predict_sentiment), ("model", model), ("word_index", word_index),
               ("num_words", num_words))}
    for name in ("word_index", "num_words"):
        if _is_missing(values[name]):
            _report(_not_attempted(f"{name} is not set: run the cells from the top of the notebook"))
            return
    _report(check_prediction(**values))
