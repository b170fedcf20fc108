"""Read the raw Large Movie Review Dataset and encode it the way Keras's ``imdb.npz`` is encoded."""

import collections
import hashlib
import os
import posixpath
import re
import tarfile
import warnings
import zlib
from pathlib import Path

import numpy as np

from imdb_lab.data.tokenizer import tokenize
from imdb_lab.errors import LabFileNotFoundError, LabValueError
from imdb_lab.files import sha256_file
from imdb_lab.progress import ProgressBar

# Bump when the encoding below changes: caches of older versions are rebuilt.
ENCODER_VERSION = 2

SPLITS = ("train", "test")
LABELS = ("neg", "pos")  # label 0, label 1
LAYOUT = "aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt"
# a review's path inside the archive, once normalised: exactly the layout, at the top of the archive
_REVIEW = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt")
# The longest review of the real data set is 14 KB: a file far above that is not a review, and reading it whole
# (a 300 MB member compresses to 300 KB) would exhaust memory.
MAX_REVIEW_BYTES = 1_000_000


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
        raise LabFileNotFoundError(
            f"IMDB data source {str(path)!r} does not exist: give the path of aclImdb_v1.tar.gz "
            "or of its extracted aclImdb/ folder"
        )
    if path.is_file():
        return "tar", path
    for folder in (path, path / "aclImdb"):
        if all((folder / split / label).is_dir() for split in SPLITS for label in LABELS):
            return "folder", folder
    raise LabValueError(
        f"folder {str(path)!r} does not hold the IMDB reviews: expected {LAYOUT} "
        "(the layout of aclImdb_v1.tar.gz once extracted)"
    )


def fingerprint(kind, path):
    """Return what identifies this version of the source, for a cache key: any change that matters changes it.

    An archive: its size, mtime and the SHA-256 of the whole file, so that no
    edit goes unseen. A folder: the SHA-256 of the sorted list
    of (relative path, size, mtime) of its review files, so moving a review from
    ``pos/`` to ``neg/`` (which keeps its size and mtime) changes it too.
    """
    if kind == "tar":
        stat = path.stat()
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "archive_sha256": sha256_file(path)}
    listing = sorted(f"{split}/{label}/{entry.name}\t{stat.st_size}\t{stat.st_mtime_ns}"
                     for split, label, entry, stat in _folder_entries(path))
    return {"files": len(listing), "listing_sha256": hashlib.sha256("\n".join(listing).encode()).hexdigest()}


def _folder_entries(path):
    """Yield ``(split, label, entry, stat)`` for every review file of an aclImdb folder: regular files only.

    Symbolic links and special files are never followed (a link to a file
    outside the folder, or to /dev/zero, is not a review); they are skipped
    with one warning.
    """
    skipped = []
    for split in SPLITS:
        for label in LABELS:
            with os.scandir(path / split / label) as entries:
                for entry in entries:
                    if not _REVIEW.fullmatch(f"aclImdb/{split}/{label}/{entry.name}"):
                        continue
                    if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                        skipped.append(f"{split}/{label}/{entry.name}")
                        continue
                    yield split, label, entry, entry.stat(follow_symlinks=False)
    if skipped:
        warnings.warn(f"skipped {len(skipped)} review name(s) in {path} that are symbolic links or not regular "
                      f"files (e.g. {skipped[0]}): the lab reads only regular files", RuntimeWarning, stacklevel=3)


def _decode(data, name, source):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LabValueError(
            f"review {name} in {source} is not UTF-8 text ({error.reason} at byte {error.start}): "
            "re-download or re-extract the archive, or fix that file"
        ) from None


def _too_large(name, size, source):
    return LabValueError(
        f"{name} in {source} holds {size:,} bytes, more than any review ({MAX_REVIEW_BYTES:,} bytes at most): "
        "it is not a review of the Large Movie Review Dataset; remove it, or re-download aclImdb_v1.tar.gz"
    )


def _review_key(name):
    """Return ``(split, label, review_id)`` of an archive member name in the layout, else None.

    The name is normalised first (``./aclImdb/...`` and ``x/../aclImdb/...`` are
    ``aclImdb/...``); names elsewhere (``backup/aclImdb/...``) are not reviews.
    """
    normal = posixpath.normpath(name.replace("\\", "/"))
    match = _REVIEW.fullmatch(normal)
    return (match[1], match[2], int(match[3])) if match else None


def iter_reviews(kind, path):
    """Yield ``(split, label, review_id, text)`` for every review of the source, each once, showing progress.

    Only regular files in the layout ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt``
    count. Raises ValueError for a review above ``MAX_REVIEW_BYTES`` (before
    reading it) and for two members that are the same review once their names
    are normalised, naming both.
    """
    title = f"Encoding {path.name}"
    if kind == "folder":
        entries = list(_folder_entries(path))
        progress = ProgressBar(title, len(entries), "files")
        for split, label, entry, stat in entries:
            progress.update(progress.done + 1)
            if stat.st_size > MAX_REVIEW_BYTES:
                raise _too_large(entry.path, stat.st_size, path)
            with open(entry.path, "rb") as file:
                data = file.read(MAX_REVIEW_BYTES + 1)  # the file may have grown since its stat
            if len(data) > MAX_REVIEW_BYTES:
                raise _too_large(entry.path, len(data), path)
            key = _review_key(f"aclImdb/{split}/{label}/{entry.name}")
            yield split, label, key[2], _decode(data, entry.path, path)
        progress.close()
        return
    seen = {}
    try:
        with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            # the compressed bytes read so far measure the progress of a streamed archive
            progress = ProgressBar(title, path.stat().st_size / 1e6, "MB")
            for member in tar:
                progress.update(raw.tell() / 1e6)
                key = _review_key(member.name)
                if key is None or not member.isfile():  # links, folders and devices are not reviews
                    continue
                if key in seen:
                    raise LabValueError(f"archive {str(path)!r} holds the same review twice: {seen[key]!r} and "
                                        f"{member.name!r}; remove one of them, or re-download aclImdb_v1.tar.gz")
                seen[key] = member.name
                if member.size > MAX_REVIEW_BYTES:
                    raise _too_large(member.name, member.size, path)
                data = tar.extractfile(member).read()
                yield key[0], key[1], key[2], _decode(data, member.name, path)
            progress.close()
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise LabValueError(
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
                raise LabValueError(
                    f"{kind} {str(path)!r} has no reviews in aclImdb/{split}/{label}/: "
                    f"expected the layout of aclImdb_v1.tar.gz, {LAYOUT}"
                )
        reviews[split].sort(key=lambda item: item[:2])

    words = list(word_ids)  # in id order
    flat = {split: _concatenate([item[2] for item in reviews[split]]) for split in SPLITS}
    counts = np.bincount(flat["train"][0], minlength=len(words))
    # rank by count, descending, then by the word; a Python sort, not a fixed-width string array, whose every
    # row would be as wide as the longest word (one 5,000-character "word" made that 1.7 GB)
    in_train = sorted(np.flatnonzero(counts).tolist(), key=lambda i: (-counts[i], words[i]))
    order = np.asarray(in_train, dtype=np.int64)
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
