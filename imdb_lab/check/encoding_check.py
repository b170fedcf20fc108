"""The multi-hot encoding exercise: ``check.encoding()``, against a naive loop; and the grader's half (``GRADED``)."""

import numpy as np

from imdb_lab.check.core import (
    MISSING, caller_namespace, correct, incorrect, is_missing, lookup, not_attempted, not_judged, report,
)
from imdb_lab.check.graded import Graded, Probe
from imdb_lab.data.reviews import object_array
from imdb_lab.errors import error_name
from imdb_lab.untrusted import json_list, json_object, text, whole


HINT = ("start from np.zeros((len(sequences), num_words), dtype='float32'); then, for each review i, setting "
        "encoded[i, sequence] = 1.0 sets all of its columns at once (a NumPy index list)")
# the whole TODO cell, as the solutions notebook has it
SOLUTION = '''\
def multi_hot(sequences, num_words):
    """Return a (len(sequences), num_words) float32 array: row i has a 1 at each word index of review i."""
    encoded = np.zeros((len(sequences), num_words), dtype="float32")
    for i, sequence in enumerate(sequences):
        encoded[i, sequence] = 1.0  # a NumPy index list sets all the review's columns at once
    return encoded'''


def reference_multi_hot(sequences, num_words):
    """Return the multi-hot matrix of ``sequences`` by a plain loop: the reference the checks compare with."""
    out = np.zeros((len(sequences), num_words), dtype=np.float64)
    for row, sequence in enumerate(sequences):
        for index in sequence:
            out[row, index] = 1.0
    return out


def _encoding_cases():
    """Return ``[(description, sequences, num_words), ...]``: the lab's example, edge cases and random reviews."""
    rng = np.random.default_rng(2024)
    random_reviews = [rng.integers(0, 37, size=rng.integers(0, 30)).tolist() for _ in range(60)]
    return [
        ("the lab's example multi_hot([[4, 1, 8]], num_words=10)", [[4, 1, 8]], 10),
        ("a review that repeats a word, [[1, 5, 5, 5, 2]] over 8 words", [[1, 5, 5, 5, 2]], 8),
        ("reviews with the first and last index and an empty review, [[0, 9], [], [3]] over 10 words",
         [[0, 9], [], [3]], 10),
        ("60 random reviews over 37 words, as the object array load_data returns", object_array(random_reviews), 37),
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
    if is_missing(multi_hot):
        return not_attempted("there is no function multi_hot yet: write it in the TODO cell above and run that cell")
    if not callable(multi_hot):
        return incorrect(f"multi_hot should be a function, got {type(multi_hot).__name__}",
                          "pass the function itself, check.encoding(multi_hot), not its result")
    for description, sequences, num_words in _encoding_cases():
        try:
            result = multi_hot(sequences, num_words)
        except NotImplementedError:
            return not_attempted("multi_hot still raises NotImplementedError: replace the TODO stub with your code")
        except Exception as error:  # any bug in the learner's code is a verdict, not a crash
            return multi_hot_raised(description, f"{error_name(error)}: {error}")
        verdict = judge_encoding(result, description, sequences, num_words)
        if verdict is not None:
            return verdict
    return correct("multi_hot matches a plain-loop reference on the lab's example, a repeated word, the first "
                    "and last index, an empty review and 60 random reviews.")


def multi_hot_raised(description, error):
    """Return the verdict of a ``multi_hot`` that raised ``error`` (``Name: message``) on ``description``."""
    return incorrect(f"on {description}, multi_hot raised {error}",
                      "sequences is a list (or object array) of reviews, each a list of word indices")


def judge_encoding(result, description, sequences, num_words):
    """Return an "Incorrect:" verdict when ``result`` is not the multi-hot matrix of ``sequences``, else None.

    The grader judges with it too, outside the kernel, on the result the
    learner's ``multi_hot`` gave for sequences the grader drew.
    """
    expected = reference_multi_hot(sequences, num_words)
    try:
        result = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return incorrect(f"on {description}, multi_hot returned a {type(result).__name__}, not an array",
                          "return a NumPy array of 0s and 1s")
    if result.shape != expected.shape:
        return incorrect(f"on {description}, the result has shape {result.shape}, expected {expected.shape}",
                          "one row per review and one column per word index: shape (len(sequences), num_words)")
    if not np.array_equal(result, expected):
        row = int(np.flatnonzero(np.any(result != expected, axis=1))[0])
        has, wanted = np.flatnonzero(result[row]).tolist(), np.flatnonzero(expected[row]).tolist()
        if has == wanted:  # the right columns, wrong values (counts, say)
            found = f"the right columns {wanted} but values {sorted(set(result[row][wanted].tolist()))}, not 1"
        else:
            found = f"non-zero columns {has}, expected 1s in columns {wanted}"
        return incorrect(f"on {description}, row {row} has {found}",
                          _encoding_hint(result, expected, sequences, num_words))
    return None


def encoding(multi_hot=MISSING):
    """Check ``multi_hot(sequences, num_words)`` (default: the notebook's ``multi_hot``) and print the verdict."""
    report(check_encoding(lookup(multi_hot, "multi_hot", caller_namespace())))


# The grader's half (check.graded): multi_hot, run in the kernel on reviews drawn after the cells ran, judged here.
TITLE = "Multi-hot encoding: multi_hot(sequences, num_words)"
# the sets of reviews the grader draws
HIDDEN_CASES = 3


def draw_hidden_cases(rng, num_words=None, word_index=None):
    """Return hidden cases ``[{"description", "sequences", "num_words"}]`` drawn with ``rng`` (``random.Random``).

    Each case has a repeated word, an empty review, and the first and last
    column, among random reviews: the mistakes of ``check_encoding``'s cases,
    on inputs the notebook cannot have seen. ``num_words`` and ``word_index``
    (the notebook's) are not needed: each case has a vocabulary of its own.
    """
    cases = []
    for number in range(1, HIDDEN_CASES + 1):
        size = rng.randrange(12, 60)
        reviews = [[rng.randrange(size) for _ in range(rng.randrange(1, 25))] for _ in range(rng.randrange(4, 12))]
        reviews[0] += [reviews[0][0]] * 2  # a repeated word
        reviews.append([])
        reviews.append([0, size - 1])
        rng.shuffle(reviews)
        cases.append({"description": f"hidden case {number}: {len(reviews)} reviews over {size} words",
                      "sequences": reviews, "num_words": size})
    return cases


def read_hidden_cases(content):
    """Return the hidden cases as the runner reported them, checked; RecordError for what it cannot have drawn."""
    cases = []
    for case in json_list(content, "hidden cases", 100):
        case = json_object(case, "hidden encoding case", ("description", "sequences", "num_words"))
        size = whole(case["num_words"], "num_words", 1, 10**6)
        sequences = [[whole(index, "a word index", 0, size - 1) for index in json_list(review, "a review", 10**4)]
                     for review in json_list(case["sequences"], "sequences", 10**4)]
        cases.append({"description": text(case["description"], "description"), "sequences": sequences,
                      "num_words": size})
    return cases


def judge_hidden_cases(evidence):
    """Return the verdict of the kernel's record of ``multi_hot`` (``evidence.record``) on the hidden cases
    (``evidence.inputs``), against a plain loop; its ``fraction``: the share of the cases it got right."""
    cases, record = evidence.inputs, evidence.record
    if cases is None:
        return None
    if record is None:
        return not_judged("the notebook's kernel recorded nothing of multi_hot (it stopped, or ran out of time, "
                          "before the grader could call it)")
    if record.missing is not None:
        if not record.missing:
            return not_attempted("there is no function multi_hot")
        return incorrect(f"multi_hot should be a function, got {record.missing[:60]}",
                         "define it with def multi_hot(sequences, num_words): ...")
    if len(record.calls) != len(cases):
        return incorrect("multi_hot gave no answer for some of the hidden reviews")
    first_wrong, right = None, 0
    for case, call in zip(cases, record.calls, strict=True):
        if call.kind == "not_attempted":
            return not_attempted("multi_hot still raises NotImplementedError")
        description = case["description"]
        if call.kind == "raised":
            wrong = multi_hot_raised(description, call.value)
        elif call.kind == "shape":  # too large to record: its shape says what went wrong
            wrong = incorrect(f"on {description}, the result has shape {call.value}, expected "
                              f"{(len(case['sequences']), case['num_words'])}",
                              "one row per review and one column per word index: shape (len(sequences), num_words)")
        elif call.kind == "result":
            wrong = judge_encoding(call.value, description, case["sequences"], case["num_words"])
        else:
            wrong = incorrect(f"on {description}, multi_hot returned a {call.value[:60]}, not an array",
                              "return a NumPy array of 0s and 1s")
        right += wrong is None
        first_wrong = first_wrong or wrong
    if first_wrong is not None:
        first_wrong.fraction = right / len(cases)
        return first_wrong
    return correct(f"multi_hot matches a plain-loop reference on {len(cases)} sets of reviews the grader drew after "
                   "the notebook ran.")


GRADED = Graded("encoding", TITLE, 1, judge_hidden_cases, probe=Probe(
    "multi_hot", draw_hidden_cases, lambda cases: [[case["sequences"], case["num_words"]] for case in cases],
    read_hidden_cases))
