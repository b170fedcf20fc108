"""The model exercise: ``check.model()`` accepts every valid binary classifier and names the mistake."""

from imdb_lab.check.core import (
    MISSING, caller_namespace, correct, incorrect, is_missing, lookup, multi_hot_problem, not_attempted, report,
)
from imdb_lab.check.graded import Graded
from imdb_lab.models.evaluation import compiled_accuracies
from imdb_lab.models.outputs import output_activation

HINT = ("a starting point that reaches the target: keras.Input(shape=(num_words,)), then two "
        "Dense(16, activation='relu', kernel_regularizer=keras.regularizers.L2(1e-4)) layers, each followed by "
        "Dropout(0.5), then Dense(1, activation='sigmoid'); compile with an optimizer such as RMSprop(5e-4) (or "
        "RMSprop with a learning rate that decays: ExponentialDecay(2e-3, decay_steps=40, decay_rate=0.7, "
        "staircase=True), as check.model.solution() shows), "
        "loss='binary_crossentropy' and metrics=['accuracy']. A logit output (Dense(1), no activation) needs "
        "BinaryCrossentropy(from_logits=True) and metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)]")
# the whole TODO cell, as the solutions notebook has it
SOLUTION = """\
model = keras.Sequential([
    keras.Input(shape=(num_words,)),
    keras.layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(1, activation="sigmoid"),
])
# the learning rate starts at 2e-3 and is multiplied by 0.7 after each epoch (40 steps: the 20,000 reviews that
# train, in batches of 512): large steps first, then finer and finer ones
learning_rate = keras.optimizers.schedules.ExponentialDecay(2e-3, decay_steps=40, decay_rate=0.7, staircase=True)
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), loss="binary_crossentropy",
              metrics=["accuracy"])
model.summary()"""


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


def expects_one_hot_labels(model):
    """Return True when ``model``'s loss reads one-hot labels (a categorical cross-entropy on 2 outputs)."""
    return _name(getattr(model, "loss", None)) in _CATEGORICAL_LOSSES and model.output_shape[-1] == 2


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


def accuracy_metrics(model):
    """Return ``[(kind, threshold), ...]``: each accuracy-style metric the model was compiled with.

    ``kind`` is "accuracy" (Keras's own choice from the loss: a 0.5 threshold on one output, the larger of two
    outputs), "binary", "categorical", "sparse", or "exact" (``keras.metrics.Accuracy()``, which counts outputs
    equal to their labels); ``threshold`` is a binary accuracy's threshold (0.5 for the string names).
    """
    return [(kind, threshold) for kind, threshold, _ in compiled_accuracies(model)]


EXACT_ACCURACY = ("keras.metrics.Accuracy() counts the outputs that equal their labels exactly, and a probability "
                  "(or a logit) never equals 0 or 1: it reports about 0 whatever the model does; it is not "
                  "the 'accuracy' of metrics=['accuracy']")


def _metric_problem(model, units, activation, loss_name):
    """Return ``(problem, hint)`` when no accuracy metric can measure this model's output, else None."""
    metrics = accuracy_metrics(model)
    if not metrics:
        return ("it reports no accuracy", "add metrics=['accuracy'] to compile")
    kind, threshold = metrics[0]
    if kind == "exact":
        return (EXACT_ACCURACY, "compile with metrics=['accuracy'] (or keras.metrics.BinaryAccuracy()), then train "
                "again")
    if units == 1:
        wanted = 0.5 if activation == "sigmoid" else 0.0  # a probability is positive above 0.5, a logit above 0
        output = "a probability" if activation == "sigmoid" else "a logit"
        if kind in ("categorical", "sparse"):
            return (f"{kind} accuracy on one output unit: the larger of one value is always the same",
                    "one output unit goes with metrics=['accuracy'] (a binary accuracy)")
        if threshold != wanted:
            fix = ("metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)]" if wanted == 0.0
                   else "metrics=['accuracy']")
            said = "'accuracy'" if kind == "accuracy" else f"BinaryAccuracy(threshold={threshold:g})"
            return (f"{said} counts a review as positive when the output is above {threshold:g}, but the output "
                    f"is {output}, which means positive above {wanted:g}: the accuracy it reports is not the "
                    "model's accuracy", f"compile with {fix}")
        return None
    if kind == "binary":
        return ("a binary accuracy on two outputs compares each output with the label, not the predicted class",
                "two outputs go with metrics=['accuracy'] (Keras then takes the larger output as the class)")
    sparse_loss = loss_name in _SPARSE_LOSSES
    if kind == "categorical" and sparse_loss or kind == "sparse" and not sparse_loss:
        return (f"{kind} accuracy with {_loss_label(loss_name)}: the metric reads the labels another way than the "
                "loss", "metrics=['accuracy'] lets Keras pick the accuracy that fits the loss")
    return None


def _regularized(model):
    """Return what fights overfitting in ``model``: ["dropout", "a weight penalty"], either, or neither."""
    import keras  # as in check_model

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
    penalty (or both); it is compiled with an accuracy metric that can measure
    its output (a logit needs ``BinaryAccuracy(threshold=0.0)``). Widths, depth,
    optimizer and the rest are the learner's choice. A wrong model gets the most
    basic of its mistakes, with a hint that names it.
    """
    if is_missing(model):
        return not_attempted("there is no model yet: build and compile it in the TODO cell above and run that cell")
    import keras  # the learner's kernel has it by now; importing the checks must not import it

    if not isinstance(model, keras.Model):
        return incorrect(f"model should be a Keras model, got {type(model).__name__}",
                          "build it with keras.Sequential([...]) and compile it")
    try:
        input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError):
        return incorrect("the model has no input shape yet", "start the layer list with "
                         "keras.Input(shape=(num_words,)) so that Keras knows the input size")
    if input_shape != (None, num_words):
        return incorrect(f"its input shape is {input_shape}, expected (None, {num_words})",
                          "each review is one row of num_words multi-hot values: keras.Input(shape=(num_words,))")
    problem = multi_hot_problem(model, num_words)
    if problem:
        return problem
    units, activation = output_shape[-1], output_activation(model)
    problem = _output_problem(units, activation)
    if problem:
        return incorrect(*problem)
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return incorrect("the model is not compiled", "call model.compile(optimizer=..., loss=..., metrics=[...])")
    problem = _loss_problem(getattr(model, "loss", None), units, activation)
    if problem:
        return incorrect(*problem)
    fights = _regularized(model)
    if not fights:
        return incorrect("it has no dropout and no weight penalty, so nothing fights overfitting",
                          "add Dropout after a hidden layer, or a kernel_regularizer such as "
                          "keras.regularizers.L2(1e-4) (or both)")
    problem = _metric_problem(model, units, activation, _name(model.loss))
    if problem:
        return incorrect(*problem)
    output = {1: "one sigmoid output" if activation == "sigmoid" else "one logit output",
              2: "two softmax outputs" if activation == "softmax" else "two logit outputs"}[units]
    return correct(f"the model reads {num_words:,} multi-hot values, ends in {output} with a matching "
                    f"{_loss_label(_name(model.loss))} loss, fights overfitting with "
                    f"{' and '.join(fights)}, and reports accuracy.")


def model(model=MISSING, num_words=MISSING):
    """Check the compiled model (default: the notebook's ``model`` and ``num_words``) and print the verdict."""
    namespace = caller_namespace()
    num_words = lookup(num_words, "num_words", namespace)
    if is_missing(num_words):
        report(not_attempted("num_words is not set: run the cells from the top of the notebook"))
        return
    report(check_model(lookup(model, "model", namespace), num_words))


# The grader's half (check.graded): the exported model, loaded with its compile settings in the scorer.
TITLE = "The model: a compiled binary classifier of multi-hot reviews, with dropout or a weight penalty"


def compile_settings_problem(why):
    """Return the verdict of an exported model whose compile settings cannot be loaded safely (``why``)."""
    return incorrect(f"the model's compile settings cannot be loaded safely ({why})",
                     "compile with Keras's own optimizers, losses and metrics, given by name or class")


def judge_exported_model(evidence):
    """Return the verdict of the exported model (``evidence.model``), as ``check.model()`` judges it."""
    if evidence.model is None:
        return not_attempted(f"there is no Keras model to judge ({evidence.status})")
    if evidence.model_problem is not None:
        return compile_settings_problem(evidence.model_problem)
    return check_model(evidence.model, evidence.num_words)


GRADED = Graded("model", TITLE, 1, judge_exported_model, in_scorer=True)
