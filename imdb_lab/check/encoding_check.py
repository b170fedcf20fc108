"""The multi-hot encoding exercise: ``check.encoding()``, against a naive loop."""

import numpy as np

from imdb_lab.check.core import MISSING, caller_namespace, correct, incorrect, is_missing, lookup, not_attempted, report
from imdb_lab.data.reviews import object_array
from imdb_lab.errors import error_name


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
