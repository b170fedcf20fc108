"""Files: atomic writes (a temporary file beside the target, renamed over it once complete), hashes and stamps."""

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yield a temporary path beside ``path`` to write to; when the block succeeds, rename it over ``path``.

    os.replace is atomic, so a reader sees the old file or the new one, never
    half of one, and an interrupted or failed write leaves no temporary file.
    The new file keeps the old one's permissions (0644 for a new file).
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp makes the file private to this user
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_kwargs):
    """Yield a file object whose content replaces ``path`` atomically when the block succeeds."""
    with atomic_path(path) as temporary, open(temporary, mode, **open_kwargs) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def sha256_file(path, chunk_size=1 << 20):
    """Return the SHA-256 of the file at ``path`` (hex), read in chunks so that memory stays small."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_stamp(path):
    """Return what changes when a file is written or replaced (inode, size, mtime, ctime), or None if it is missing.

    ``st_ctime`` changes with every write, rename or ``utime`` and no program
    can set it back, so a file rewritten to look untouched changes its stamp too.
    """
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns
