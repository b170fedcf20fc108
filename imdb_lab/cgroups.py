"""This process's control groups (Linux): which one holds it for a controller, and the CPU limit they set.

A hub or a container runtime limits a process through its cgroup, or one
above it (the pod's, the user's): ``cgroup_chain`` gives them all, innermost
first, and what each sets is read from its files. ``imdb_lab.memory`` reads
the memory left there; ``cpu_limit`` the cores a CPU quota allows. Where this
process may make cgroups (root on cgroup v1, or a delegated v2 subtree),
``MemoryCgroup`` makes one below its own, whose limits the kernel enforces:
the grader runs each notebook, and the benchmarks a kernel, in one.
"""

import math
import os
import signal
import time
from pathlib import Path

from imdb_lab.arguments import is_whole

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")


def own_cgroup(controller):
    """Return ``(version, folder)`` of this process's cgroup for ``controller`` ("memory", "cpu"): its cgroup v1
    hierarchy's where one has it, else the cgroup v2 one's; None where ``/proc/self/cgroup`` names neither."""
    try:
        entries = (PROC / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return None
    split = [(entry.split(":", 2) + ["", ""])[:3] for entry in entries]
    for _, controllers, path in split:
        if controller in controllers.split(","):
            return 1, CGROUP_ROOT / controllers / path.strip().lstrip("/")
    for hierarchy, controllers, path in split:
        if hierarchy == "0" and controllers == "":  # cgroup v2: one unified hierarchy
            return 2, CGROUP_ROOT / path.strip().lstrip("/")
    return None


def cgroup_chain(controller):
    """Return ``(version, folders)``: this process's cgroup for ``controller`` and each one above it, innermost
    first, up to the hierarchy's root (None without one).

    In a container that sees only its own cgroup (a cgroup namespace), the
    path named in ``/proc/self/cgroup`` may not exist under ``/sys/fs/cgroup``:
    the walk up then reaches the container's own root.
    """
    own = own_cgroup(controller)
    if own is None:
        return None
    version, folder = own
    root = CGROUP_ROOT if version == 2 else CGROUP_ROOT / folder.relative_to(CGROUP_ROOT).parts[0]
    parts = [part for part in folder.relative_to(root).parts if part not in (".", "..")]
    return version, [root.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _quota(folder, version):
    """Return the CPUs one cgroup's quota allows (quota / period), or None where it sets none."""
    try:
        if version == 2:
            quota, period = (folder / "cpu.max").read_text().split()[:2]
        else:
            quota = (folder / "cpu.cfs_quota_us").read_text().strip()
            period = (folder / "cpu.cfs_period_us").read_text().strip()
        return None if quota in ("max", "-1") else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def cpu_limit():
    """Return the CPUs this process's cgroups allow it at most (the tightest quota, rounded up to a whole CPU, at
    least 1), or None where none sets a quota (a Kubernetes pod's ``limits.cpu`` does; its node's cores show
    through ``os.cpu_count`` all the same)."""
    chain = cgroup_chain("cpu")
    if chain is None:
        return None
    quotas = [quota for quota in (_quota(folder, chain[0]) for folder in chain[1]) if quota is not None]
    return max(1, math.ceil(min(quotas))) if quotas else None


def unavailable_reason():
    """Return why no memory cgroup can be made here (a sentence), or None when ``MemoryCgroup`` will work."""
    if not Path("/proc/self/cgroup").exists():
        return "no cgroups on this system (memory cgroups are Linux's)"
    own = own_cgroup("memory")
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
    """Return the value of ``name`` in a flat-keyed cgroup file (``memory.events``, ``memory.oom_control``,
    ``pids.events``), or 0."""
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


class MemoryCgroup:
    """A memory cgroup with a limit of ``limit`` bytes (page cache, tmpfs and kernel memory charged), and at most
    ``processes`` processes where given and the machine counts them (a pids cgroup); removed by ``close()``.

    Use it as a context manager; start a process in it with ``command(argv)``:
    it and everything it starts stay in it (none can leave without
    privileges), so ``close()`` kills them all. Raises OSError with
    ``unavailable_reason()``'s sentence where none can be made.
    """

    def __init__(self, limit, name="imdb-lab", *, processes=None):
        if not is_whole(limit) or limit <= 0:
            raise ValueError(f"limit should be a positive whole number of bytes, not {limit!r}")
        if processes is not None and (not is_whole(processes) or processes <= 0):
            raise ValueError(f"processes should be a positive whole number or None, not {processes!r}")
        reason = unavailable_reason()
        if reason:
            raise OSError(reason)
        self.version, parent = own_cgroup("memory")
        self.limit = limit
        self.folder = parent / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.pids_folder = None
        self.folder.mkdir()
        try:
            limit_file = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
            (self.folder / limit_file).write_text(str(limit))
            if self.version == 2:
                (self.folder / "memory.swap.max").write_text("0")  # as v1 here: no swap to hide memory in
            if processes is not None:
                self.pids_folder = self._pids_cgroup(parent, processes)
        except OSError:
            self.close()
            raise

    def _pids_cgroup(self, parent, processes):
        """Set ``pids.max``: in this cgroup (v2, where the pids controller is delegated) or in a sibling made in
        the pids hierarchy (v1); return the folder of the cgroup that counts, or None where none can."""
        if self.version == 2:
            try:
                if "pids" not in (parent / "cgroup.subtree_control").read_text().split():
                    return None
            except OSError:
                return None
            (self.folder / "pids.max").write_text(str(processes))
            return self.folder
        own = own_cgroup("pids")
        if own is None or own[0] != 1 or not os.access(own[1], os.W_OK):
            return None
        folder = own[1] / self.folder.name
        folder.mkdir()
        (folder / "pids.max").write_text(str(processes))
        return folder

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def procs(self):
        """The file a process writes its pid into to enter the cgroup."""
        return self.folder / "cgroup.procs"

    def admit(self, uid, gid):
        """Let the account ``uid`` move its own processes into this cgroup (only into it): ``command()`` then works
        for a process started as that account."""
        for folder in {self.folder, self.pids_folder} - {None}:
            os.chown(folder / "cgroup.procs", uid, gid)

    def command(self, argv):
        """Return ``argv`` wrapped so that the process enters this cgroup before it starts (its children too)."""
        if self.pids_folder is not None and self.pids_folder != self.folder:
            return ["/bin/sh", "-c", 'echo $$ > "$0" && echo $$ > "$1" && shift && exec "$@"', str(self.procs),
                    str(self.pids_folder / "cgroup.procs"), *argv]
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.procs), *argv]

    def figures(self):
        """Return what the kernel counted: peak, usage, anonymous and page cache now, OOM kills, limit (bytes)."""
        stat = _stat(self.folder)
        if self.version == 1:
            peak = int((self.folder / "memory.max_usage_in_bytes").read_text())
            usage = int((self.folder / "memory.usage_in_bytes").read_text())
            anon = stat.get("total_rss", 0) + stat.get("total_shmem", 0)
            cache = stat.get("total_cache", 0) - stat.get("total_shmem", 0)
        else:
            usage = int((self.folder / "memory.current").read_text())
            peak_file = self.folder / "memory.peak"  # Linux 5.19 and later
            peak = int(peak_file.read_text()) if peak_file.exists() else usage
            anon = stat.get("anon", 0) + stat.get("shmem", 0)
            cache = stat.get("file", 0) - stat.get("shmem", 0)
        return {"limit": self.limit, "peak": peak, "usage": usage, "anon": anon, "cache": cache,
                "oom_kills": self.oom_kills()}

    def oom_kills(self):
        """Return how many processes the kernel killed for going over the limit."""
        if self.version == 1:
            return _field(self.folder / "memory.oom_control", "oom_kill")
        return _field(self.folder / "memory.events", "oom_kill")

    def refused_forks(self):
        """Return how many times the kernel refused a process a fork for ``processes`` (0 where none is counted)."""
        if self.pids_folder is None:
            return 0
        return _field(self.pids_folder / "pids.events", "max")

    def pids(self):
        """Return the pids of the processes in the cgroup now."""
        return _pids_in(self.folder)

    def close(self, timeout=10):
        """Kill what is left in the cgroup and remove it (its charges move to the parent)."""
        deadline = time.monotonic() + timeout
        for folder in (self.folder, self.pids_folder):
            while folder is not None and folder.exists():
                for pid in _pids_in(folder):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    folder.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)


def _pids_in(folder):
    try:
        return [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []
