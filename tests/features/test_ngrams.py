"""Tests of imdb_lab/features/ngrams.py: the n-gram vocabulary, features and NB ratios against naive loops."""

from collections import Counter

import numpy as np
import pytest

from imdb_lab.features.ngrams import (
    NgramVocabulary, bigram_vocabulary, nb_log_count_ratio, ngram_features, ngram_vocabulary,
)
from conftest import flat


def naive_vocabulary(sequences, num_words, ngrams, min_count):
    """Return {order: sorted list of kept n-gram tuples}, counted once per review with a loop."""
    kept = {}
    for order in range(2, ngrams + 1):
        counts = Counter()
        for review in sequences:
            counts.update({tuple(review[i:i + order]) for i in range(len(review) - order + 1)})
        kept[order] = sorted(gram for gram, count in counts.items() if count >= min_count)
    return kept


def naive_features(sequences, kept, num_words):
    """Return each review's sorted feature ids, built with loops from ``naive_vocabulary``'s output."""
    ids = {}
    next_id = num_words
    for order in sorted(kept):
        for gram in kept[order]:
            ids[gram] = next_id
            next_id += 1
    out = []
    for review in sequences:
        features = set(review)
        for order in kept:
            features |= {ids[tuple(review[i:i + order])] for i in range(len(review) - order + 1)
                         if tuple(review[i:i + order]) in ids}
        out.append(sorted(features))
    return out


def random_reviews(seed, n=60, num_words=12, max_len=15):
    rng = np.random.default_rng(seed)
    # small vocabulary and some empty / one-word reviews, so n-grams repeat and edge cases occur
    return [rng.integers(0, num_words, size=rng.integers(0, max_len)).tolist() for _ in range(n)]


@pytest.mark.parametrize("ngrams, min_count", [(1, 1), (2, 1), (2, 3), (3, 2)])
def test_vocabulary_and_features_match_naive_loops(ngrams, min_count):
    train, test = random_reviews(0), random_reviews(1)
    vocabulary = ngram_vocabulary(flat(train), 12, ngrams, min_count=min_count)
    kept = naive_vocabulary(train, 12, ngrams, min_count)
    assert vocabulary.num_features == 12 + sum(len(g) for g in kept.values())
    for reviews in (train, test):
        features = ngram_features(flat(reviews), vocabulary)
        assert features.sequences().tolist() == naive_features(reviews, kept, 12)


@pytest.mark.parametrize("ngrams", [2, 3])
def test_chunks_of_reviews_give_the_same_vocabulary_and_features(monkeypatch, ngrams):
    # the encoders work a chunk of reviews at a time; chunks of 7 of 60 reviews must change nothing
    from imdb_lab.data import reviews

    train, test = random_reviews(2), random_reviews(3)
    kept = naive_vocabulary(train, 12, ngrams, 2)
    monkeypatch.setattr(reviews, "CHUNK", 7)
    vocabulary = ngram_vocabulary(flat(train), 12, ngrams, min_count=2)
    assert vocabulary.num_features == 12 + sum(len(g) for g in kept.values())
    features = ngram_features(flat(test, labels=list(range(60))), vocabulary)
    assert features.sequences().tolist() == naive_features(test, kept, 12)
    assert features.labels.tolist() == list(range(60))


def test_plain_sequences_are_accepted_and_labels_kept():
    reviews = random_reviews(2)
    vocabulary = ngram_vocabulary(reviews, 12, 2)
    from_lists = ngram_features(reviews, vocabulary)
    from_flat = ngram_features(flat(reviews, [1] * len(reviews)), vocabulary)
    assert from_lists.sequences().tolist() == from_flat.sequences().tolist()
    assert (from_flat.labels == 1).all() and (from_lists.labels == -1).all()


def test_vocabulary_comes_from_train_only():
    train = flat([[1, 4, 5], [1, 4, 5, 6]])
    vocabulary = bigram_vocabulary(train, 10, min_count=1)
    # bigrams (1,4) (4,5) (5,6): ids 10, 11, 12 in code order; (7, 8) only occurs in "test"
    assert vocabulary.num_features == 13
    features = ngram_features(flat([[1, 7, 8], [4, 5]]), vocabulary)
    assert features.sequences().tolist() == [[1, 7, 8], [4, 5, 11]]


def test_min_count_counts_reviews_not_occurrences():
    vocabulary = bigram_vocabulary(flat([[4, 5, 4, 5], [6]]), 10, min_count=2)
    assert vocabulary.num_features == 10  # (4,5) twice but in one review only


def test_max_ngrams_keeps_the_most_frequent():
    train = flat([[4, 5, 6], [4, 5], [4, 5, 7], [5, 6]])
    vocabulary = bigram_vocabulary(train, 10, min_count=1, max_bigrams=2)
    assert [c.tolist() for c in vocabulary.codes] == [[4 * 10 + 5, 5 * 10 + 6]]


def test_no_ngram_across_two_reviews():
    vocabulary = bigram_vocabulary(flat([[4, 5, 6, 7]]), 10, min_count=1)
    # (5, 6) is known, but here 5 ends one review and 6 starts the next
    features = ngram_features(flat([[4, 5], [6, 7]]), vocabulary)
    assert features.sequences().tolist() == [[4, 5, 10], [6, 7, 12]]


def test_empty_and_one_word_reviews():
    vocabulary = bigram_vocabulary(flat([[], [3], [3, 4]]), 5, min_count=1)
    assert vocabulary.num_features == 6
    features = ngram_features(flat([[], [3], [], [3, 4]]), vocabulary)
    assert features.sequences().tolist() == [[], [3], [], [3, 4, 5]]
    assert ngram_features(flat([]), vocabulary).offsets.tolist() == [0]


def test_metadata_round_trip_is_json():
    import json

    vocabulary = ngram_vocabulary(random_reviews(3), 12, 3)
    again = NgramVocabulary.from_metadata(json.loads(json.dumps(vocabulary.to_metadata())))
    assert again.num_words == 12 and [c.tolist() for c in again.codes] == [c.tolist() for c in vocabulary.codes]
    with pytest.raises(ValueError, match="n-gram metadata"):
        NgramVocabulary.from_metadata({"kind": "multi_hot"})


@pytest.mark.parametrize("call, error, match", [
    (lambda: ngram_vocabulary([[1, 2]], 0), ValueError, "num_words"),
    (lambda: ngram_vocabulary([[1, 2]], 2.5), TypeError, "num_words"),
    (lambda: ngram_vocabulary([[1, 2]], 10, 4), ValueError, "ngrams"),
    (lambda: ngram_vocabulary([[1, 2]], 10, min_count=0), ValueError, "min_count"),
    (lambda: ngram_vocabulary([[1, 12]], 10), ValueError, "load_data\\(num_words=10\\)"),
    (lambda: ngram_vocabulary([[1, -1]], 10), ValueError, "must not be negative, found -1 in train"),
    (lambda: ngram_vocabulary("a review", 10), TypeError, "FlatReviews"),
    (lambda: ngram_vocabulary([["a", "b"]], 10), TypeError, "integer"),
    (lambda: ngram_vocabulary([[1, 2]], 10**7, 3), ValueError, "too large"),
    (lambda: ngram_features([[1, 2]], {"kind": "ngrams"}), TypeError, "NgramVocabulary"),
    (lambda: nb_log_count_ratio(flat([[1]], [2]), 5), ValueError, "labels 0"),
])
def test_bad_arguments_are_rejected(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_nb_log_count_ratio_matches_formula():
    features = flat([[0, 1], [1, 2], [2]], [1, 1, 0])
    p = np.array([1, 2, 1, 0]) + 1.0
    q = np.array([0, 0, 1, 0]) + 1.0
    expected = np.log(p / p.sum()) - np.log(q / q.sum())
    np.testing.assert_allclose(nb_log_count_ratio(features, 4), expected, rtol=1e-6)
