"""``load_data``: Keras's IMDB data set, downloaded by Keras or encoded from a local copy of the raw archive."""

import difflib

import numpy as np

from imdb_lab.arguments import valid_int
from imdb_lab.data import archive
from imdb_lab.data.reviews import (
    INDEX_FROM, OOV_CHAR, START_CHAR, FlatReviews, IndexConventions, keras_transform, valid_vocabulary,
)
from imdb_lab.data.sources import keras_npz, load_encoded, read_keras_npz, resolve_source
from imdb_lab.errors import LabTypeError, LabValueError

__all__ = ["load_data", "load_flat", "flat_splits"]

# Keras's own start, out-of-vocabulary and first-word indices (an immutable tuple: one shared default)
KERAS_CONVENTIONS = IndexConventions()
_LOAD_ARGUMENTS = ("num_words", "skip_top", "maxlen", "seed", "start_char", "oov_char", "index_from", "source")


def _validate_arguments(num_words, skip_top, maxlen, seed, conventions, unknown, caller):
    """Return the checked ``IndexConventions``; raise TypeError/ValueError, saying what to pass, for bad arguments."""
    if unknown:
        name = next(iter(unknown))
        close = difflib.get_close_matches(name, _LOAD_ARGUMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(_LOAD_ARGUMENTS)}"
        if name == "path":
            hint = "; to read a local copy of the data, pass source='/path/to/aclImdb_v1.tar.gz'"
        # Keras silently ignores unknown keywords, so a typo would go unnoticed
        raise LabTypeError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")
    valid_vocabulary(num_words, skip_top)
    if maxlen is not None:
        valid_int("maxlen", maxlen, hint="or None (keep all reviews)")
        if maxlen < 2:
            # Keras reads maxlen=0 as "no limit" and maxlen=1 keeps no review
            raise LabValueError(
                f"maxlen must be at least 2 (reviews of length >= maxlen are dropped), or None to keep "
                f"every review; got {maxlen}"
            )
    valid_int("seed", seed, minimum=0)
    if seed >= 2**32:
        raise LabValueError(f"seed must be below 2**32 (a NumPy RandomState seed), got {seed}")
    return conventions.validated()


def load_flat(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=START_CHAR, oov_char=OOV_CHAR,
              index_from=INDEX_FROM, *, source=None, **unknown):
    """Return ``(train, test)`` as ``FlatReviews``: the data of ``load_data`` without Python lists.

    Takes exactly the arguments of ``load_data``; use it where memory matters.

    Args:
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, source: as ``load_data``'s.
        **unknown: any other keyword: a TypeError naming it.
    """
    conventions = _validate_arguments(num_words, skip_top, maxlen, seed,
                                   IndexConventions(start_char, oov_char, index_from), unknown, "load_flat")
    path = resolve_source(source)
    if path is None:
        return keras_transform(read_keras_npz(keras_npz()), num_words, skip_top, maxlen, seed, conventions)
    return flat_splits(load_encoded(path)[0], num_words, skip_top, maxlen, seed, conventions)


def flat_splits(encoded, num_words=None, skip_top=0, maxlen=None, seed=113, conventions=KERAS_CONVENTIONS):
    """Return ``(train, test)`` ``FlatReviews`` of an encoded archive (``archive.Encoded``), as ``load_flat`` does.

    Args:
        encoded: the encoded archive (``archive.Encoded``).
        num_words, skip_top, maxlen, seed: as ``load_data``'s.
        conventions: the start, out-of-vocabulary and first-word indices (``IndexConventions``).
    """
    splits = [FlatReviews(encoded.tokens[s], encoded.offsets[s], encoded.labels[s].astype(np.int64))
              for s in archive.SPLITS]
    return keras_transform(splits, num_words, skip_top, maxlen, seed, conventions)


def load_data(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=START_CHAR, oov_char=OOV_CHAR,
              index_from=INDEX_FROM, *, source=None, **unknown):
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
    (see ``imdb_lab.data.sources`` and ``imdb_lab.data.cache``).

    Stricter than Keras, so that mistakes don't pass silently: an unknown
    keyword raises ``TypeError`` (Keras ignores it); ``maxlen`` below 2 raises
    (Keras reads 0 as "no limit", and 1 keeps nothing); ``skip_top >= num_words``
    raises (every word would be out of vocabulary). Unlike Keras, ``x_train``
    is always 1-D, even if every review had the same length.

    Args:
        num_words: keep the words of rank below it (None: every word).
        skip_top: turn the most frequent words below this index into ``oov_char``.
        maxlen: drop the reviews this long or longer (None: keep all).
        seed: the shuffle's seed.
        start_char, oov_char, index_from: the index conventions, as Keras's.
        source: the archive or folder to read (None: ``$IMDB_LAB_DATA``, then Keras's).
        **unknown: any other keyword: a TypeError naming it.
    """
    _validate_arguments(num_words, skip_top, maxlen, seed, IndexConventions(start_char, oov_char, index_from),
                        unknown, "load_data")
    train, test = load_flat(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, source=source)
    return (train.sequences(), train.labels), (test.sequences(), test.labels)

