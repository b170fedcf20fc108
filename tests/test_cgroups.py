"""Tests of imdb_lab/cgroups.py: which cgroup holds this process, and the CPU limit of a quota (a fake /proc and
/sys/fs/cgroup, then a real cgroup v1 CPU quota where this machine lets us make one)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import write
from imdb_lab import cgroups


def test_a_v1_hierarchy_of_the_controller_comes_before_v2(fake_system):
    proc, root = fake_system
    write(proc / "self" / "cgroup", "4:memory:/hub/user\n2:cpu,cpuacct:/pod\n0::/\n")
    assert cgroups.own_cgroup("memory") == (1, root / "memory" / "hub" / "user")
    assert cgroups.cgroup_chain("cpu") == (1, [root / "cpu,cpuacct" / "pod", root / "cpu,cpuacct"])
    write(proc / "self" / "cgroup", "0::/user.slice/session\n")
    assert cgroups.cgroup_chain("cpu") == (2, [root / "user.slice" / "session", root / "user.slice", root])


@pytest.mark.parametrize("files, limit", [
    ({"pod/cpu.max": "200000 100000\n"}, 2),
    ({"pod/cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: up to 2 jobs
    ({"pod/cpu.max": "20000 100000\n"}, 1),  # a fifth of a CPU: still one
    ({"pod/cpu.max": "max 100000\n"}, None),
    ({"pod/cpu.max": "max 100000\n", "cpu.max": "300000 100000\n"}, 3),  # a quota above counts
    ({"pod/cpu.max": "400000 100000\n", "cpu.max": "100000 100000\n"}, 1),  # the tightest wins
    ({}, None),
])
def test_the_cpu_limit_of_cgroup_v2_quotas(fake_system, files, limit):
    proc, root = fake_system
    write(proc / "self" / "cgroup", "0::/pod\n")
    for name, content in files.items():
        write(root / name, content)
    assert cgroups.cpu_limit() == limit


def test_the_cpu_limit_of_a_cgroup_v1_quota(fake_system):
    proc, root = fake_system
    write(proc / "self" / "cgroup", "2:cpu,cpuacct:/kubepods/pod1\n")
    write(root / "cpu,cpuacct" / "kubepods" / "pod1" / "cpu.cfs_quota_us", "250000\n")
    write(root / "cpu,cpuacct" / "kubepods" / "pod1" / "cpu.cfs_period_us", "100000\n")
    write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")
    write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    assert cgroups.cpu_limit() == 3


def test_without_cgroups_there_is_no_limit(fake_system):
    assert cgroups.own_cgroup("cpu") is None and cgroups.cpu_limit() is None


def _cpu_hierarchy():
    """Return this process's cgroup v1 CPU folder where we may make a child (root, cgroup v1), else None."""
    own = cgroups.own_cgroup("cpu")
    if own is None or own[0] != 1 or not os.access(own[1], os.W_OK):
        return None
    return own[1]


@pytest.mark.slow
@pytest.mark.skipif(_cpu_hierarchy() is None, reason="no writable cgroup v1 CPU hierarchy here (needs root)")
def test_in_a_real_cpu_quota_grade_uses_the_quotas_cores_not_the_machines(tmp_path):
    # a pod's limits.cpu, as the kernel enforces it: a child cgroup of ours with a quota of 1.5 CPUs
    child = _cpu_hierarchy() / f"imdb-lab-test-{uuid.uuid4().hex[:8]}"
    child.mkdir()
    try:
        (child / "cpu.cfs_period_us").write_text("100000")
        (child / "cpu.cfs_quota_us").write_text("150000")
        code = "from imdb_lab.commands.grade import cores; import os; print(cores(), len(os.sched_getaffinity(0)))"
        out = subprocess.run(["sh", "-c", f'echo $$ > "{child}/cgroup.procs"; exec "$0" -c "$1"', sys.executable,
                              code], capture_output=True, text=True, check=True, timeout=60).stdout.split()
        assert int(out[0]) == min(2, int(out[1]))
    finally:
        for _ in range(50):  # the process has ended; the kernel may take a moment to let the cgroup go
            try:
                Path(child).rmdir()
                break
            except OSError:
                time.sleep(0.1)
