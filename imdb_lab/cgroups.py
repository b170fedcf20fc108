"""This process's control groups (Linux): which one holds it for a controller, and the CPU limit they set.

A hub or a container runtime limits a process through its cgroup, or one
above it (the pod's, the user's): ``cgroup_chain`` gives them all, innermost
first, and what each sets is read from its files. ``imdb_lab.memory`` reads
the memory left there; ``cpu_limit`` the cores a CPU quota allows.
"""

import math
from pathlib import Path

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
