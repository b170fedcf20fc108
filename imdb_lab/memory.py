"""Memory: what an array will need, checked against what is left before it is made; freed memory handed back.

A kernel that runs out of memory dies without a message (Jupyter's "The kernel
appears to have died"), so the lab checks its largest arrays before it makes
them, against the memory left to this process: the smaller of the machine's
available memory and what the limit of its container leaves (the cgroup of a
JupyterHub or Binder pod, where ``/proc/meminfo`` shows the whole host),
counted as the kernel counts it: page cache that the kernel reclaims before it
kills a process is not used memory. Where neither can be read (macOS,
Windows), nothing is refused.
"""

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

from imdb_lab import cgroups
from imdb_lab.errors import LabMemoryError

# glibc's mallopt parameter number for the mmap threshold (malloc.h: M_MMAP_THRESHOLD)
_M_MMAP_THRESHOLD = -3
# blocks of this size and above are mapped on their own, and unmapped when freed
MMAP_THRESHOLD = 1 << 20
# arrays from this size on are checked after the heap is trimmed (a few ms); smaller ones are checked as they are
TRIM_FROM = 64 << 20
_PROC = Path("/proc")


def _read_int(path):
    """Return the integer in a one-line file (``max`` and unreadable files: None)."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available():
    """Return MemAvailable from /proc/meminfo in bytes, or None."""
    try:
        for line in (_PROC / "meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# the memory controller's files, cgroup v2 then v1: the limit, what is charged, and in memory.stat the page-cache
# pages the kernel reclaims before it kills anything (v1's total_* fields count the cgroup's children too, as v2's do)
_V2_FILES = ("memory.max", "memory.current", ("inactive_file", "active_file"))
_V1_FILES = ("memory.limit_in_bytes", "memory.usage_in_bytes", ("total_inactive_file", "total_active_file"))
# v1 writes "no limit" as a huge number (2**63 rounded down to pages)
_NO_LIMIT = 2**60


def _memory_stat(folder):
    """Return a cgroup's ``memory.stat`` as ``{field: bytes}`` (empty where it cannot be read)."""
    try:
        lines = (folder / "memory.stat").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split() for line in lines)
    return {field[0]: int(field[1]) for field in fields if len(field) == 2 and field[1].isdigit()}


def _limit_left(folder, files):
    """Return what one cgroup's memory limit still leaves, in bytes, or None where it sets no limit.

    The kernel charges a cgroup for its processes' memory and for the page cache
    of the files they read (the libraries, the data), but it reclaims that cache
    before it kills a process for want of memory. So what is left is the limit,
    minus what is charged, plus the page cache on the file LRU lists
    (``inactive_file`` and ``active_file``; shared memory and tmpfs are on the
    anonymous lists, so they stay counted as used).
    """
    limit_name, usage_name, reclaimable_names = files
    limit, used = _read_int(folder / limit_name), _read_int(folder / usage_name)
    if limit is None or used is None or limit >= _NO_LIMIT:
        return None
    stat = _memory_stat(folder)
    reclaimable = sum(stat.get(name, 0) for name in reclaimable_names)
    return max(0, min(limit, limit - used + reclaimable))


def _cgroup_left():
    """Return what this process's memory cgroups (v1, else v2) still allow it, in bytes, or None without a limit.

    A limit set on any cgroup above the process's own counts too (a hub may
    limit the pod and run the kernel in a child of it), so the tightest of
    them wins (``cgroups.cgroup_chain``).
    """
    chain = cgroups.cgroup_chain("memory")
    if chain is None:
        return None
    files = _V2_FILES if chain[0] == 2 else _V1_FILES
    lefts = [left for left in (_limit_left(folder, files) for folder in chain[1]) if left is not None]
    return min(lefts) if lefts else None


def available_memory():
    """Return the bytes this process can still allocate, as far as the system says, or None where it cannot tell."""
    known = [value for value in (_meminfo_available(), _cgroup_left()) if value is not None]
    return min(known) if known else None


def format_bytes(size, *, binary=False):
    """Return a size in bytes as GB (from 1 GB) or MB, e.g. ``"5.0 GB"``, ``"250 MB"``; ``binary``: in GiB or MiB,
    as memory limits are written (``--memory 1.5G`` is ``"1.5 GiB"``)."""
    giga, mega, unit = (2**30, 2**20, "iB") if binary else (1e9, 1e6, "B")
    return f"{size / giga:.1f} G{unit}" if size >= giga else f"{size / mega:.0f} M{unit}"


def check_fits(size, what, instead):
    """Raise LabMemoryError, before the allocation, when ``size`` bytes of ``what`` cannot fit the memory left.

    ``instead`` says what to do then. The machine may still run short later;
    this catches what cannot work at all, such as 200,000 words of multi-hot rows.
    Before a large array (``TRIM_FROM`` bytes and more), free heap pages go back
    to the system, so that they count as left.
    """
    if size >= TRIM_FROM:
        trim_heap()
    left = available_memory()
    if left is not None and size > left:
        raise LabMemoryError(f"{what} would need {format_bytes(size)}, and this machine (or the limit of your "
                             f"Jupyter) has {format_bytes(left)} left: {instead}")


def _glibc():
    """Return the C library if it is glibc (it has mallopt and malloc_trim), else None (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim_heap():
    """Hand the free pages inside glibc's heap back to the system (a no-op elsewhere); return True if it could.

    Freed Python lists (a second ``load_data``, say) leave free pages between
    live objects, which glibc keeps: ``check_fits`` calls this before a large array is made.
    """
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0) is not None)


def keep_tensorflow_from_hoarding():
    """Have TensorFlow, not yet imported, free its buffers after ``fit`` and ``evaluate``; return True if it will.

    TensorFlow's oneDNN kernels keep the buffers of ``fit`` and ``evaluate`` (a
    copy of the multi-hot rows, 0.25-0.45 GB) for the rest of the session;
    without them it hands those back, and ``fit`` takes about 15 % longer
    (README, "Measured choices"). A ``TF_ENABLE_ONEDNN_OPTS`` the user set
    wins; once TensorFlow is imported, nothing changes.
    """
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ or "tensorflow" in sys.modules:
        return False
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    return True


def return_freed_memory():
    """Have this process hand freed blocks of 1 MB or more back to the system at once; return True if it could.

    glibc (Linux) raises its mmap threshold after each large block is freed, up
    to 32 MB, and then keeps the freed batch-sized buffers that Keras's ``fit``
    and the data loader make by the hundred in its heap: 0.1-0.3 GB a kernel
    holds for nothing (README, "Measured choices"). A ``MALLOC_MMAP_THRESHOLD_``
    the user set wins. Elsewhere (macOS, Windows, musl) nothing changes.
    """
    libc = _glibc()
    if libc is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
