"""A memory cgroup to run a process in: the limit a JupyterHub pod or Binder enforces, enforced by the kernel here too.

A hub does not poll a kernel's resident set: the kernel of the machine charges
each container's memory cgroup for its processes' memory *and* for the page
cache of every file they read (the libraries, the data), reclaims that cache
when the limit is near, and kills a process when what is left cannot be
reclaimed. ``MemoryCgroup`` makes such a cgroup below this process's own (cgroup
v1 as root, as on CI's machine; or a cgroup v2 subtree whose memory controller
is delegated to us), starts processes in it through ``command()``, and reads
back what the kernel counted. ``evict_page_cache`` first drops the files' cached
pages, so that the process in the cgroup pays for reading them, as a fresh pod
does (pages another process maps stay cached: the libraries the caller has
imported itself).

Used by benchmarks/bench_notebook.py (``--cgroup``) and tests/test_notebooks.py.
"""

import os
import signal
import time
from pathlib import Path

from imdb_lab import cgroups

CGROUP_ROOT = cgroups.CGROUP_ROOT
# v1 writes "no limit" as 2**63 rounded down to pages
_NO_LIMIT = 2**60


def _own_cgroup():
    """Return ``(version, folder)`` of this process's memory cgroup, or None where there is none to read."""
    return cgroups.own_cgroup("memory")


def unavailable_reason():
    """Return why no memory cgroup can be made here (a sentence), or None when ``MemoryCgroup`` will work."""
    if not Path("/proc/self/cgroup").exists():
        return "no cgroups on this system (memory cgroups are Linux's)"
    own = _own_cgroup()
    if own is None:
        return "this process is in no memory cgroup"
    version, folder = own
    if not os.access(folder, os.W_OK):
        return f"cannot make a cgroup below {folder} (cgroup v1 needs root; v2 a delegated subtree)"
    if version == 2:
        try:
            delegated = "memory" in (folder / "cgroup.subtree_control").read_text().split()
        except OSError:
            delegated = False
        if not delegated:
            return f"the memory controller is not enabled for the children of {folder} (cgroup.subtree_control)"
    return None


def _stat(folder):
    """Return a cgroup's ``memory.stat`` as ``{field: int}``."""
    fields = (line.split() for line in (folder / "memory.stat").read_text().splitlines())
    return {field[0]: int(field[1]) for field in fields if len(field) == 2 and field[1].isdigit()}


def _field(path, name):
    """Return the value of ``name`` in a flat-keyed cgroup file (``memory.events``, ``memory.oom_control``), or 0."""
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


class MemoryCgroup:
    """A memory cgroup with a limit of ``limit`` bytes (page cache charged), removed by ``close()``.

    Use it as a context manager; start a process in it with ``command(argv)``.
    Raises OSError with ``unavailable_reason()``'s sentence where none can be made.
    """

    def __init__(self, limit, name="imdb-lab"):
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            raise ValueError(f"limit should be a positive whole number of bytes, not {limit!r}")
        reason = unavailable_reason()
        if reason:
            raise OSError(reason)
        self.version, parent = _own_cgroup()
        self.limit = limit
        self.folder = parent / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.folder.mkdir()
        try:
            limit_file = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
            (self.folder / limit_file).write_text(str(limit))
            if self.version == 2:
                (self.folder / "memory.swap.max").write_text("0")  # as v1 here: no swap to hide memory in
        except OSError:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def procs(self):
        """The file a process writes its pid into to enter the cgroup."""
        return self.folder / "cgroup.procs"

    def command(self, argv):
        """Return ``argv`` wrapped so that the process enters this cgroup before it starts (its children too)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.procs), *argv]

    def figures(self):
        """Return what the kernel counted: peak, usage, anonymous and page cache now, OOM kills, limit (bytes)."""
        stat = _stat(self.folder)
        if self.version == 1:
            peak = int((self.folder / "memory.max_usage_in_bytes").read_text())
            usage = int((self.folder / "memory.usage_in_bytes").read_text())
            anon = stat.get("total_rss", 0) + stat.get("total_shmem", 0)
            cache = stat.get("total_cache", 0) - stat.get("total_shmem", 0)
            oom_kills = _field(self.folder / "memory.oom_control", "oom_kill")
        else:
            usage = int((self.folder / "memory.current").read_text())
            peak_file = self.folder / "memory.peak"  # Linux 5.19 and later
            peak = int(peak_file.read_text()) if peak_file.exists() else usage
            anon = stat.get("anon", 0) + stat.get("shmem", 0)
            cache = stat.get("file", 0) - stat.get("shmem", 0)
            oom_kills = _field(self.folder / "memory.events", "oom_kill")
        return {"limit": self.limit, "peak": peak, "usage": usage, "anon": anon, "cache": cache,
                "oom_kills": oom_kills}

    def pids(self):
        """Return the pids of the processes in the cgroup now."""
        try:
            return [int(pid) for pid in self.procs.read_text().split()]
        except (OSError, ValueError):
            return []

    def close(self, timeout=10):
        """Kill what is left in the cgroup and remove it (its charges move to the parent)."""
        deadline = time.monotonic() + timeout
        while self.folder.exists():
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.folder.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def evict_page_cache(paths):
    """Drop the cached pages of every file under ``paths`` (``posix_fadvise`` DONTNEED); return the files' bytes.

    So that a process started next reads them from disk again and its cgroup
    is charged for them, as a fresh container is. Pages that a running process
    maps (a library the caller imported) stay.
    """
    total = 0
    for path in map(Path, paths):
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        for file in files:
            try:
                fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                total += os.fstat(fd).st_size
            finally:
                os.close(fd)
    return total
