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

from imdb_lab.evaluation import TARGET

CORRECT = "Correct:"
INCORRECT = "Incorrect:"
NOT_ATTEMPTED = "Not attempted:"
HINT = "Hint:"
TARGET_ACCURACY = TARGET
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
            has, wanted = np.flatnonzero(result[row]).tolist(), np.flatnonzero(expected[row]).tolist()
            if has == wanted:  # the right columns, wrong values (counts, say)
                found = f"the right columns {wanted} but values {sorted(set(result[row][wanted].tolist()))}, not 1"
            else:
                found = f"non-zero columns {has}, expected 1s in columns {wanted}"
            return _incorrect(f"on {description}, row {row} has {found}",
                              _encoding_hint(result, expected, sequences, num_words))
    return _correct("multi_hot matches a plain-loop reference on the lab's example, a repeated word, the first "
                    "and last index, an empty review and 60 random reviews.")


def encoding(multi_hot=_MISSING):
    """Check ``multi_hot(sequences, num_words)`` (default: the notebook's ``multi_hot``) and print the verdict."""
    _report(check_encoding(_lookup(multi_hot, "multi_hot", _caller_namespace())))


# ---------------------------------------------------------------- the model

_BINARY_LOSSES = ("binarycrossentropy", "bce", "binaryfocalcrossentropy")
_CATEGORICAL_LOSSES = ("categoricalcrossentropy", "cce", "categoricalfocalcrossentropy")
_SPARSE_LOSSES = ("sparsecategoricalcrossentropy",)


def _name(thing):
    """Return a normalized name of a loss or metric (string, function or object): "binarycrossentropy"."""
    if isinstance(thing, dict):  # a serialized object, as in get_compile_config()
        thing = thing.get("config", {}).get("name") or thing.get("class_name") or ""
    if isinstance(thing, str):
        name = thing
    else:
        name = (getattr(getattr(thing, "fn", None), "__name__", None) or getattr(thing, "__name__", None)
                or type(thing).__name__)
    return name.lower().replace("_", "")


def _loss_label(name):
    """Return a normalized loss name as prose: "sparsecategoricalcrossentropy" -> "sparse categorical cross-entropy"."""
    for short, long in (("bce", "binarycrossentropy"), ("cce", "categoricalcrossentropy")):
        name = long if name == short else name
    for word in ("sparse", "binary", "categorical", "focal"):
        name = name.replace(word, word + " ")
    return name.replace("crossentropy", "cross-entropy").strip()


def _from_logits(loss):
    config = getattr(loss, "get_config", lambda: {})()
    return bool(config.get("from_logits", False)) if isinstance(config, dict) else False


def _accuracy_metric(model):
    """Return the accuracy-style metric the model was compiled with (its normalized name), or None."""
    try:
        metrics = model.get_compile_config().get("metrics") or []
    except Exception:  # not compiled, or compiled with objects that do not serialize
        metrics = []
    from imdb_lab.plotting import ACCURACY_NAMES

    accepted = {name.replace("_", "") for name in ACCURACY_NAMES}
    names = []
    for metric in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        # a metric object is serialized with its class and its (maybe renamed) name: either tells
        names += [_name(metric)] + ([_name(metric.get("class_name", ""))] if isinstance(metric, dict) else [])
    return next((name for name in names if name in accepted), None)


def _regularized(model):
    """Return what fights overfitting in ``model``: ["dropout", "a weight penalty"], either, or neither."""
    import keras

    found = []
    if any(isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.GaussianDropout,
                              keras.layers.AlphaDropout)) and getattr(layer, "rate", 0) > 0
           for layer in model.layers):
        found.append("dropout")
    if any(getattr(layer, name, None) is not None for layer in model.layers
           for name in ("kernel_regularizer", "embeddings_regularizer", "bias_regularizer")):
        found.append("a weight penalty")
    return found


def _output_problem(units, activation):
    """Return ``(problem, hint)`` when the output cannot be a binary classifier's, else None."""
    if units == 1 and activation == "softmax":
        return ("the output is a softmax over a single unit, which always outputs 1.0",
                "a softmax shares 1 among its units: use Dense(1, activation='sigmoid'), or Dense(2, "
                "activation='softmax') with a categorical cross-entropy loss")
    if units not in (1, 2):
        return (f"the output has {units} units",
                "two classes need one sigmoid unit (the probability of positive) or two softmax units")
    if units == 1 and activation not in ("sigmoid", "linear"):
        return (f"the output unit's activation is {activation}, which is not a probability",
                "end with Dense(1, activation='sigmoid') for a probability between 0 and 1")
    if units == 2 and activation not in ("softmax", "linear"):
        return (f"the two output units use {activation}, which does not make them two probabilities that add to 1",
                "end with Dense(2, activation='softmax')")
    return None


def _loss_problem(loss, units, activation):
    """Return ``(problem, hint)`` when ``loss`` does not fit the output, else None."""
    if loss is None:
        return ("the model was compiled without a loss", "compile it with loss='binary_crossentropy'")
    name, logits = _name(loss), _from_logits(loss)
    linear = activation == "linear"
    if name in _BINARY_LOSSES:
        if units == 2:
            return ("two output units with binary cross-entropy",
                    "binary cross-entropy scores one probability: use Dense(1, activation='sigmoid'), or keep two "
                    "softmax units with loss='sparse_categorical_crossentropy' (labels 0/1)")
        if logits and not linear:
            return ("a sigmoid output with a from_logits=True loss: the sigmoid is applied twice",
                    "either drop from_logits=True, or end with Dense(1) (no activation) to output a logit")
        if linear and not logits:
            return ("a linear output (a logit) with a loss that expects probabilities",
                    "either use keras.losses.BinaryCrossentropy(from_logits=True), or add activation='sigmoid'")
        return None
    if name in _CATEGORICAL_LOSSES + _SPARSE_LOSSES:
        if units == 1:
            return (f"one {activation} output unit with {_loss_label(name)}: over a "
                    "single unit that loss is always 0, so nothing is learned",
                    "one sigmoid unit goes with loss='binary_crossentropy'; categorical losses need Dense(2, "
                    "activation='softmax')")
        if logits and not linear:
            return ("a softmax output with a from_logits=True loss: the softmax is applied twice",
                    "either drop from_logits=True, or end with Dense(2) (no activation)")
        if linear and not logits:
            return ("two linear outputs with a loss that expects probabilities",
                    "add activation='softmax', or use the loss with from_logits=True")
        return None
    return (f"its loss is {name or loss!r}, not a cross-entropy",
            "a classifier of two classes trains with loss='binary_crossentropy' (one sigmoid unit)")


def check_model(model, num_words):
    """Return the Verdict of a learner's compiled Keras model: any valid binary classifier of multi-hot reviews.

    Valid: its input is ``num_words`` wide; its output and loss form a
    consistent binary classifier (one sigmoid unit with binary cross-entropy,
    one linear unit with ``from_logits=True``, or two softmax units with
    categorical or sparse categorical cross-entropy); it has dropout or a weight
    penalty (or both); it is compiled with an accuracy metric. Widths, depth,
    optimizer and the rest are the learner's choice. A wrong model gets the most
    basic of its mistakes, with a hint that names it.
    """
    if _is_missing(model):
        return _not_attempted("there is no model yet: build and compile it in the TODO cell above and run that cell")
    import keras

    from imdb_lab.outputs import output_activation

    if not isinstance(model, keras.Model):
        return _incorrect(f"model should be a Keras model, got {type(model).__name__}",
                          "build it with keras.Sequential([...]) and compile it")
    try:
        input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError):
        return _incorrect("the model has no input shape yet",
                          "start the layer list with keras.Input(shape=(num_words,)) so that Keras knows the input size")
    if input_shape != (None, num_words):
        return _incorrect(f"its input shape is {input_shape}, expected (None, {num_words})",
                          "each review is one row of num_words multi-hot values: keras.Input(shape=(num_words,))")
    units, activation = output_shape[-1], output_activation(model)
    problem = _output_problem(units, activation)
    if problem:
        return _incorrect(*problem)
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return _incorrect("the model is not compiled", "call model.compile(optimizer=..., loss=..., metrics=[...])")
    problem = _loss_problem(getattr(model, "loss", None), units, activation)
    if problem:
        return _incorrect(*problem)
    fights = _regularized(model)
    if not fights:
        return _incorrect("it has no dropout and no weight penalty, so nothing fights overfitting",
                          "add Dropout after a hidden layer, or a kernel_regularizer such as "
                          "keras.regularizers.L2(1e-4) (or both)")
    metric = _accuracy_metric(model)
    if metric is None:
        return _incorrect("it reports no accuracy", "add metrics=['accuracy'] to compile")
    output = {1: "one sigmoid output" if activation == "sigmoid" else "one logit output",
              2: "two softmax outputs" if activation == "softmax" else "two logit outputs"}[units]
    return _correct(f"the model reads {num_words:,} multi-hot values, ends in {output} with a matching "
                    f"{_loss_label(_name(model.loss))} loss, fights overfitting with "
                    f"{' and '.join(fights)}, and reports accuracy.")


def model(model=_MISSING, num_words=_MISSING):
    """Check the compiled model (default: the notebook's ``model`` and ``num_words``) and print the verdict."""
    namespace = _caller_namespace()
    num_words = _lookup(num_words, "num_words", namespace)
    if _is_missing(num_words):
        _report(_not_attempted("num_words is not set: run the cells from the top of the notebook"))
        return
    _report(check_model(_lookup(model, "model", namespace), num_words))


# ---------------------------------------------------------------- training

def _logs(history):
    logs = getattr(history, "history", history)
    return logs if isinstance(logs, dict) else None


# validation_split takes the LAST fraction of the training arrays: the fractions a learner is likely to pick
_SPLIT_FRACTIONS = (0.2, 0.1, 0.15, 0.25, 0.3)


def _model_inputs(x, num_words):
    """Return ``x`` as the model reads it: a 2-D array as it is, reviews multi-hot encoded (uint8)."""
    from imdb_lab.encoding import multi_hot_encode

    array = x if isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype != object else None
    return array if array is not None else multi_hot_encode(x, num_words, dtype="uint8")


def _model_targets(model, y):
    """Return labels ``y`` as the model's loss reads them: one-hot for a categorical cross-entropy."""
    y = np.asarray(y)
    if _name(getattr(model, "loss", None)) in _CATEGORICAL_LOSSES and y.ndim == 1 and model.output_shape[-1] == 2:
        return np.eye(2, dtype="float32")[y.astype(int)]
    return y


def _loss_on(model, x, y, num_words):
    """Return the model's loss (with its weight penalties, as Keras logs val_loss) on reviews ``x``, ``y``."""
    results = model.evaluate(_model_inputs(x, num_words), _model_targets(model, y), batch_size=512, verbose=0,
                             return_dict=True)
    return float(results["loss"])


def _matching_epoch(val_loss, loss):
    """Return the epoch whose logged val_loss equals ``loss`` (the weights the model holds), or None."""
    # recomputed, the loss of the same weights on the same reviews agrees to float32 rounding (~1e-7); another
    # set of reviews would have to land within 1e-5 of one epoch's loss by chance
    close = [e for e, value in enumerate(val_loss) if abs(value - loss) <= 1e-5 * max(1.0, abs(loss))]
    return close[-1] if close else None


def find_validation(history, model, num_words, x_train=None, y_train=None, x_test=None, y_test=None,
                    x_val=None, y_val=None):
    """Return ``(where, epoch)``: which reviews the fit validated on, and which epoch's weights the model holds.

    It recomputes the model's loss on each candidate (the notebook's ``x_val``,
    the last 20 % (or 10-30 %) of ``x_train`` as ``validation_split`` takes them,
    the test reviews) and compares it with the logged ``val_loss``: the weights
    the model holds reproduce their epoch's validation loss exactly. ``where`` is
    "x_val", "validation_split=F", "test" or None (no candidate matched).
    """
    val_loss = [float(v) for v in _logs(history)["val_loss"]]
    candidates = []
    if not _is_missing(x_val) and not _is_missing(y_val):
        candidates.append(("x_val", lambda: (x_val, y_val)))
    if not _is_missing(x_train) and not _is_missing(y_train):
        n = len(y_train)
        for fraction in _SPLIT_FRACTIONS:
            # Keras's validation_split: the rows from int(n * (1 - fraction)) on
            start = int(n * (1 - fraction))
            candidates.append((f"validation_split={fraction}", lambda s=start: (x_train[s:], np.asarray(y_train)[s:])))
    if not _is_missing(x_test) and not _is_missing(y_test):
        candidates.insert(min(len(candidates), 2), ("test", lambda: (x_test, y_test)))
    for where, data in candidates:
        x, y = data()
        epoch = _matching_epoch(val_loss, _loss_on(model, x, y, num_words))
        if epoch is not None:
            return where, epoch
    return None, None


def _fit_on_everything(history, x_train, x_val, batch_size):
    """Return True when the epochs had as many steps as all of ``x_train`` gives, though a split ``x_val`` exists."""
    steps = getattr(history, "params", {}).get("steps") if hasattr(history, "params") else None
    if steps is None or _is_missing(x_val) or _is_missing(x_train) or _is_missing(batch_size):
        return False
    n_all, n_fit = len(x_train), len(x_train) - len(x_val)
    return steps == math.ceil(n_all / batch_size) != math.ceil(n_fit / batch_size)


def check_history(history, model=None, num_words=None, x_train=None, y_train=None, x_test=None, y_test=None,
                  x_val=None, y_val=None, batch_size=None, target=TARGET_ACCURACY):
    """Return the Verdict of a training run, judged by what the fit saw, recomputed from the model.

    Validating on the test reviews (however they were passed) is a leak;
    ``validation_split=`` and a validation set split off ``x_train`` (reviews or
    an encoded matrix) are right. The validation accuracy reported is the one
    of the epoch whose weights the model holds.
    """
    if _is_missing(history):
        return _not_attempted("there is no history yet: keep what model.fit returns as `history`")
    logs = _logs(history)
    if logs is None or "loss" not in logs:
        return _incorrect(f"history should be what model.fit returns, got {type(history).__name__}",
                          "history = model.fit(...)")
    if "val_loss" not in logs:
        return _incorrect("the training has no validation scores",
                          "hold out part of the TRAINING reviews: model.fit(..., validation_split=0.2)")
    from imdb_lab.plotting import accuracy_key

    key = accuracy_key(logs)
    if key is None or f"val_{key}" not in logs:
        return _incorrect("the history has no validation accuracy", "compile the model with metrics=['accuracy']")
    val_loss, val_accuracy = np.asarray(logs["val_loss"], dtype=float), np.asarray(logs[f"val_{key}"], dtype=float)
    epochs = len(val_loss)
    where = epoch = None
    if not _is_missing(model) and not _is_missing(num_words):
        model_verdict = check_model(model, num_words)
        if model_verdict.status != CORRECT:
            return _incorrect(f"the model that was trained is not right: {model_verdict.message}", model_verdict.hint)
        try:
            where, epoch = find_validation(history, model, num_words, x_train, y_train, x_test, y_test, x_val, y_val)
        except Exception as error:  # data of another shape than the lab's: judge by the history alone
            where = epoch = None
            print(f"(could not recompute the validation loss: {type(error).__name__}: {error})")
    if where == "test":
        return _incorrect("the validation scores are the test reviews' scores: the test set leaked into training "
                          "decisions", "validate on part of the TRAINING reviews (validation_split=0.2); the test "
                          "set is for one final evaluation")
    if _fit_on_everything(history, x_train, x_val, batch_size):
        return _incorrect("the model was fit on all of x_train, its validation reviews x_val included",
                          "fit on the training part of the split only, so that validation measures unseen reviews")
    best = int(np.argmin(val_loss))
    if epoch is None:
        epoch = epochs - 1  # without recomputing: the weights of the last epoch, unless early stopping restored
    asked = getattr(history, "params", {}).get("epochs") if hasattr(history, "params") else None
    if asked is not None and epochs == asked and epoch == epochs - 1 and epochs - 1 - best >= 3:
        return _incorrect(f"val_loss was lowest at epoch {best + 1} but training went on for all {epochs} "
                          "epochs, and the model keeps the last, overfitted weights",
                          "an EarlyStopping callback (with restore_best_weights=True) stops when val_loss stops "
                          "improving and keeps the best epoch's weights")
    accuracy = float(val_accuracy[epoch])
    if accuracy < target:
        return _incorrect(f"the model's validation accuracy is {accuracy:.3f} (epoch {epoch + 1}), below the "
                          f"target of {target}",
                          "look at the learning curves: does the validation loss still fall? train longer, or "
                          "change the network; check that each review is paired with its own label")
    if where is None:
        source = ""
    elif where == "x_val":
        source = "on x_val, split off the training reviews, "
    else:
        source = f"on the training reviews ({where}), "
    held = "the last epoch" if epoch == epochs - 1 else f"epoch {epoch + 1}, restored by early stopping"
    return _correct(f"{epochs} epochs, validated {source}the model holds the weights of {held}: validation "
                    f"accuracy {accuracy:.3f}.")


def history(history=_MISSING, model=_MISSING, num_words=_MISSING, x_train=_MISSING, y_train=_MISSING,
            x_test=_MISSING, y_test=_MISSING, x_val=_MISSING, y_val=_MISSING, batch_size=_MISSING):
    """Check the training run (default: the notebook's ``history``, ``model``, data ...) and print the verdict."""
    namespace = _caller_namespace()
    given = {"model": model, "num_words": num_words, "x_train": x_train, "y_train": y_train, "x_test": x_test,
             "y_test": y_test, "x_val": x_val, "y_val": y_val, "batch_size": batch_size}
    values = {name: _lookup(value, name, namespace) for name, value in given.items()}
    values = {name: (None if value is _MISSING else value) for name, value in values.items()}
    _report(check_history(_lookup(history, "history", namespace), **values))


# ---------------------------------------------------------------- test accuracy

def measure_accuracy(model, x_test, y_test, num_words, batch_size=1024):
    """Return the share of reviews whose class (probability > 0.5) the model gets right, fed batch by batch."""
    from imdb_lab.evaluation import multi_hot_accuracy

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
UNKNOWN_WORD = "zqxjvwk"  # in no word index: encode_review drops it


def _probe_texts(word_index, num_words):
    """Return the probe texts: fixed reviews, one with rare words (ranks beyond num_words) and an unknown word.

    A function that ignores ``num_words`` or the index shift gets the rare
    words wrong; random common words make the answers impossible to memorize.
    """
    rng = np.random.default_rng(7)
    common = sorted(word for word, rank in word_index.items() if rank + 3 < min(num_words, 2000))
    rare = sorted(word for word, rank in word_index.items() if rank + 3 >= num_words)
    texts = list(PROBE_TEXTS) + [" ".join(rng.choice(common, size=25).tolist())]
    if rare:
        texts.append(" ".join(rng.choice(common, size=10).tolist() + rng.choice(rare, size=5).tolist()
                              + [UNKNOWN_WORD]))
    return texts


def check_prediction(predict_sentiment, model, word_index, num_words):
    """Return the Verdict of a learner's ``predict_sentiment(texts)``: the model's probability of positive per text.

    The reference is ``encode_review`` + ``multi_hot_encode`` + the model, read
    as a probability of positive whatever the model's output (sigmoid, logit or
    two-unit softmax). Never raises: a learner's bug is a verdict.
    """
    if _is_missing(predict_sentiment):
        return _not_attempted("there is no function predict_sentiment yet: write it in the TODO cell above")
    if not callable(predict_sentiment):
        return _incorrect(f"predict_sentiment should be a function, got {type(predict_sentiment).__name__}",
                          "pass the function itself: check.prediction(predict_sentiment)")
    if _is_missing(model):
        return _not_attempted("there is no model yet: build and train it first")
    from imdb_lab.encoding import multi_hot_encode
    from imdb_lab.outputs import positive_probability
    from imdb_lab.text import encode_review

    texts = _probe_texts(word_index, num_words)
    try:
        sequences = [encode_review(text, word_index, num_words=num_words) for text in texts]
        expected = positive_probability(model, model.predict(multi_hot_encode(sequences, num_words), verbose=0))
    except Exception as error:  # an unusual model: say so, don't crash the notebook
        return _incorrect(f"the model cannot predict new texts ({type(error).__name__}: {error})",
                          "check.model() says what the model needs")
    try:
        result = predict_sentiment(texts)
    except NotImplementedError:
        return _not_attempted("predict_sentiment still raises NotImplementedError: replace the TODO stub")
    except Exception as error:  # the learner's bug is a verdict, not a crash
        hint = "texts is a list of strings; encode each one like the training reviews"
        if isinstance(error, IndexError) or "num_words" in str(error) or "does not fit" in str(error):
            hint = ("a rare word got an index beyond num_words: encode with encode_review(text, word_index, "
                    "num_words=num_words), which turns rare words into the out-of-vocabulary mark 2")
        return _incorrect(f"on new texts with rare and unknown words, predict_sentiment raised "
                          f"{type(error).__name__}: {error}", hint)
    try:
        result = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return _incorrect(f"predict_sentiment returned a {type(result).__name__}, not numbers",
                          "return the probability that each text is positive, one number per text")
    if result.size != len(texts) or result.ndim > 2:
        hint = "return one probability per text"
        if result.size == 2 * len(texts):
            hint = "a two-unit softmax gives two columns: return the positive one, predictions[:, 1]"
        return _incorrect(f"predict_sentiment returned shape {result.shape} for {len(texts)} texts", hint)
    result = result.reshape(-1)
    if np.allclose(result, expected, atol=1e-4):
        return _correct(f"predict_sentiment gives the model's probability of a positive review for {len(texts)} new "
                        "texts, rare and unknown words included, encoded like the training reviews.")
    wrong = int(np.flatnonzero(~np.isclose(result, expected, atol=1e-4))[0])
    if np.all(np.isin(result, (0.0, 1.0))):
        hint = "return the probabilities themselves, not 0/1 classes"
    elif np.allclose(result, 1 - expected, atol=1e-4):
        hint = "that is the probability of NEGATIVE: for a two-unit softmax the positive class is column 1"
    else:
        hint = ("encode each text with encode_review(text, word_index, num_words=num_words), multi-hot encode "
                "them with num_words columns, then take the model's probability of positive")
    return _incorrect(f"for {texts[wrong]!r} predict_sentiment gives {result[wrong]:.4f}, the model gives "
                      f"{expected[wrong]:.4f}", hint)


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
