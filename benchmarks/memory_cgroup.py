"""A memory cgroup to run a process in: the limit a JupyterHub pod or Binder enforces, enforced by the kernel here too.

A hub does not poll a kernel's resident set: the kernel of the machine charges
each container's memory cgroup for its processes' memory *and* for the page
cache of every file they read (the libraries, the data), reclaims that cache
when the limit is near, and kills a process when what is left cannot be
reclaimed. ``MemoryCgroup`` makes such a cgroup below this process's own (cgroup
v1 as root, as on CI's machine; or a cgroup v2 subtree whose memory controller
is delegated to us), starts processes in it through ``command()``, and reads
back what the kernel counted (``imdb_lab.cgroups``: the grader's limits are
the same cgroups). ``evict_page_cache`` first drops the files' cached pages,
so that the process in the cgroup pays for reading them, as a fresh pod does
(pages another process maps stay cached: the libraries the caller has imported
itself).

Used by benchmarks/bench_notebook.py (``--cgroup``) and tests/test_notebooks.py.
"""

import os
from pathlib import Path

# the cgroup itself is the grader's too (a notebook's limits): one implementation, in the package
from imdb_lab.cgroups import MemoryCgroup, unavailable_reason  # noqa: F401 - this module's interface


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
