"""Read the raw Large Movie Review Dataset and encode it the way Keras's ``imdb.npz`` is encoded."""

import collections
import os
import re
import sys
import tarfile
import time
import zlib
from pathlib import Path

import numpy as np

from imdb_lab.text import tokenize

# Bump when the encoding below changes: caches of older versions are rebuilt.
ENCODER_VERSION = 1

SPLITS = ("train", "test")
LABELS = ("neg", "pos")  # label 0, label 1
LAYOUT = "aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt"
_REVIEW = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


class Encoded:
    """The integer-encoded archive: flat word ranks per split, and the words by rank."""

    def __init__(self, tokens, offsets, labels, words):
        self.tokens = tokens  # {"train": int32 array of ranks (1 = most frequent)}
        self.offsets = offsets  # {"train": int64 array, review i is tokens[o[i]:o[i+1]]}
        self.labels = labels  # {"train": uint8 array of 0/1}
        self.words = words  # list of words, words[r - 1] has rank r


def find_dataset(path):
    """Return ``(kind, path)`` for an ``aclImdb`` source: ("tar", file) or ("folder", the aclImdb folder)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"IMDB data source {str(path)!r} does not exist: give the path of aclImdb_v1.tar.gz "
            "or of its extracted aclImdb/ folder"
        )
    if path.is_file():
        return "tar", path
    for folder in (path, path / "aclImdb"):
        if all((folder / split / label).is_dir() for split in SPLITS for label in LABELS):
            return "folder", folder
    raise ValueError(
        f"folder {str(path)!r} does not hold the IMDB reviews: expected {LAYOUT} "
        "(the layout of aclImdb_v1.tar.gz once extracted)"
    )


def fingerprint(kind, path):
    """Return what identifies this version of the source: for a cache key."""
    if kind == "tar":
        stat = path.stat()
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    count = size = mtime = 0
    for split in SPLITS:
        for label in LABELS:
            with os.scandir(path / split / label) as entries:
                for entry in entries:
                    stat = entry.stat()
                    count, size, mtime = count + 1, size + stat.st_size, max(mtime, stat.st_mtime_ns)
    return {"files": count, "size": size, "mtime_ns": mtime}


class Progress:
    """A one-line progress bar on stderr, redrawn at most twice a second."""

    def __init__(self, title, total, unit):
        self.title, self.total, self.unit, self.done = title, total, unit, 0
        self.start = self.shown = time.monotonic()

    def update(self, done):
        """Record that ``done`` units are done, and redraw the line now and then."""
        self.done = done
        now = time.monotonic()
        if now - self.shown >= 0.5:
            self.shown = now
            self._draw(end="")

    def close(self):
        """Draw the final line."""
        self.done = self.total
        self._draw(end="\n")

    def _draw(self, end):
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bar = "=" * filled + "." * (width - filled)
        elapsed = time.monotonic() - self.start
        print(f"\r{self.title} [{bar}] {self.done:.0f}/{self.total:.0f} {self.unit}, {elapsed:.1f} s",
              end=end, file=sys.stderr)
        sys.stderr.flush()


def _decode(data, name, source):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"review {name} in {source} is not UTF-8 text ({error.reason} at byte {error.start}): "
            "re-download or re-extract the archive, or fix that file"
        ) from None


def iter_reviews(kind, path):
    """Yield ``(split, label, review_id, text)`` for every review of the source, showing progress."""
    title = f"Encoding {path.name}"
    if kind == "folder":
        names = {(split, label): os.listdir(path / split / label) for split in SPLITS for label in LABELS}
        progress = Progress(title, sum(map(len, names.values())), "files")
        for (split, label), files in names.items():
            for name in files:
                progress.update(progress.done + 1)
                match = _REVIEW.search(f"aclImdb/{split}/{label}/{name}")
                if match:
                    file = path / split / label / name
                    yield split, label, int(match[3]), _decode(file.read_bytes(), str(file), path)
        progress.close()
        return
    try:
        with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            # the compressed bytes read so far measure the progress of a streamed archive
            progress = Progress(title, path.stat().st_size / 1e6, "MB")
            for member in tar:
                progress.update(raw.tell() / 1e6)
                match = _REVIEW.search(member.name)
                if match and member.isfile():
                    data = tar.extractfile(member).read()
                    yield match[1], match[2], int(match[3]), _decode(data, member.name, path)
            progress.close()
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise ValueError(
            f"archive {str(path)!r} is truncated or corrupt ({type(error).__name__}: {error}): "
            "download aclImdb_v1.tar.gz again, or point the lab at an extracted aclImdb/ folder"
        ) from None


def encode_dataset(kind, path):
    """Read every review of the source and encode it as Keras's ``imdb.npz`` is encoded.

    Word ranks come from the **train split only**: rank 1 is the most frequent
    word; ties are broken by the word itself (Unicode code point order), so the
    index is the same whatever order the files are stored in. Test words that
    never occur in train are dropped, as in Keras's data. Within a split the
    reviews are ordered negative first, then positive, each by review id.
    """
    word_ids = collections.defaultdict()
    word_ids.default_factory = word_ids.__len__  # a new word gets the next id
    reviews = {split: [] for split in SPLITS}  # (label, id, array of word ids)
    for split, label, review_id, text in iter_reviews(kind, path):
        ids = np.fromiter(map(word_ids.__getitem__, tokenize(text)), dtype=np.int32)
        reviews[split].append((LABELS.index(label), review_id, ids))

    for split in SPLITS:
        for label in LABELS:
            if not any(item[0] == LABELS.index(label) for item in reviews[split]):
                raise ValueError(
                    f"{kind} {str(path)!r} has no reviews in aclImdb/{split}/{label}/: "
                    f"expected the layout of aclImdb_v1.tar.gz, {LAYOUT}"
                )
        reviews[split].sort(key=lambda item: item[:2])

    words = list(word_ids)  # in id order
    flat = {split: _concatenate([item[2] for item in reviews[split]]) for split in SPLITS}
    counts = np.bincount(flat["train"][0], minlength=len(words))
    in_train = np.flatnonzero(counts)
    # rank by count, descending, then by the word: lexsort sorts by its last key first
    order = in_train[np.lexsort((np.array(words, dtype=object)[in_train].astype(str), -counts[in_train]))]
    rank_of_id = np.zeros(len(words), dtype=np.int32)
    rank_of_id[order] = np.arange(1, len(order) + 1, dtype=np.int32)

    tokens, offsets, labels = {}, {}, {}
    for split in SPLITS:
        ranks, split_offsets = flat[split]
        ranks = rank_of_id[ranks]
        kept = ranks > 0  # test words never seen in train have no rank
        cumulative = np.concatenate([[0], np.cumsum(kept)])
        tokens[split] = ranks[kept]
        offsets[split] = cumulative[split_offsets].astype(np.int64)
        labels[split] = np.array([item[0] for item in reviews[split]], dtype=np.uint8)
    return Encoded(tokens, offsets, labels, [words[i] for i in order])


def _concatenate(arrays):
    """Return (flat array, offsets) of a list of 1-D arrays."""
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)
    return flat.astype(np.int32, copy=False), offsets
