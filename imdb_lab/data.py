"""``load_data``: Keras's IMDB data set, downloaded by Keras or encoded from a local copy of the raw archive."""

import difflib
import itertools
import operator
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from imdb_lab import archive, cache
from imdb_lab.arguments import check_index_conventions, check_int
from imdb_lab.backend import choose_backend
from imdb_lab.errors import LabError, LabFileNotFoundError, LabTypeError, LabValueError

ENV_DATA = "IMDB_LAB_DATA"
# Where learners already keep the raw archive: Keras's datasets/ folder, under
# the names that keras.utils.get_file (as in TensorFlow's text tutorial) gives it.
KERAS_CACHE_NAMES = ("aclImdb", "aclImdb_v1.tar.gz", "aclImdb_v1", "aclImdb_v1_extracted", "aclImdb_v1.tar.gz_extracted")
_LOAD_ARGUMENTS = ("num_words", "skip_top", "maxlen", "seed", "start_char", "oov_char", "index_from", "source")
_HOW_TO_GO_OFFLINE = (
    "To work offline, download aclImdb_v1.tar.gz (https://ai.stanford.edu/~amaas/data/sentiment/) once, "
    "then set the environment variable IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz or pass "
    "source='/path/to/aclImdb_v1.tar.gz' (an extracted aclImdb/ folder works too)."
)


class DownloadError(LabError, ConnectionError):
    """Keras could not download the IMDB data; the message says how to work offline."""


class FlatReviews(NamedTuple):
    """Reviews as one flat int32 array plus offsets: review i is ``tokens[offsets[i]:offsets[i + 1]]``."""

    tokens: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray

    def __len__(self):
        """Return the number of reviews."""
        return len(self.offsets) - 1

    def lengths(self):
        """Return the length of every review."""
        return np.diff(self.offsets)

    def sequences(self):
        """Return the reviews as Keras returns them: a 1-D object array of lists of ints."""
        values = self.tokens.tolist()
        bounds = self.offsets.tolist()
        out = np.empty(len(self), dtype=object)
        for i in range(len(self)):
            out[i] = values[bounds[i]:bounds[i + 1]]
        return out

    @classmethod
    def from_sequences(cls, sequences, labels):
        """Return the ``FlatReviews`` of a list (or object array) of integer sequences."""
        flat = as_flat(sequences)
        return cls(flat.tokens.astype(np.int32), flat.offsets, np.asarray(labels, dtype=np.int64))

    def take(self, indices):
        """Return the reviews at ``indices``, in that order (labels None stay None)."""
        indices = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths()[indices]
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # position j of new review k reads tokens[old_start[k] + j]
        positions = np.arange(offsets[-1], dtype=np.int64) + np.repeat(self.offsets[indices] - offsets[:-1], lengths)
        labels = None if self.labels is None else self.labels[indices]
        return FlatReviews(self.tokens[positions], offsets, labels)


def as_flat(reviews, name="sequences"):
    """Return ``reviews`` (a FlatReviews, or a list or object array of integer sequences) as checked FlatReviews.

    Labels are those of a FlatReviews, else None. Raises TypeError for anything
    but integer word indices, ValueError for offsets that do not fit the tokens.
    """
    if hasattr(reviews, "tokens") and hasattr(reviews, "offsets"):
        tokens = np.asarray(reviews.tokens)
        offsets = np.asarray(reviews.offsets, dtype=np.int64)
        if (tokens.ndim != 1 or offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0
                or offsets[-1] != len(tokens) or np.any(np.diff(offsets) < 0)):
            raise LabValueError(f"{name} is not a valid FlatReviews (offsets must rise from 0 to len(tokens)): "
                             "build it with imdb_lab.load_flat or FlatReviews.from_sequences")
        labels = getattr(reviews, "labels", None)
    else:
        if isinstance(reviews, (str, bytes, dict)) or not hasattr(reviews, "__len__"):
            raise LabTypeError(f"{name} must be a list or object array of integer sequences, or a FlatReviews "
                            f"(imdb_lab.load_flat), not {type(reviews).__name__}")
        if isinstance(reviews, np.ndarray) and reviews.dtype != object and reviews.ndim != 2:
            raise LabTypeError(f"{name} must be a list of reviews (lists of word indices), not a flat array")
        try:
            lengths = np.fromiter((len(s) for s in reviews), dtype=np.int64, count=len(reviews))
        except TypeError as error:
            raise LabTypeError(f"each review of {name} must be a sequence of integer word indices") from error
        offsets = np.zeros(len(reviews) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        try:
            # operator.index rejects floats, which np.fromiter would silently truncate
            tokens = np.fromiter(map(operator.index, itertools.chain.from_iterable(reviews)), dtype=np.int64,
                                 count=int(offsets[-1]))
        except (TypeError, ValueError) as error:
            raise LabTypeError(f"each review of {name} must hold integer word indices: {error}") from error
        labels = None
    if tokens.size and tokens.dtype.kind not in "iu":
        raise LabTypeError(f"{name} must hold integer word indices, not dtype {tokens.dtype}")
    return FlatReviews(tokens, offsets, labels)


def resolve_source(source=None):
    """Return the local data set to read (a Path), or None to use Keras's download."""
    if source is not None:
        if not isinstance(source, (str, os.PathLike)):
            raise LabTypeError(f"source must be a path (str or pathlib.Path), not {type(source).__name__}")
        return Path(source).expanduser()
    if os.environ.get(ENV_DATA):
        path = Path(os.environ[ENV_DATA]).expanduser()
        if not path.exists():
            raise LabFileNotFoundError(
                f"{ENV_DATA}={os.environ[ENV_DATA]} does not exist: set it to the path of aclImdb_v1.tar.gz "
                f"or of its extracted aclImdb/ folder, or unset it to let Keras download the data"
            )
        return path
    datasets = cache.keras_home() / "datasets"
    for name in KERAS_CACHE_NAMES:
        candidate = datasets / name
        if candidate.is_file() or (candidate.is_dir() and _holds_reviews(candidate)):
            return candidate
    return None


def _holds_reviews(folder):
    try:
        archive.find_dataset(folder)
    except (ValueError, OSError):
        return False
    return True


def _encoded(path, *, need_cache=False):
    """Return ``(archive.Encoded, cache file or None)`` of the source at ``path``, from the cache when it is fresh.

    Builds the cache when it is missing or stale, one process at a time. When it
    cannot be written, warns once and returns the data with None (or, with
    ``need_cache``, raises ``cache.CacheError``).
    """
    kind, dataset = archive.find_dataset(path)
    key = cache_key(kind, dataset)
    cache_file = cache.cache_path(dataset)
    seen = _file_stamp(cache_file)
    encoded = cache.load(cache_file, key)
    if encoded is not None:
        return encoded, cache_file
    with cache.build_lock(cache_file):
        # another process may have built it while this one waited for the lock: read it only if it changed
        if _file_stamp(cache_file) != seen:
            encoded = cache.load(cache_file, key)
            if encoded is not None:
                return encoded, cache_file
        encoded = archive.encode_dataset(kind, dataset)
        try:
            cache.save(cache_file, encoded, key)
        except cache.CacheError as error:
            if need_cache:
                raise
            cache.warn_unwritable(error)
            cache_file = None
    return encoded, cache_file


def cache_key(kind, dataset):
    """Return what a cache of ``dataset`` must have been built from: the encoder version, its path and fingerprint."""
    return {"encoder": archive.ENCODER_VERSION, "source": str(dataset.resolve()), **archive.fingerprint(kind, dataset)}


def _file_stamp(path):
    """Return what changes when a file is replaced (inode, size, mtime), or None if it is missing."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def prepare(source=None):
    """Build the data cache of ``source`` now if needed; return the path of the file it loads from.

    Raises ``cache.CacheError`` (an OSError) when the cache cannot be written.
    """
    path = resolve_source(source)
    if path is None:
        choose_backend()
        from keras.utils import get_file

        return Path(_keras_call(lambda: get_file(
            "imdb.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz")))
    return _encoded(path, need_cache=True)[1]


def get_word_index(source=None):
    """Return the word index ``{word: rank}``, rank 1 for the most frequent train word (Keras's convention)."""
    path = resolve_source(source)
    if path is None:
        choose_backend()
        from keras.datasets import imdb

        return _keras_call(imdb.get_word_index)
    return {word: rank for rank, word in enumerate(_encoded(path)[0].words, start=1)}


def _keras_call(function):
    try:
        return function()
    except Exception as error:  # keras.utils.get_file raises a bare Exception when offline
        raise DownloadError(f"Keras could not download the IMDB data ({error}). {_HOW_TO_GO_OFFLINE}") from error


def _check_arguments(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, unknown, caller):
    if unknown:
        name = next(iter(unknown))
        close = difflib.get_close_matches(name, _LOAD_ARGUMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(_LOAD_ARGUMENTS)}"
        if name == "path":
            hint = "; to read a local copy of the data, pass source='/path/to/aclImdb_v1.tar.gz'"
        # Keras silently ignores unknown keywords, so a typo would go unnoticed
        raise LabTypeError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")
    if num_words is not None:
        check_int("num_words", num_words, minimum=1, hint="or None (all words)")
    check_int("skip_top", skip_top, minimum=0)
    if num_words is not None and skip_top >= num_words:
        raise LabValueError(
            f"skip_top={skip_top} must be smaller than num_words={num_words}: "
            "every word would become the out-of-vocabulary mark"
        )
    if maxlen is not None:
        check_int("maxlen", maxlen, hint="or None (keep all reviews)")
        if maxlen < 2:
            # Keras reads maxlen=0 as "no limit" and maxlen=1 keeps no review
            raise LabValueError(
                f"maxlen must be at least 2 (reviews of length >= maxlen are dropped), or None to keep "
                f"every review; got {maxlen}"
            )
    check_int("seed", seed, minimum=0)
    if seed >= 2**32:
        raise LabValueError(f"seed must be below 2**32 (a NumPy RandomState seed), got {seed}")
    check_index_conventions(start_char, oov_char, index_from)


def load_flat(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3, *,
              source=None, **unknown):
    """Return ``(train, test)`` as ``FlatReviews``: the data of ``load_data`` without Python lists.

    Takes exactly the arguments of ``load_data``; use it where memory matters.
    """
    _check_arguments(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, unknown, "load_flat")
    path = resolve_source(source)
    if path is None:
        (x_train, y_train), (x_test, y_test) = _load_from_keras(num_words, skip_top, maxlen, seed, start_char,
                                                                oov_char, index_from)
        return FlatReviews.from_sequences(x_train, y_train), FlatReviews.from_sequences(x_test, y_test)
    return flat_splits(_encoded(path)[0], num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)


def flat_splits(encoded, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
                index_from=3):
    """Return ``(train, test)`` ``FlatReviews`` of an encoded archive (``archive.Encoded``), as ``load_flat`` does."""
    splits = [FlatReviews(encoded.tokens[s], encoded.offsets[s], encoded.labels[s].astype(np.int64))
              for s in archive.SPLITS]
    return _keras_transform(splits, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)


def load_data(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3, *,
              source=None, **unknown):
    """Return ``(x_train, y_train), (x_test, y_test)`` exactly as ``keras.datasets.imdb.load_data`` does.

    Each review is a list of word indices: word of rank ``r`` (1 = most
    frequent in the training reviews) is ``r + index_from``; each review starts
    with ``start_char``; an index outside ``skip_top <= i < num_words`` becomes
    ``oov_char`` (or is dropped when ``oov_char=None``), so ``skip_top`` is
    compared with the *shifted* index: with ``index_from=3``, "the" is 4 and
    ``skip_top=2`` skips no word at all. ``num_words=None`` means the highest
    index in the data, so that one word becomes ``oov_char``, as in Keras.
    ``maxlen`` drops (does not truncate) every review whose length, start mark
    included, is ``>= maxlen``. One ``np.random.RandomState(seed)`` shuffles
    train, then test. Labels: 1 positive, 0 negative.

    The data comes from ``source`` (the path of ``aclImdb_v1.tar.gz`` or of an
    extracted ``aclImdb/`` folder), else from ``$IMDB_LAB_DATA``, else from such
    a copy in Keras's ``datasets/`` folder, else from Keras's own download. A
    local copy is encoded once with the classic Keras tokenizer rule and cached
    (see ``imdb_lab.cache``).

    Stricter than Keras, so that mistakes don't pass silently: an unknown
    keyword raises ``TypeError`` (Keras ignores it); ``maxlen`` below 2 raises
    (Keras reads 0 as "no limit", and 1 keeps nothing); ``skip_top >= num_words``
    raises (every word would be out of vocabulary). Unlike Keras, ``x_train``
    is always 1-D, even if every review had the same length.
    """
    _check_arguments(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, unknown, "load_data")
    path = resolve_source(source)
    if path is None:
        return _load_from_keras(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    train, test = load_flat(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, source=path)
    return (train.sequences(), train.labels), (test.sequences(), test.labels)


def _load_from_keras(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    choose_backend()
    from keras.datasets import imdb

    return _keras_call(lambda: imdb.load_data(
        num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
        start_char=start_char, oov_char=oov_char, index_from=index_from))


def _keras_transform(splits, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Apply Keras's shuffling, shift, ``maxlen`` and vocabulary rules to word ranks, vectorized."""
    rng = np.random.RandomState(seed)
    shuffled = []
    for reviews in splits:  # one generator for both splits, train first, as in Keras
        indices = np.arange(len(reviews))
        rng.shuffle(indices)
        shuffled.append(reviews.take(indices))

    shifted = [_shift(reviews, start_char, index_from) for reviews in shuffled]
    if maxlen is not None:
        shifted = [reviews.take(np.flatnonzero(reviews.lengths() < maxlen)) for reviews in shifted]
        if not all(len(reviews) for reviews in shifted):
            raise LabValueError(
                f"no review is shorter than maxlen={maxlen} in one of the splits: increase maxlen"
            )
    if num_words is None:
        num_words = max((int(r.tokens.max()) for r in shifted if len(r.tokens)), default=0)
    return tuple(_limit_vocabulary(reviews, num_words, skip_top, oov_char) for reviews in shifted)


def _shift(reviews, start_char, index_from):
    """Return the reviews with ``index_from`` added and ``start_char`` (unless None) in front of each."""
    tokens = reviews.tokens.astype(np.int64) + index_from
    if start_char is None:
        return FlatReviews(tokens, reviews.offsets, reviews.labels)
    n = len(reviews)
    offsets = reviews.offsets + np.arange(n + 1)
    out = np.empty(len(tokens) + n, dtype=np.int64)
    starts = offsets[:-1]
    out[starts] = start_char
    mask = np.ones(len(out), dtype=bool)
    mask[starts] = False
    out[mask] = tokens
    return FlatReviews(out, offsets, reviews.labels)


def _limit_vocabulary(reviews, num_words, skip_top, oov_char):
    """Return the reviews with indices outside ``skip_top <= i < num_words`` made ``oov_char`` or dropped."""
    tokens = reviews.tokens
    inside = (tokens >= skip_top) & (tokens < num_words)
    if oov_char is not None:
        return FlatReviews(np.where(inside, tokens, oov_char).astype(np.int32), reviews.offsets, reviews.labels)
    cumulative = np.concatenate([[0], np.cumsum(inside)])
    return FlatReviews(tokens[inside].astype(np.int32), cumulative[reviews.offsets].astype(np.int64), reviews.labels)
