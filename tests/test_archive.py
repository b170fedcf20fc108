"""Tests of imdb_lab/archive.py: reading the raw archive and ranking its words."""

import collections

import numpy as np
import pytest

from conftest import LABELS, SPLITS, write_archive, write_folder
from imdb_lab import archive
from test_text import naive_tokenize


def reference_encoding(reviews):
    """Encode ``reviews`` with plain Python: train-only ranks by (count desc, word), unknown test words dropped."""
    counts = collections.Counter()
    for label in LABELS:
        for text in reviews[("train", label)]:
            counts.update(naive_tokenize(text))
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    rank = {word: r for r, word in enumerate(ranked, start=1)}
    encoded = {}
    for split in SPLITS:
        encoded[split] = [
            (LABELS.index(label), [rank[w] for w in naive_tokenize(text) if w in rank])
            for label in LABELS
            for text in reviews[(split, label)]
        ]
    return ranked, encoded


def as_lists(encoded, split):
    tokens, offsets = encoded.tokens[split], encoded.offsets[split]
    return [(int(label), tokens[a:b].tolist()) for label, a, b in zip(encoded.labels[split], offsets[:-1], offsets[1:])]


def test_encoding_matches_a_plain_python_reference(tiny_reviews, tiny_archive):
    words, expected = reference_encoding(tiny_reviews)
    encoded = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    assert encoded.words == words
    for split in SPLITS:
        assert as_lists(encoded, split) == expected[split]


def test_test_words_never_seen_in_train_are_dropped(tmp_path):
    reviews = {(s, l): ["common words here"] for s in SPLITS for l in LABELS}
    reviews[("test", "pos")] = ["common zebra words"]
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews)))
    assert "zebra" not in encoded.words
    assert as_lists(encoded, "test")[1][1] == [encoded.words.index("common") + 1, encoded.words.index("words") + 1]


def test_ties_are_broken_by_the_word_whatever_the_file_order(tmp_path):
    reviews = {(s, l): ["b a c", "c b a"] for s in SPLITS for l in LABELS}
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews)))
    assert encoded.words == ["a", "b", "c"]


def test_folder_and_archive_give_the_same_encoding(tmp_path, tiny_reviews, tiny_archive):
    folder = write_folder(tmp_path, tiny_reviews)
    from_tar = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    for path in (folder, tmp_path):  # the aclImdb folder itself, or the folder holding it
        from_folder = archive.encode_dataset(*archive.find_dataset(path))
        assert from_folder.words == from_tar.words
        for split in SPLITS:
            np.testing.assert_array_equal(from_folder.tokens[split], from_tar.tokens[split])
            np.testing.assert_array_equal(from_folder.offsets[split], from_tar.offsets[split])


def test_reviews_are_ordered_by_label_then_id(tmp_path):
    reviews = {(s, l): [f"{l} review {i}" for i in range(12)] for s in SPLITS for l in LABELS}
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews)))
    assert encoded.labels["train"].tolist() == [0] * 12 + [1] * 12
    # id 10 sorts after id 9 (numeric, not text, order)
    first_words = [encoded.words[t - 1] for t in encoded.tokens["train"][encoded.offsets["train"][:-1] + 2]]
    assert first_words[:12] == [str(i) for i in range(12)]


def test_missing_source_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.tar.gz.*does not exist"):
        archive.find_dataset(tmp_path / "nowhere.tar.gz")


def test_folder_without_the_layout_is_rejected(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"aclImdb/\{train,test\}/\{pos,neg\}"):
        archive.find_dataset(tmp_path)


def test_archive_missing_a_folder_is_rejected(tmp_path):
    reviews = {(s, l): ["a review"] for s in SPLITS for l in LABELS}
    del reviews[("test", "neg")]
    path = write_archive(tmp_path / "a.tar.gz", reviews)
    with pytest.raises(ValueError, match="no reviews in aclImdb/test/neg/"):
        archive.encode_dataset(*archive.find_dataset(path))


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_archive_is_reported(tmp_path, tiny_archive, keep):
    data = tiny_archive.read_bytes()
    path = tmp_path / "truncated.tar.gz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupt.*download"):
        archive.encode_dataset(*archive.find_dataset(path))


def test_file_that_is_not_an_archive_is_reported(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not an archive")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        archive.encode_dataset(*archive.find_dataset(path))


def test_review_that_is_not_utf8_is_named(tmp_path):
    reviews = {(s, l): ["fine"] for s in SPLITS for l in LABELS}
    path = write_archive(tmp_path / "a.tar.gz", reviews, extra={"aclImdb/train/pos/7_9.txt": b"caf\xe9"})
    with pytest.raises(ValueError, match=r"aclImdb/train/pos/7_9\.txt.*not UTF-8"):
        archive.encode_dataset(*archive.find_dataset(path))


def test_other_files_of_the_original_archive_are_ignored(tmp_path):
    reviews = {(s, l): ["a review"] for s in SPLITS for l in LABELS}
    extra = {"aclImdb/train/unsup/0_0.txt": b"unlabelled", "aclImdb/train/labeledBow.feat": b"1 0:1",
             "aclImdb/imdb.vocab": b"the\n"}
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews, extra)))
    assert encoded.words == ["a", "review"]
    assert len(encoded.labels["train"]) == 2
