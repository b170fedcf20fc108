"""Going further: n-gram features of the reviews (NumPy only), and the naive-Bayes ratios that weight them.

A review becomes a ``FlatReviews`` of *feature ids*: its word indices below
``num_words`` (the unigrams) plus, for every n-gram of consecutive indices
found in the vocabulary, ``num_words + rank`` of that n-gram. The vocabulary
is built from the training reviews only. ``imdb_lab.models.ngram`` trains a Keras model
on these ids.
"""

from typing import NamedTuple

import numpy as np

from imdb_lab.arguments import valid_int, valid_number
from imdb_lab.data.reviews import FlatReviews, as_flat, sorted_unique, valid_indices
from imdb_lab.errors import LabTypeError, LabValueError

__all__ = ["NgramVocabulary", "ngram_vocabulary", "bigram_vocabulary", "ngram_features", "nb_log_count_ratio"]

MAX_ORDER = 3  # trigram codes of a 88,000-word vocabulary still fit an int64


class NgramVocabulary(NamedTuple):
    """The n-grams a model knows: ``codes[k - 2]`` holds the sorted codes of the kept k-grams.

    The code of the k-gram ``(w1, ..., wk)`` is ``w1 * num_words**(k-1) + ... + wk``; its
    feature id is ``num_words`` plus its position among all kept n-grams (bigrams first).
    """

    num_words: int
    codes: tuple

    @property
    def ngrams(self):
        """Return the highest n-gram order (1: unigrams only)."""
        return len(self.codes) + 1

    @property
    def num_features(self):
        """Return the width of the feature vectors: ``num_words`` plus the number of kept n-grams."""
        return self.num_words + sum(len(c) for c in self.codes)

    def to_metadata(self):
        """Return a JSON-friendly dict (plain ints and lists) that ``from_metadata`` reads back."""
        return {"kind": "ngrams", "num_words": int(self.num_words), "ngrams": int(self.ngrams),
                "codes": [c.tolist() for c in self.codes]}

    @classmethod
    def from_metadata(cls, metadata):
        """Return the vocabulary stored by ``to_metadata``."""
        if not isinstance(metadata, dict) or metadata.get("kind") != "ngrams":
            raise LabValueError("not n-gram metadata: expected the dict that NgramVocabulary.to_metadata returns")
        return cls(int(metadata["num_words"]), tuple(np.asarray(c, dtype=np.int64) for c in metadata["codes"]))


def _as_flat(reviews, name="reviews"):
    """Return ``(tokens int64, offsets int64, labels or None)`` of a FlatReviews or a list of sequences."""
    flat = as_flat(reviews, name)
    return flat.tokens.astype(np.int64, copy=False), flat.offsets, flat.labels


def _ngram_codes(tokens, offsets, num_words, order):
    """Return ``(codes, rows)``: the code of every k-gram inside one review, and that review's position."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    count = len(tokens) - order + 1
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # an n-gram is kept only if its first and last word belong to the same review
    inside = rows[:count] == rows[order - 1:]
    codes = tokens[:count][inside]
    for k in range(1, order):
        codes = codes * num_words + tokens[k:k + count][inside]
    return codes, rows[:count][inside]


def ngram_vocabulary(train, num_words, ngrams=2, *, min_count=2, max_ngrams=None):
    """Return the ``NgramVocabulary`` of n-grams (orders 2..ngrams) found in >= min_count TRAIN reviews.

    Args:
        train: the training reviews (``FlatReviews``).
        num_words: the word vocabulary's size.
        ngrams: the longest n-gram kept.
        min_count: the fewest training reviews an n-gram must occur in.
        max_ngrams: keep at most this many, the most frequent (None: all).
    """
    num_words = valid_int("num_words", num_words, 1)
    ngrams = valid_int("ngrams", ngrams, 1, hint=f"from 1 to {MAX_ORDER}")
    if ngrams > MAX_ORDER:
        raise LabValueError(f"ngrams must be from 1 (unigrams only) to {MAX_ORDER}, got {ngrams}")
    if num_words ** ngrams >= 2 ** 62:
        raise LabValueError(f"num_words={num_words} is too large for {ngrams}-gram codes: use a smaller num_words")
    min_count = valid_int("min_count", min_count, 1)
    if max_ngrams is not None:
        max_ngrams = valid_int("max_ngrams", max_ngrams, 0, hint="(or None for no limit)")
    flat = as_flat(train, "train")
    valid_indices(flat.tokens, num_words, "train")
    per_order = []
    for order in range(2, ngrams + 1):
        # document frequency: each n-gram counted once per review, a chunk of reviews at a time
        distinct = np.concatenate([np.zeros(0, np.int64)] + [
            _distinct_per_review(*_ngram_codes(chunk.tokens.astype(np.int64), chunk.offsets, num_words, order),
                                 num_words ** order)
            for _, chunk in flat.chunks()])
        distinct.sort()
        starts = np.flatnonzero(np.r_[True, distinct[1:] != distinct[:-1]])
        counts = np.diff(np.r_[starts, len(distinct)])
        keep = counts >= min_count
        per_order.append((distinct[starts][keep], counts[keep]))
    if max_ngrams is not None and sum(len(c) for c, _ in per_order) > max_ngrams:
        # the most frequent n-grams of all orders; ties go to the lower order, then the lower code
        counts = np.concatenate([n for _, n in per_order])
        order_of = np.concatenate([np.full(len(c), i) for i, (c, _) in enumerate(per_order)])
        chosen = np.lexsort((np.arange(len(counts)), order_of, -counts))[:max_ngrams]
        mask = np.zeros(len(counts), dtype=bool)
        mask[chosen] = True
        bounds = np.cumsum([0] + [len(c) for c, _ in per_order])
        per_order = [(c[mask[bounds[i]:bounds[i + 1]]], None) for i, (c, _) in enumerate(per_order)]
    return NgramVocabulary(num_words, tuple(np.ascontiguousarray(c, dtype=np.int64) for c, _ in per_order))


def _distinct_per_review(codes, rows, span):
    """Return the codes of each review once (``rows``: each code's review; ``span``: the number of codes)."""
    if span < 2 ** 63 // max(int(rows.max(initial=0)) + 1, 1):
        return sorted_unique(rows * span + codes) % span
    # (review, code) does not fit one int64 key
    order = np.lexsort((codes, rows))
    codes, rows = codes[order], rows[order]
    keep = np.r_[True, (codes[1:] != codes[:-1]) | (rows[1:] != rows[:-1])]
    return codes[keep]


def bigram_vocabulary(train, num_words, *, min_count=2, max_bigrams=None):
    """Return the ``NgramVocabulary`` of the bigrams found in at least ``min_count`` TRAIN reviews."""
    return ngram_vocabulary(train, num_words, 2, min_count=min_count, max_ngrams=max_bigrams)


def ngram_features(reviews, vocabulary):
    """Return a ``FlatReviews`` of feature ids: each review's unigrams plus its known n-grams, sorted, once each."""
    if not isinstance(vocabulary, NgramVocabulary):
        raise LabTypeError("vocabulary must be the NgramVocabulary that ngram_vocabulary(train, ...) returns, "
                           f"got {type(vocabulary).__name__}")
    flat = as_flat(reviews)
    valid_indices(flat.tokens, vocabulary.num_words, "reviews")
    ids, lengths = [], []
    for _, chunk in flat.chunks():
        chunk_ids, chunk_offsets = _features_of(chunk.tokens.astype(np.int64), chunk.offsets, vocabulary)
        ids.append(chunk_ids)
        lengths.append(np.diff(chunk_offsets))
    offsets = np.zeros(len(flat) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.zeros(0, np.int64), *lengths]), out=offsets[1:])
    labels = np.full(len(flat), -1, dtype=np.int64) if flat.labels is None else np.asarray(flat.labels, np.int64)
    return FlatReviews(np.concatenate([np.zeros(0, np.int32), *ids]), offsets, labels)


def _features_of(tokens, offsets, vocabulary):
    """Return ``(feature ids int32, offsets)`` of some reviews: each one's unigrams and known n-grams, once each."""
    num_words = vocabulary.num_words
    n = len(offsets) - 1
    ids = [tokens]
    rows = [np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))]
    first_id = num_words
    for order, known in enumerate(vocabulary.codes, start=2):
        codes, code_rows = _ngram_codes(tokens, offsets, num_words, order)
        if len(known):
            position = np.minimum(np.searchsorted(known, codes), len(known) - 1)
            found = known[position] == codes
            ids.append(position[found] + first_id)
            rows.append(code_rows[found])
        first_id += len(known)
    # one key per (review, feature): sorting groups each review's features, in order, and drops repeats
    keys = sorted_unique(np.concatenate(rows) * first_id + np.concatenate(ids))
    feature_rows, feature_ids = np.divmod(keys, first_id)
    return feature_ids.astype(np.int32), np.searchsorted(feature_rows, np.arange(n + 1, dtype=np.int64))


def nb_log_count_ratio(features, num_features, alpha=1.0):
    """Return NBSVM's log-count ratio r (float32, one per feature) of binary features with labels 0/1."""
    tokens, offsets, labels = _as_flat(features, "features")
    num_features = valid_int("num_features", num_features, 1)
    valid_indices(tokens, num_features, "features")
    if labels is None or not np.isin(np.asarray(labels), (0, 1)).all():
        raise LabValueError("features must be a FlatReviews with labels 0 (negative) / 1 (positive), "
                            "e.g. ngram_features(train, vocabulary) of labelled training reviews")
    alpha = valid_number("alpha (the smoothing count)", alpha, low=0, include_low=False)
    positive = np.repeat(np.asarray(labels) == 1, np.diff(offsets))
    p = np.bincount(tokens[positive], minlength=num_features) + float(alpha)
    q = np.bincount(tokens[~positive], minlength=num_features) + float(alpha)
    return (np.log(p / p.sum()) - np.log(q / q.sum())).astype(np.float32)
