"""Where the reviews come from: a local copy of the raw archive (encoded once, then cached) or Keras's download."""

import os
from pathlib import Path

import numpy as np

from imdb_lab.backend import choose_backend, keras_home
from imdb_lab.data import archive, cache
from imdb_lab.data.reviews import FlatReviews
from imdb_lab.errors import CacheError, DownloadError, LabFileNotFoundError, LabTypeError
from imdb_lab.files import file_stamp

ENV_DATA = "IMDB_LAB_DATA"
# Where learners already keep the raw archive: Keras's datasets/ folder, under
# the names that keras.utils.get_file (as in TensorFlow's text tutorial) gives it.
KERAS_CACHE_NAMES = ("aclImdb", "aclImdb_v1.tar.gz", "aclImdb_v1", "aclImdb_v1_extracted",
                     "aclImdb_v1.tar.gz_extracted")
# Keras's own download of the encoded reviews, and the hash keras.datasets.imdb.load_data checks it against
KERAS_IMDB_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
KERAS_IMDB_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
HOW_TO_GO_OFFLINE = (
    "To work offline, download aclImdb_v1.tar.gz (https://ai.stanford.edu/~amaas/data/sentiment/) once, "
    "then set the environment variable IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz or pass "
    "source='/path/to/aclImdb_v1.tar.gz' (an extracted aclImdb/ folder works too)."
)


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
    datasets = keras_home() / "datasets"
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


def load_encoded(path, *, need_cache=False):
    """Return ``(archive.Encoded, cache file or None)`` of the source at ``path``, from the cache when it is fresh.

    Builds the cache when it is missing or stale, one process at a time. When it
    cannot be written, warns once and returns the data with None (or, with
    ``need_cache``, raises ``CacheError``). A prepared data file (what the
    grader gives a kernel) is its own cache: it is read as it is.
    """
    if Path(path).is_file() and cache.is_data_file(path):
        return cache.load_prepared(path), Path(path)
    kind, dataset = archive.find_dataset(path)
    key = cache_key(kind, dataset)
    cache_file = cache.cache_path(dataset)
    seen = file_stamp(cache_file)
    encoded = cache.load(cache_file, key)
    if encoded is not None:
        return encoded, cache_file
    with cache.build_lock(cache_file):
        # another process may have built it while this one waited for the lock: read it only if it changed
        if file_stamp(cache_file) != seen:
            encoded = cache.load(cache_file, key)
            if encoded is not None:
                return encoded, cache_file
        encoded = archive.encode_dataset(kind, dataset)
        try:
            cache.save(cache_file, encoded, key)
        except CacheError as error:
            if need_cache:
                raise
            cache.warn_unwritable(error)
            cache_file = None
    return encoded, cache_file


def cache_key(kind, dataset):
    """Return what a cache of ``dataset`` must have been built from: the encoder version, its path and fingerprint."""
    return {"encoder": archive.ENCODER_VERSION, "source": str(dataset.resolve()), **archive.fingerprint(kind, dataset)}


def prepare(source=None):
    """Build the data cache of ``source`` now if needed; return the path of the file it loads from.

    Raises ``CacheError`` (an OSError) when the cache cannot be written.
    """
    path = resolve_source(source)
    if path is None:
        return keras_npz()
    return load_encoded(path, need_cache=True)[1]


def keras_npz():
    """Return the path of Keras's ``imdb.npz``, downloaded once by ``keras.utils.get_file`` and checked by its hash."""
    choose_backend()
    from keras.utils import get_file  # Keras only for its own download, once the backend is chosen

    return Path(keras_call(lambda: get_file("imdb.npz", KERAS_IMDB_URL, file_hash=KERAS_IMDB_SHA256)))


def read_keras_npz(path):
    """Return the ``(train, test)`` FlatReviews of word ranks in Keras's ``imdb.npz``, unshuffled.

    One split's Python lists at a time, each flattened into int32 arrays at once,
    where ``keras.datasets.imdb.load_data`` holds both splits' lists, one int
    object a word, and copies them (README, "Measured choices").
    """
    splits = []
    # allow_pickle: the reviews are object arrays of lists; keras_npz's file passed Keras's hash check
    with np.load(path, allow_pickle=True) as arrays:
        for split in archive.SPLITS:
            sequences = arrays[f"x_{split}"]
            splits.append(FlatReviews.from_sequences(sequences, arrays[f"y_{split}"]))
            del sequences
    return tuple(splits)


def keras_encoded(npz, word_index):
    """Return Keras's ``imdb.npz`` and its word index ``{word: rank}`` as ``archive.Encoded`` (ranks as they are).

    A rank the word index lacks gets a placeholder word, so that every rank of
    the reviews has one.
    """
    train, test = read_keras_npz(npz)
    highest = max([0, *word_index.values(), *(int(s.tokens.max()) for s in (train, test) if len(s.tokens))])
    words = [f"<rank {rank}>" for rank in range(1, highest + 1)]
    for word, rank in word_index.items():
        words[rank - 1] = word
    splits = dict(zip(archive.SPLITS, (train, test), strict=True))
    return archive.Encoded({s: flat.tokens.astype(np.int32) for s, flat in splits.items()},
                           {s: flat.offsets.astype(np.int64) for s, flat in splits.items()},
                           {s: np.asarray(flat.labels, dtype=np.uint8) for s, flat in splits.items()}, words)


def get_word_index(source=None):
    """Return the word index ``{word: rank}``, rank 1 for the most frequent train word (Keras's convention)."""
    path = resolve_source(source)
    if path is None:
        choose_backend()
        from keras.datasets import imdb  # Keras only for its own download, once the backend is chosen

        return keras_call(imdb.get_word_index)
    return {word: rank for rank, word in enumerate(load_encoded(path)[0].words, start=1)}


def keras_call(function):
    """Return ``function()``, a Keras download; raise DownloadError, which says how to work offline, if it fails."""
    try:
        return function()
    except Exception as error:  # keras.utils.get_file raises a bare Exception when offline
        raise DownloadError(f"Keras could not download the IMDB data ({error}). {HOW_TO_GO_OFFLINE}") from error
