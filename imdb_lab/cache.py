"""The on-disk cache of the encoded archive: flat integer arrays, no pickle, written atomically."""

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from imdb_lab.archive import ENCODER_VERSION, SPLITS, Encoded
from imdb_lab.files import atomic_write

FORMAT = "imdb_lab.cache"
_warned_dirs = set()  # unwritable cache folders already warned about, to warn once each


def cache_dir():
    """Return the cache folder: ``$IMDB_LAB_CACHE``, else Keras's ``datasets/`` folder."""
    if os.environ.get("IMDB_LAB_CACHE"):
        return Path(os.environ["IMDB_LAB_CACHE"]).expanduser()
    return keras_home() / "datasets"


def keras_home():
    """Return Keras's home folder (``$KERAS_HOME`` or ``~/.keras``) without importing Keras."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def cache_path(source):
    """Return the cache file for the data source at ``source``."""
    digest = hashlib.sha256(str(Path(source).resolve()).encode()).hexdigest()[:12]
    return cache_dir() / f"imdb_lab-{Path(source).name}-{digest}-v{ENCODER_VERSION}.npz"


def _text_array(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save(path, encoded, key):
    """Write ``encoded`` to ``path`` atomically; return False (and warn once per folder) if that fails."""
    path = Path(path)
    arrays = {"meta": _text_array(json.dumps({"format": FORMAT, **key})),
              "words": _text_array("\n".join(encoded.words))}
    for split in SPLITS:
        arrays[f"{split}_tokens"] = encoded.tokens[split]
        arrays[f"{split}_offsets"] = encoded.offsets[split]
        arrays[f"{split}_labels"] = encoded.labels[split]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)
    except OSError as error:  # a read-only folder, or a full disk: the data is still there, in memory
        if str(path.parent) not in _warned_dirs:
            _warned_dirs.add(str(path.parent))
            warnings.warn(
                f"cannot write the IMDB data cache in {path.parent} ({error.strerror or error}); "
                "loading without a cache, so each load re-reads the archive. "
                "Set IMDB_LAB_CACHE to a writable folder to fix this.",
                RuntimeWarning,
                stacklevel=3,
            )
        return False
    return True


def load(path, key):
    """Return the ``Encoded`` data cached at ``path``, or None if it is missing, stale or corrupt."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
            if meta != {"format": FORMAT, **key}:
                return None  # another archive, another version of it, or an older encoder
            words = npz["words"].tobytes().decode("utf-8").split("\n")
            tokens = {split: npz[f"{split}_tokens"] for split in SPLITS}
            offsets = {split: npz[f"{split}_offsets"] for split in SPLITS}
            labels = {split: npz[f"{split}_labels"] for split in SPLITS}
        for split in SPLITS:
            _check_consistent(tokens[split], offsets[split], labels[split], len(words))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        warnings.warn(f"ignoring the corrupt IMDB data cache {path} ({error}); rebuilding it", RuntimeWarning,
                      stacklevel=3)
        return None
    return Encoded(tokens, offsets, labels, words)


def _check_consistent(tokens, offsets, labels, num_words):
    """Raise ValueError unless the arrays of one split fit together."""
    if (tokens.ndim != 1 or offsets.ndim != 1 or len(offsets) != len(labels) + 1 or offsets[0] != 0
            or offsets[-1] != len(tokens) or np.any(np.diff(offsets) < 0)):
        raise ValueError("offsets do not match the tokens")
    if len(tokens) and (tokens.min() < 1 or tokens.max() > num_words):
        raise ValueError("a word rank is outside the word list")
    if len(labels) and labels.max() > 1:
        raise ValueError("a label is not 0 or 1")
