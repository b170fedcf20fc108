"""A notebook's box on a filesystem of its own, where the grader may mount one (Linux, as root): a tmpfs that holds
``disk`` bytes and ``INODES`` files at most.

The kernel then enforces the disk limit for everything written there,
including what no walk of the folder finds (a file unlinked while open and
grown with ``posix_fallocate``) and the files that take no byte (empty files
until no inode is left): the notebook gets "no space left on device", and
no classmate shares the filesystem it filled. Its pages are charged to the
memory cgroup of the process that writes them, so ``--memory`` covers them
too. Where the grader cannot mount (not root, or a container that forbids
it), the box is a plain folder, polled once a second: its size, its number
of files, and the unlinked files its processes hold open
(``processes.disk_usage``, ``processes.unlinked_bytes``).
"""

import ctypes
import errno
import os
import sys

# files a box may hold: a notebook's folder, its caches and its export are a few hundred
INODES = 100_000
# a tmpfs refuses a posix_fallocate larger than what is left, whole: a box filled 8 MB at a time is left with
# less than 8 MB, which an honest notebook (its folder, caches and export) never comes near
FULL_MARGIN = 16 * 2**20
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def mount_box(folder, size):
    """Mount a tmpfs of ``size`` bytes and ``INODES`` files on the empty ``folder`` (mode 0700); return whether it
    was mounted (False where this process may not mount: not Linux, not root, or a container that forbids it)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    options = f"size={size},nr_inodes={INODES},mode=0700".encode()
    if _libc().mount(b"tmpfs", os.fsencode(folder), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) != 0:
        return False
    return True


def unmount_box(folder):
    """Unmount the box's tmpfs from ``folder`` (detached: what it held is freed when nothing uses it any more)."""
    if _libc().umount2(os.fsencode(folder), _MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code != errno.EINVAL:  # EINVAL: nothing is mounted there (any more)
            raise OSError(code, f"cannot unmount the box at {folder}: {os.strerror(code)}")


def box_full(folder):
    """Return whether the filesystem at ``folder`` is full: no file left, or less than ``FULL_MARGIN`` of its bytes
    (or an eighth of a small one) left, as a write or ``posix_fallocate`` refused for want of space leaves it."""
    try:
        figures = os.statvfs(folder)
    except OSError:
        return False
    size = figures.f_blocks * figures.f_frsize
    return figures.f_favail == 0 or figures.f_bavail * figures.f_frsize < min(FULL_MARGIN, size // 8)
