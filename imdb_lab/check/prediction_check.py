"""The new-reviews exercise: ``check.prediction()`` probes ``predict_sentiment`` with fixed and rare texts."""

import numpy as np

from imdb_lab import untrusted
from imdb_lab.check.core import (
    MISSING, caller_namespace, correct, incorrect, is_missing, lookup, multi_hot_problem, not_attempted, not_judged,
    report,
)
from imdb_lab.check.graded import Graded, Probe
from imdb_lab.data.reviews import OOV_CHAR
from imdb_lab.data.text import encode_review, tokenize
from imdb_lab.errors import error_name
from imdb_lab.features.multi_hot import multi_hot_encode
from imdb_lab.models.outputs import positive_probability

HINT = ("encode each text with encode_review(text, word_index, num_words=num_words), multi-hot encode the list "
        "with multi_hot_encode(sequences, num_words), predict with the model, and turn what it outputs into the "
        "probability of positive with positive_probability(model, predictions)")
# the whole TODO cell, as the solutions notebook has it
SOLUTION = '''\
def predict_sentiment(texts):
    """Return the model's probability that each text is a positive review, as a 1-D array."""
    sequences = [encode_review(text, word_index, num_words=num_words) for text in texts]
    return positive_probability(model, model.predict(multi_hot_encode(sequences, num_words), verbose=0))'''


PROBE_TEXTS = (
    "A wonderful film: I loved the story and the acting was superb.",
    "Awful. A boring, predictable plot and a waste of two hours.",
    "I watched this movie on a Sunday.",
)
UNKNOWN_WORD = "zqxjvwk"  # in no word index: encode_review drops it
# the same difference, a separating probe, must move the model's probability by more than this for a verdict to
# say that the rule it separates was checked (the results themselves are compared to 1e-4)
SEPARATED = 1e-3


def probe_texts(word_index, num_words, seed=7):
    """Return the probe texts: fixed reviews, random common words, then one text with rare words (ranks beyond
    num_words) and one with a word of no word index, each among common words.

    A function that ignores ``num_words`` or the index shift gets the rare
    words wrong; the rare and the unknown words are in texts of their own, so
    that each of encode_review's two rules is tested apart (rare words become
    the out-of-vocabulary mark 2, unknown words are dropped: a function that
    swaps them gives another encoding for one of the two texts). Random common
    words make the answers impossible to memorize (the grader draws them with a
    seed of its own).
    """
    rng = np.random.default_rng(seed)
    common = sorted(word for word, rank in word_index.items() if rank + 3 < min(num_words, 2000))
    rare = sorted(word for word, rank in word_index.items() if rank + 3 >= num_words)
    texts = list(PROBE_TEXTS) + [" ".join(rng.choice(common, size=25).tolist())]
    if rare:
        texts.append(" ".join(rng.choice(common, size=10).tolist() + rng.choice(rare, size=5).tolist()))
    texts.append(" ".join(rng.choice(common, size=10).tolist() + [UNKNOWN_WORD]))
    return texts


def model_probabilities(model, sequences, num_words):
    """Return the model's probability of positive for each of ``sequences`` (word indices), as a 1-D array."""
    return positive_probability(model, model.predict(multi_hot_encode(sequences, num_words), verbose=0))


def expected_answers(model, texts, word_index, num_words):
    """Return ``(expected, wrong_rules)``: the model's probabilities for ``texts`` encoded as ``encode_review``
    encodes them, and ``[(rule, hint, probabilities)]`` for each of its rules a learner may get wrong, with the
    probabilities the wrong rule gives instead (the check and the grader both judge with them)."""
    encoded = [encode_review(text, word_index, num_words=num_words) for text in texts]
    # the wrong rules: a word of no word index made the out-of-vocabulary mark 2, a rare word dropped
    unknown_as_oov = [sequence + ([OOV_CHAR] if any(word not in word_index for word in tokenize(text)) else [])
                      for text, sequence in zip(texts, encoded, strict=True)]
    rare_dropped = [encode_review(text, word_index, num_words=num_words, oov_char=None) for text in texts]
    expected, unknown, rare = (model_probabilities(model, sequences, num_words)
                               for sequences in (encoded, unknown_as_oov, rare_dropped))
    return expected, [
        ("unknown words dropped", "a word the word index has never seen is dropped, as encode_review(text, "
         "word_index, num_words=num_words) drops it: it is not the out-of-vocabulary mark 2", unknown),
        ("rare words as 2", "a word of rank beyond num_words becomes the out-of-vocabulary mark 2, as "
         "encode_review(text, word_index, num_words=num_words) makes it: it is not dropped", rare),
    ]


def check_prediction(predict_sentiment, model, word_index, num_words):
    """Return the Verdict of a learner's ``predict_sentiment(texts)``: the model's probability of positive per text.

    The reference is ``encode_review`` + ``multi_hot_encode`` + the model, read
    as a probability of positive whatever the model's output (sigmoid, logit or
    two-unit softmax). Never raises: a learner's bug is a verdict.
    """
    if is_missing(predict_sentiment):
        return not_attempted("there is no function predict_sentiment yet: write it in the TODO cell above")
    if not callable(predict_sentiment):
        return incorrect(f"predict_sentiment should be a function, got {type(predict_sentiment).__name__}",
                          "pass the function itself: check.prediction(predict_sentiment)")
    if is_missing(model):
        return not_attempted("there is no model yet: build and train it first")
    problem = multi_hot_problem(model, num_words)
    if problem:
        return problem
    texts = probe_texts(word_index, num_words)
    try:
        expected, wrong_rules = expected_answers(model, texts, word_index, num_words)
    except Exception as error:  # an unusual model: say so, don't crash the notebook
        return incorrect(f"the model cannot predict new texts ({error_name(error)}: {error})",
                          "check.model() says what the model needs")
    try:
        result = predict_sentiment(texts)
    except NotImplementedError:
        return not_attempted("predict_sentiment still raises NotImplementedError: replace the TODO stub")
    except Exception as error:  # the learner's bug is a verdict, not a crash
        return predict_sentiment_raised(error)
    return judge_prediction(result, expected, texts, wrong_rules)


def predict_sentiment_raised(error):
    """Return the verdict of a ``predict_sentiment`` that raised ``error`` on new texts (an exception or its name
    and message, as the grader records it)."""
    text = str(error)
    hint = "texts is a list of strings; encode each one like the training reviews"
    if isinstance(error, IndexError) or text.startswith("IndexError") or "num_words" in text or "does not fit" in text:
        hint = ("a rare word got an index beyond num_words: encode with encode_review(text, word_index, "
                "num_words=num_words), which turns rare words into the out-of-vocabulary mark 2")
    described = f"{error_name(error)}: {error}" if isinstance(error, BaseException) else text
    return incorrect(f"on new texts with rare and unknown words, predict_sentiment raised {described}", hint)


def judge_prediction(result, expected, texts, wrong_rules=()):
    """Return the Verdict of what ``predict_sentiment(texts)`` returned against the model's own ``expected``
    probabilities of positive (the grader judges with it too, outside the kernel).

    ``wrong_rules`` (``expected_answers``): a result that matches a wrong
    rule's probabilities is told that rule's hint; a right result's verdict
    names the rules that the probes told apart for this model.
    """
    try:
        result = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return incorrect(f"predict_sentiment returned a {type(result).__name__}, not numbers",
                          "return the probability that each text is positive, one number per text")
    if result.size != len(texts) or result.ndim > 2:
        hint = "return one probability per text"
        if result.size == 2 * len(texts):
            hint = "a two-unit softmax gives two columns: return the positive one, predictions[:, 1]"
        return incorrect(f"predict_sentiment returned shape {result.shape} for {len(texts)} texts", hint)
    result = result.reshape(-1)
    expected = np.asarray(expected, dtype=np.float64).reshape(-1)
    separated = [(rule, hint, np.asarray(probabilities, dtype=np.float64).reshape(-1))
                 for rule, hint, probabilities in wrong_rules]
    separated = [(rule, hint, other) for rule, hint, other in separated
                 if other.shape == expected.shape and np.abs(other - expected).max() > SEPARATED]
    if np.allclose(result, expected, atol=1e-4):
        rules = "".join(f", {rule}" for rule, _, _ in separated)
        return correct(f"predict_sentiment gives the model's probability of a positive review for {len(texts)} new "
                       f"texts, encoded like the training reviews{rules}.")
    wrong = int(np.flatnonzero(~np.isclose(result, expected, atol=1e-4))[0])
    swapped = next((hint for _, hint, other in separated if np.allclose(result, other, atol=1e-4)), None)
    with np.errstate(over="ignore"):
        as_probability = 1 / (1 + np.exp(-result))
    if swapped:
        hint = swapped
    elif not np.all((result >= 0) & (result <= 1)) and np.allclose(as_probability, expected, atol=1e-4):
        hint = ("predict_sentiment returns the model's raw outputs, logits: turn them into probabilities, "
                "positive_probability(model, predictions) (or keras.ops.sigmoid(predictions))")
    elif np.all(np.isin(result, (0.0, 1.0))):
        hint = "return the probabilities themselves, not 0/1 classes"
    elif np.allclose(result, 1 - expected, atol=1e-4):
        hint = "that is the probability of NEGATIVE: for a two-unit softmax the positive class is column 1"
    else:
        hint = ("encode each text with encode_review(text, word_index, num_words=num_words), multi-hot encode "
                "them with num_words columns, then take the model's probability of positive")
    return incorrect(f"for {texts[wrong]!r} predict_sentiment gives {result[wrong]:.4f}, the model gives "
                      f"{expected[wrong]:.4f}", hint)


def prediction(predict_sentiment=MISSING, model=MISSING, word_index=MISSING, num_words=MISSING):
    """Check ``predict_sentiment(texts)`` (default: the notebook's) and print the verdict."""
    namespace = caller_namespace()
    values = {name: lookup(value, name, namespace) for name, value in
              (("predict_sentiment", predict_sentiment), ("model", model), ("word_index", word_index),
               ("num_words", num_words))}
    for name in ("word_index", "num_words"):
        if is_missing(values[name]):
            report(not_attempted(f"{name} is not set: run the cells from the top of the notebook"))
            return
    report(check_prediction(**values))


# The grader's half (check.graded): predict_sentiment, run in the kernel on texts drawn after the cells ran, judged
# in the scorer against the exported model's own probabilities.
TITLE = "New reviews: predict_sentiment(texts)"


def draw_texts(rng, num_words, word_index):
    """Return the texts for ``predict_sentiment``, drawn with ``rng`` (``random.Random``) over ``word_index()``,
    or None when the notebook has no usable ``num_words``."""
    if num_words is None or not 4 < num_words <= 10**6:
        return None
    return probe_texts(word_index(), num_words, seed=rng.randrange(2**32))


def read_texts(content):
    """Return the texts as the runner reported them, checked; RecordError for what it cannot have drawn."""
    return [untrusted.text(item, "a text", limit=10**5) for item in untrusted.json_list(content, "texts", 1000)]


def judge_recorded_predictions(evidence):
    """Return the verdict of what ``predict_sentiment`` gave on the drawn texts (``evidence.record``), against the
    exported model's own probabilities (``expected_answers``, with the grader's word index)."""
    texts, record = evidence.inputs, evidence.record
    if evidence.model is None:
        return None
    if texts is None or record is None:
        return not_judged("predict_sentiment was not called (the notebook stopped, or ran out of time, before the "
                          "grader could call it)")
    if record.missing is not None:
        return not_attempted("there is no function predict_sentiment")
    if len(record.calls) != 1:
        return not_judged("the kernel's record of predict_sentiment is damaged")
    call = record.calls[0]
    if call.kind == "not_attempted":
        return not_attempted("predict_sentiment still raises NotImplementedError")
    if call.kind == "raised":
        return predict_sentiment_raised(call.value)
    if call.kind == "shape":  # too large to record: far more numbers than texts, whatever the shape says
        return incorrect(f"predict_sentiment returned shape {call.value} for {len(texts)} texts",
                         "return one probability per text")
    try:
        expected, wrong_rules = expected_answers(evidence.model, texts, evidence.word_index(), evidence.num_words)
    except (ValueError, TypeError) as error:  # the notebook's model, as check_prediction says it
        return incorrect(f"the model cannot predict new texts ({error_name(error)}: {error})",
                         "check.model() says what the model needs")
    return judge_prediction(call.value, expected, texts, wrong_rules)


GRADED = Graded("prediction", TITLE, 1, judge_recorded_predictions, in_scorer=True, probe=Probe(
    "predict_sentiment", draw_texts, lambda texts: [[texts]], read_texts))
