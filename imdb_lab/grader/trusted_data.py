"""What the grader trusts, made before any notebook runs: the data from the archive, the test reviews, the scorer.

``prepare_grading_data`` encodes the data from the archive itself (never from
a cache in a shared folder, which an earlier notebook could have rewritten),
writes the test reviews with every word and their SHA-256 (kept in memory),
and scores a model of its own in the clean scoring process, to know that it
works and which files it runs from. Then, after each notebook, the grader
checks that neither the archive, the test reviews nor those files changed
(``check_unchanged``) and gives the next kernel a copy of the data verified on
the way, whose test split is a stand-in drawn from the training reviews
(``without_test_reviews``).
"""

import dataclasses
import hashlib
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from imdb_lab.data import archive, cache, loading, sources
from imdb_lab.data.reviews import FlatReviews
from imdb_lab.errors import GradingDataError
from imdb_lab.files import file_stamp, sha256_file
from imdb_lab.grader.launch import run_scorer, scorer_path
from imdb_lab.grader.scorer import write_test_data
from imdb_lab.grader.statuses import SCORED

# the grader's copy of the test reviews keeps every word; each notebook's num_words is applied when scoring
_ALL_WORDS = 2**31 - 1
_SELF_CHECK_MEMORY = 4 * 2**30
KERNEL_FILE = "imdb_lab-kernel-data.npz"  # the name each kernel's copy of the data has (IMDB_LAB_DATA)
DATA_ALTERED = "the data archive changed"
CODE_ALTERED = "the code the scorer runs from changed"
TEST_ALTERED = "the grader's test reviews changed"


@dataclasses.dataclass
class GradingData:
    """What the grader prepared before any notebook ran: its folder, the data for kernels, the test reviews."""

    folder: Path
    source: Path | None  # the archive or aclImdb folder; None: Keras's imdb.npz
    source_key: dict | None  # the source's fingerprint, to notice a notebook changing it
    kernel_file: Path  # the prepared data file each notebook gets a copy of (without the test reviews)
    kernel_file_sha256: str
    test_path: Path
    test_sha256: str
    code: "CodeSnapshot | None" = None  # the files the scorer runs from, as they were before any notebook

    def copy_kernel_file(self, target):
        """Copy the kernels' data file to ``target``, checking on the way that it is still the grader's."""
        digest = hashlib.sha256()
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with open(self.kernel_file, "rb") as reader, open(target, "wb") as writer:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                digest.update(chunk)
                writer.write(chunk)
        if digest.hexdigest() != self.kernel_file_sha256:
            raise GradingDataError(f"the grader's copy of the data ({self.kernel_file}) changed during grading")

    def check_unchanged(self, notebook):
        """Raise GradingDataError if the archive, the test reviews or the scorer's code changed (while ``notebook``
        ran): the run stops there, naming it, rather than failing every classmate graded after it."""
        try:
            test_changed = sha256_file(self.test_path) != self.test_sha256
        except OSError:
            test_changed = True
        if test_changed:
            raise GradingDataError(f"{TEST_ALTERED} ({self.test_path}) while {notebook} ran")
        if self.source is not None:
            try:
                changed = sources.cache_key(*archive.find_dataset(self.source)) != self.source_key
            except (OSError, ValueError):
                changed = True
            if changed:
                raise GradingDataError(f"{DATA_ALTERED} ({self.source}) while {notebook} ran")
        path = self.code.changed() if self.code is not None else None
        if path is not None:
            raise GradingDataError(f"{CODE_ALTERED} ({path}) while {notebook} ran")


def prepare_grading_data(folder, *, check_scorer=True):
    """Encode the data the grader trusts into ``folder`` (one per run, before any notebook); return GradingData.

    ``check_scorer``: also score a model of our own in the clean process, to
    know it works and which files it runs from (a few seconds: it imports Keras).
    """
    folder = Path(folder)
    source = sources.resolve_source()
    if source is None:  # Keras's download, which keras.utils.get_file checks against its published hash
        encoded = sources.keras_encoded(sources.prepare(), sources.get_word_index())
        key = None
    else:
        kind, dataset = archive.find_dataset(source)
        key = sources.cache_key(kind, dataset)
        encoded = archive.encode_dataset(kind, dataset)
        source = dataset
    # the kernels' data: a prepared file (no archive, no cache to build, no download), its test split a stand-in
    kernel_file = folder / KERNEL_FILE
    cache.save(kernel_file, without_test_reviews(encoded), {"prepared": "kernel data of imdb-lab grade"})
    _, test = loading.flat_splits(encoded, num_words=_ALL_WORDS)
    del encoded
    test_path = folder / "test.npz"
    prepared = GradingData(folder, source, key, kernel_file, sha256_file(kernel_file), test_path,
                           write_test_data(test, test_path))
    if check_scorer:
        prepared.code = _check_scorer(prepared)
    return prepared


def without_test_reviews(encoded, seed=0):
    """Return ``encoded`` as the kernels get it: its test split a stand-in drawn from the training reviews.

    As many reviews as the test split (without repeats while there are enough
    training reviews), with their labels, so that a notebook runs as it would:
    training on "the test reviews" is then training on training reviews. Only
    the grader's ``test.npz`` holds the real ones.
    """
    train = FlatReviews(encoded.tokens["train"], encoded.offsets["train"], encoded.labels["train"])
    count = len(encoded.offsets["test"]) - 1
    picked = np.random.default_rng(seed).choice(len(train), size=count, replace=count > len(train))
    stand_in = train.take(picked)
    return archive.Encoded({**encoded.tokens, "test": stand_in.tokens},
                           {**encoded.offsets, "test": stand_in.offsets},
                           {**encoded.labels, "test": stand_in.labels}, encoded.words)


def _check_scorer(data):
    """Score a model of our own in the clean process; return a CodeSnapshot of the files the scorer ran from."""
    folder = data.folder / "self-check"
    result = run_scorer(["--self-check", folder, data.test_path, data.test_sha256], folder,
                        time.monotonic() + 600, _SELF_CHECK_MEMORY)
    if result.status != SCORED:
        raise GradingDataError(f"the scorer does not work on this machine ({result.status}): run "
                               "`python -m pytest tests/grader/test_scorer.py` to see why")
    # what it runs from: Python's own files and those on its import path (not the system's C library, nor a
    # temporary file of the check itself)
    roots = tuple(str(Path(root).resolve()) + os.sep for root in {sys.prefix, sys.base_prefix, *scorer_path()})
    files = [path for path in result.files if str(Path(path).resolve()).startswith(roots)]
    folders = {str(Path(path).parent) for path in files} | set(scorer_path())
    return CodeSnapshot(files + interpreter_files(), folders, links=[sys.executable])


def interpreter_files():
    """Return the files that choose the scorer's standard library before it imports anything: ``pyvenv.cfg``.

    Python reads ``pyvenv.cfg`` beside its executable or one folder up; its
    ``home`` says where the standard library is, so a rewritten (or a new) one
    would load another ``json`` or ``os``. Missing ones are watched too.
    """
    executable = Path(sys.executable).absolute()
    return [str(executable.parent / "pyvenv.cfg"), str(executable.parent.parent / "pyvenv.cfg")]


class CodeSnapshot:
    """What the scorer runs from: each file's ``file_stamp`` (missing: None), each folder's entries, and where each
    of ``links`` (the interpreter) leads, to notice any change."""

    def __init__(self, files, folders, links=()):
        self.stamps = {path: file_stamp(path) for path in files}
        self.listings = {folder: self._listing(folder) for folder in folders}
        self.links = {path: os.path.realpath(path) for path in links}

    @staticmethod
    def _listing(folder):
        try:
            return sorted(entry.name for entry in Path(folder).iterdir())
        except OSError:
            return None

    def changed(self):
        """Return the first file or folder that changed since the snapshot, or None."""
        for path, stamp in self.stamps.items():
            if file_stamp(path) != stamp:
                return path
        for folder, listing in self.listings.items():
            if self._listing(folder) != listing:
                return folder
        for path, target in self.links.items():
            if os.path.realpath(path) != target or file_stamp(target) is None:
                return path
        return None


class SharedCache:
    """The user's own data cache: if a notebook rewrote it during grading (unsandboxed), it is removed, to be
    rebuilt."""

    def __init__(self, data):
        self.path = None if data.source is None else cache.cache_path(data.source)
        self.before = self._digest()

    def _digest(self):
        try:
            return None if self.path is None else sha256_file(self.path)
        except OSError:
            return None

    def remove_if_changed(self):
        """Remove the cache if it changed since grading began (the next load rebuilds it); return True if it did."""
        if self.path is None or self._digest() == self.before:
            return False
        self.path.unlink(missing_ok=True)
        warnings.warn(f"a notebook rewrote the data cache {self.path} during grading: it was removed, and the next "
                      "load rebuilds it from the archive", stacklevel=2)
        return True
