"""Tests of imdb_lab/data/archive.py: reading the raw archive and ranking its words."""

import collections
from pathlib import Path

import numpy as np
import pytest

from conftest import LABELS, SPLITS, write_archive, write_folder
from imdb_lab.data import archive
from imdb_lab.errors import LabValueError
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
    return [(int(label), tokens[a:b].tolist())
            for label, a, b in zip(encoded.labels[split], offsets[:-1], offsets[1:], strict=True)]


def test_encoding_matches_a_plain_python_reference(tiny_reviews, tiny_archive):
    words, expected = reference_encoding(tiny_reviews)
    encoded = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    assert encoded.words == words
    for split in SPLITS:
        assert as_lists(encoded, split) == expected[split]


def test_test_words_never_seen_in_train_are_dropped(tmp_path):
    reviews = {(s, label): ["common words here"] for s in SPLITS for label in LABELS}
    reviews[("test", "pos")] = ["common zebra words"]
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews)))
    assert "zebra" not in encoded.words
    assert as_lists(encoded, "test")[1][1] == [encoded.words.index("common") + 1, encoded.words.index("words") + 1]


def test_ties_are_broken_by_the_word_whatever_the_file_order(tmp_path):
    reviews = {(s, label): ["b a c", "c b a"] for s in SPLITS for label in LABELS}
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
    reviews = {(s, label): [f"{label} review {i}" for i in range(12)] for s in SPLITS for label in LABELS}
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
    reviews = {(s, label): ["a review"] for s in SPLITS for label in LABELS}
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
    reviews = {(s, label): ["fine"] for s in SPLITS for label in LABELS}
    path = write_archive(tmp_path / "a.tar.gz", reviews, extra={"aclImdb/train/pos/7_9.txt": b"caf\xe9"})
    with pytest.raises(ValueError, match=r"aclImdb/train/pos/7_9\.txt.*not UTF-8"):
        archive.encode_dataset(*archive.find_dataset(path))


def test_other_files_of_the_original_archive_are_ignored(tmp_path):
    reviews = {(s, label): ["a review"] for s in SPLITS for label in LABELS}
    extra = {"aclImdb/train/unsup/0_0.txt": b"unlabelled", "aclImdb/train/labeledBow.feat": b"1 0:1",
             "aclImdb/imdb.vocab": b"the\n"}
    encoded = archive.encode_dataset(*archive.find_dataset(write_archive(tmp_path / "a.tar.gz", reviews, extra)))
    assert encoded.words == ["a", "review"]
    assert len(encoded.labels["train"]) == 2


# ---------------------------------------------------------------- hostile and odd input

def test_a_member_far_larger_than_any_review_is_refused_before_it_is_read(tmp_path, tiny_reviews, monkeypatch):
    # 20 MB of one word compresses to ~20 KB: the declared size gives it away before a byte is read
    extra = {"aclImdb/train/pos/9999_9.txt": b"great " * 3_500_000}
    path = write_archive(tmp_path / "a.tar.gz", tiny_reviews, extra)
    assert path.stat().st_size < 200_000
    read = []
    original = archive.tarfile.TarFile.extractfile
    monkeypatch.setattr(archive.tarfile.TarFile, "extractfile",
                        lambda self, member: read.append(member.name) or original(self, member))
    with pytest.raises(LabValueError, match=r"aclImdb/train/pos/9999_9\.txt in .* holds 21,000,000 bytes, more than "
                                         r"any review \(1,000,000 bytes at most\)"):
        archive.encode_dataset(*archive.find_dataset(path))
    assert "aclImdb/train/pos/9999_9.txt" not in read


def test_a_huge_file_in_a_folder_is_refused_naming_it(tmp_path, tiny_reviews):
    folder = write_folder(tmp_path, tiny_reviews)
    (folder / "test" / "neg" / "77_1.txt").write_bytes(b"x" * (archive.MAX_REVIEW_BYTES + 1))
    with pytest.raises(LabValueError, match=r"77_1\.txt in .* more than any review"):
        archive.encode_dataset(*archive.find_dataset(folder))


@pytest.mark.parametrize("second", ["x/../aclImdb/train/pos/0_8.txt", "./aclImdb/train/pos/0_8.txt"])
def test_the_same_review_under_two_names_is_an_error_naming_both(tmp_path, tiny_reviews, second):
    path = write_archive(tmp_path / "a.tar.gz", tiny_reviews, {second: b"great great"})
    with pytest.raises(ValueError, match=rf"the same review twice: 'aclImdb/train/pos/0_8\.txt' and '{second}'"):
        archive.encode_dataset(*archive.find_dataset(path))


def test_reviews_outside_the_layout_are_not_counted(tmp_path, tiny_reviews, tiny_archive):
    extra = {"backup/aclImdb/train/pos/0_8.txt": b"zebra", "aclImdb/train/pos/extra/5_8.txt": b"zebra",
             "aclImdb/train/unsup/5_0.txt": b"zebra"}
    path = write_archive(tmp_path / "a.tar.gz", tiny_reviews, extra)
    encoded = archive.encode_dataset(*archive.find_dataset(path))
    plain = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    assert "zebra" not in encoded.words and encoded.words == plain.words
    assert all(np.array_equal(encoded.tokens[s], plain.tokens[s]) for s in SPLITS)


def test_a_folder_source_never_follows_links_or_reads_special_files(tmp_path, tiny_reviews):
    folder = write_folder(tmp_path / "data", tiny_reviews)
    outside = tmp_path / "secret.txt"
    outside.write_text("zebra zebra zebra")
    (folder / "train" / "pos" / "900_9.txt").symlink_to(outside)
    (folder / "train" / "neg" / "901_1.txt").symlink_to("/dev/zero")
    with pytest.warns(RuntimeWarning, match=r"skipped 2 review name\(s\) .* symbolic links or not regular files"):
        encoded = archive.encode_dataset(*archive.find_dataset(folder))
    assert "zebra" not in encoded.words
    assert len(encoded.labels["train"]) == 12  # the 6 + 6 real reviews only


def test_moving_a_review_between_folders_changes_the_fingerprint(tmp_path, tiny_reviews):
    folder = write_folder(tmp_path, tiny_reviews)
    before = archive.fingerprint("folder", folder)
    # os.replace keeps the size and the mtime, as `mv` does: only the path changes
    (folder / "train" / "pos" / "0_8.txt").replace(folder / "train" / "neg" / "0_8.txt")
    assert archive.fingerprint("folder", folder) != before


def test_an_archive_edited_in_place_with_the_same_size_and_mtime_changes_the_fingerprint(tmp_path, tiny_archive):
    import os
    import shutil

    path = shutil.copy(tiny_archive, tmp_path / "a.tar.gz")
    before = archive.fingerprint("tar", archive.find_dataset(path)[1])
    stat = os.stat(path)
    data = bytearray(open(path, "rb").read())
    data[-100] ^= 0xFF
    open(path, "wb").write(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = archive.fingerprint("tar", archive.find_dataset(path)[1])
    assert (after["size"], after["mtime_ns"]) == (before["size"], before["mtime_ns"]) and after != before


# the peak is VmHWM of this process's own memory: ru_maxrss would also count the RSS of the (large) pytest
# process it was forked from, which Linux carries over exec
MEMORY_SCRIPT = """
import re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from imdb_lab.data import archive
encoded = archive.encode_dataset(*archive.find_dataset(sys.argv[1]))
status = open("/proc/self/status").read()
print(len(encoded.words), int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from Linux's /proc")
def test_one_very_long_word_does_not_blow_up_the_memory_of_ranking(tmp_path):
    import os
    import subprocess
    import sys

    # 30,000 distinct words and one of 5,000 characters: a fixed-width string array of them would take
    # 30,000 x 5,000 x 4 bytes = 600 MB; ranking them must stay near what the words themselves take
    words = [f"w{i}" for i in range(30_000)]
    reviews = {(split, label): [" ".join(words[i::4]) for i in range(4)] for split in SPLITS for label in LABELS}
    reviews[("train", "pos")][0] += " " + "a" * 5_000
    path = write_archive(tmp_path / "a.tar.gz", reviews)
    limit = 1_000_000_000  # address space, so that a regression fails here instead of exhausting the machine
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path), str(limit)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    num_words, peak_mb = map(int, result.stdout.split())
    assert num_words == 30_001
    assert peak_mb < 300, f"peak {peak_mb} MB"
