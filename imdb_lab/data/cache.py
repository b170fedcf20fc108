"""The on-disk cache of the encoded archive: flat integer arrays, no pickle, checksummed, written atomically.

One build at a time: builders take a lock file beside the cache, so that
concurrent processes wait for the first one and then read its cache, and the
builder removes the temporary files that killed builders left behind. Every
load checks the arrays against the SHA-256 stored with them: a cache that was
damaged, or rewritten by someone else, is rebuilt, never served.
"""

import contextlib
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from imdb_lab.backend import keras_home
from imdb_lab.data.archive import ENCODER_VERSION, SPLITS, Encoded
from imdb_lab.errors import CacheError, LabValueError
from imdb_lab.files import atomic_write

FORMAT = "imdb_lab.cache/2"  # the file format's name, kept when the module moved: caches stay valid
_ARRAYS = [f"{split}_{part}" for split in SPLITS for part in ("tokens", "offsets", "labels")] + ["words"]
_warned_dirs = set()  # unwritable cache folders already warned about, to warn once each


def cache_dir():
    """Return the cache folder: ``$IMDB_LAB_CACHE``, else Keras's ``datasets/`` folder."""
    if os.environ.get("IMDB_LAB_CACHE"):
        return Path(os.environ["IMDB_LAB_CACHE"]).expanduser()
    return keras_home() / "datasets"


def cache_path(source, folder=None):
    """Return the cache file for the data source at ``source``, in ``folder`` (default: ``cache_dir()``)."""
    digest = hashlib.sha256(str(Path(source).resolve()).encode()).hexdigest()[:12]
    return Path(folder or cache_dir()) / f"imdb_lab-{Path(source).name}-{digest}-v{ENCODER_VERSION}.npz"


def _text_array(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def content_digest(arrays):
    """Return the SHA-256 of the named arrays (name, dtype, shape and bytes of each, in ``_ARRAYS`` order)."""
    digest = hashlib.sha256()
    for name in _ARRAYS:
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}\n".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def save(path, encoded, key):
    """Write ``encoded`` to ``path`` atomically, with the checksum of its arrays; raise CacheError if that fails."""
    path = Path(path)
    arrays = {"words": _text_array("\n".join(encoded.words))}
    for split in SPLITS:
        arrays[f"{split}_tokens"] = encoded.tokens[split]
        arrays[f"{split}_offsets"] = encoded.offsets[split]
        arrays[f"{split}_labels"] = encoded.labels[split]
    arrays["meta"] = _text_array(json.dumps({"format": FORMAT, **key, "content_sha256": content_digest(arrays)}))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)
    except OSError as error:  # a read-only folder, or a full disk
        raise CacheError(path.parent, error.strerror or error) from error


def warn_unwritable(error):
    """Warn, once per folder, that the cache could not be written and loads go on without it."""
    if error.folder not in _warned_dirs:
        _warned_dirs.add(error.folder)
        warnings.warn(f"{error}; loading without a cache meanwhile, so each load re-reads the archive",
                      RuntimeWarning, stacklevel=4)


def _check_headers(npz_file):
    """Raise ValueError unless every array header of the npz declares no more bytes than its member holds.

    Read before any array: a header declaring shape (10**12,) would otherwise be
    allocated (a MemoryError) before its data could be found missing.
    """
    with zipfile.ZipFile(npz_file) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
                if dtype.hasobject or int(np.prod(shape, dtype=object)) * dtype.itemsize > info.file_size:
                    raise LabValueError(f"array {info.filename} declares shape {shape}, more than the file holds")


def is_data_file(path):
    """Return True when ``path`` is a data file of this format (a cache, or a prepared file such as the grader's)."""
    try:
        with zipfile.ZipFile(path) as npz:
            return "meta.npy" in npz.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def load_prepared(path):
    """Return the ``Encoded`` data of the prepared file at ``path``, whatever it was built from.

    A prepared file (the grader gives each kernel one) is read as it is, checked
    against its checksum; it cannot be rebuilt, so a damaged one raises
    ``LabValueError``, which says to prepare it again.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoded = load(path, None, stacklevel=3)
    if encoded is None:
        why = str(caught[0].message) if caught else f"{path} is not an imdb-lab data file"
        raise LabValueError(f"{why}; a prepared data file cannot be rebuilt: prepare it again, or point "
                            "IMDB_LAB_DATA at aclImdb_v1.tar.gz")
    return encoded


def load(path, key, *, stacklevel=2):
    """Return the ``Encoded`` data cached at ``path``, or None if it is missing, stale, corrupt or altered.

    ``key``: what the cache must have been built from (``sources.cache_key``);
    None accepts any source (a prepared file), still checked against its checksum.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        _check_headers(path)
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
            stored = meta.pop("content_sha256", None)
            if meta.get("format") != FORMAT or (key is not None and meta != {"format": FORMAT, **key}):
                return None  # another archive, another version of it, or an older encoder
            arrays = {name: npz[name] for name in _ARRAYS}
        if stored != content_digest(arrays):
            raise LabValueError("its arrays do not match their checksum: it was damaged or rewritten")
        words = arrays["words"].tobytes().decode("utf-8").split("\n")
        tokens = {split: arrays[f"{split}_tokens"] for split in SPLITS}
        offsets = {split: arrays[f"{split}_offsets"] for split in SPLITS}
        labels = {split: arrays[f"{split}_labels"] for split in SPLITS}
        for split in SPLITS:
            _check_consistent(tokens[split], offsets[split], labels[split], len(words))
    except (OSError, ValueError, KeyError, EOFError, MemoryError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        warnings.warn(f"ignoring the IMDB data cache {path} ({error}); rebuilding it", RuntimeWarning,
                      stacklevel=stacklevel + 1)
        return None
    return Encoded(tokens, offsets, labels, words)


def _check_consistent(tokens, offsets, labels, num_words):
    """Raise ValueError unless the arrays of one split fit together."""
    if (tokens.ndim != 1 or offsets.ndim != 1 or len(offsets) != len(labels) + 1 or offsets[0] != 0
            or offsets[-1] != len(tokens) or np.any(np.diff(offsets) < 0)):
        raise LabValueError("offsets do not match the tokens")
    if len(tokens) and (tokens.min() < 1 or tokens.max() > num_words):
        raise LabValueError("a word rank is outside the word list")
    if len(labels) and labels.max() > 1:
        raise LabValueError("a label is not 0 or 1")


@contextlib.contextmanager
def build_lock(path):
    """Hold an exclusive lock on ``<cache file>.lock`` while the block runs (waiting for another holder).

    Yields True when locked, False when the folder cannot hold a lock file (then
    nothing is written there anyway). On entry, temporary files that a killed
    builder left beside the cache are removed: only the lock's holder writes one.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a+b")
    except OSError:
        yield False
        return
    with handle:
        _lock(handle)
        try:
            for stale in path.parent.glob(f".{path.name}.*.tmp"):
                stale.unlink(missing_ok=True)
            yield True
        finally:
            _unlock(handle)


if os.name == "nt":
    import msvcrt

    def _lock(handle):
        handle.seek(0)
        while True:  # LK_LOCK gives up after 10 s: keep waiting, as flock does
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock(handle):
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(handle):
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock(handle):
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
