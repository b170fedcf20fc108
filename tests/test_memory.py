"""Tests of imdb_lab/memory.py: the memory left (machine and container limit), refusing what cannot fit."""

import os
import sys

import pytest

from conftest import benchmark_module, write
from imdb_lab import memory
from imdb_lab.errors import LabMemoryError


def test_memory_left_is_the_machines_without_a_container_limit(fake_system):
    proc, _ = fake_system
    write(proc / "meminfo", "MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n")
    write(proc / "self" / "cgroup", "0::/user.slice\n")
    write(fake_system[1] / "user.slice" / "memory.max", "max\n")
    assert memory.available_memory() == 20000000 * 1024


def test_a_hub_pods_cgroup_v2_limit_wins_over_the_hosts_memory(fake_system):
    # a JupyterHub pod: /proc/meminfo shows the whole host, the cgroup the pod's 1 GB
    proc, cgroup = fake_system
    write(proc / "meminfo", "MemAvailable:   200000000 kB\n")
    write(proc / "self" / "cgroup", "0::/kubepods/pod1\n")
    write(cgroup / "kubepods" / "pod1" / "memory.max", f"{2**30}\n")
    write(cgroup / "kubepods" / "pod1" / "memory.current", f"{400 * 2**20}\n")
    assert memory.available_memory() == 2**30 - 400 * 2**20


def test_a_cgroup_v1_limit_counts_and_its_no_limit_value_does_not(fake_system):
    proc, cgroup = fake_system
    write(proc / "meminfo", "MemAvailable:   4000 kB\n")
    write(proc / "self" / "cgroup", "12:cpu,cpuacct:/x\n11:memory:/docker/abc\n")
    write(cgroup / "memory" / "docker" / "abc" / "memory.usage_in_bytes", "1000\n")
    write(cgroup / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "3000\n")
    assert memory.available_memory() == 2000
    write(cgroup / "memory" / "docker" / "abc" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert memory.available_memory() == 4000 * 1024


def v2_stat(anon, inactive_file, active_file, shmem=0):
    """A cgroup v2 ``memory.stat`` (the fields the kernel writes first, in its order)."""
    return (f"anon {anon}\nfile {inactive_file + active_file + shmem}\nkernel 4096\nshmem {shmem}\n"
            f"file_mapped 8192\ninactive_anon {anon + shmem}\nactive_anon 0\ninactive_file {inactive_file}\n"
            f"active_file {active_file}\nunevictable 0\n")


def test_page_cache_in_a_v2_pod_is_left_not_used(fake_system):
    # a fresh 1 GB pod that read its libraries and the data: 617 MB charged, of which 200 MB is page cache that the
    # kernel reclaims before it kills anything; shared memory (tmpfs) stays used
    proc, cgroup = fake_system
    write(proc / "self" / "cgroup", "0::/kubepods/pod1\n")
    pod = cgroup / "kubepods" / "pod1"
    write(pod / "memory.max", f"{10**9}\n")
    write(pod / "memory.current", f"{617 * 10**6}\n")
    write(pod / "memory.stat", v2_stat(anon=400 * 10**6, inactive_file=150 * 10**6, active_file=50 * 10**6,
                                       shmem=17 * 10**6))
    assert memory.available_memory() == 10**9 - 617 * 10**6 + 200 * 10**6
    memory.check_fits(500 * 10**6, "the training rows", "less")  # refused when the cache counted as used


def test_v1_counts_the_hierarchys_page_cache_as_left(fake_system):
    proc, cgroup = fake_system
    write(proc / "self" / "cgroup", "11:memory:/hub/kernel\n")
    folder = cgroup / "memory" / "hub" / "kernel"
    write(folder / "memory.limit_in_bytes", "1000000\n")
    write(folder / "memory.usage_in_bytes", "900000\n")
    # the cgroup's own fields and the total_* ones that include its children: the totals count
    write(folder / "memory.stat", "cache 50000\nrss 600000\ninactive_file 1000\nactive_file 2000\n"
                                  "total_cache 300000\ntotal_rss 600000\ntotal_inactive_file 200000\n"
                                  "total_active_file 100000\nhierarchical_memory_limit 1000000\n")
    assert memory.available_memory() == 1000000 - 900000 + 300000


def test_a_limit_on_a_cgroup_above_the_process_counts_and_the_tightest_wins(fake_system):
    proc, cgroup = fake_system
    write(proc / "self" / "cgroup", "0::/hub/user/kernel\n")
    write(cgroup / "hub" / "user" / "kernel" / "memory.max", "max\n")
    write(cgroup / "hub" / "user" / "kernel" / "memory.current", "100\n")
    write(cgroup / "hub" / "user" / "memory.max", "5000\n")
    write(cgroup / "hub" / "user" / "memory.current", "1000\n")
    write(cgroup / "hub" / "memory.max", "100000\n")
    write(cgroup / "hub" / "memory.current", "2000\n")
    assert memory.available_memory() == 4000
    write(cgroup / "hub" / "user" / "kernel" / "memory.max", "3000\n")
    assert memory.available_memory() == 2900


def test_a_container_that_sees_only_its_own_cgroup_reads_its_root(fake_system):
    # Docker with a cgroup namespace (v1): /proc/self/cgroup names the host's path, which the container cannot see
    proc, cgroup = fake_system
    write(proc / "self" / "cgroup", "4:memory:/docker/abc123\n")
    write(cgroup / "memory" / "memory.limit_in_bytes", "2000000\n")
    write(cgroup / "memory" / "memory.usage_in_bytes", "500000\n")
    assert memory.available_memory() == 1500000


@pytest.mark.parametrize("stat", ["", "inactive_file lots\nactive_file\n", "active_file -5\n"])
def test_an_unreadable_memory_stat_counts_no_page_cache(fake_system, stat):
    proc, cgroup = fake_system
    write(proc / "self" / "cgroup", "0::/pod\n")
    write(cgroup / "pod" / "memory.max", "1000\n")
    write(cgroup / "pod" / "memory.current", "400\n")
    write(cgroup / "pod" / "memory.stat", stat)
    assert memory.available_memory() == 600


def test_nothing_readable_means_unknown_and_nothing_is_refused(fake_system):
    assert memory.available_memory() is None
    memory.check_fits(10**15, "a petabyte", "never mind")


def test_check_fits_refuses_with_the_size_needed_and_what_to_do(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 800 * 10**6)
    memory.check_fits(700 * 10**6, "rows", "less")
    with pytest.raises(LabMemoryError, match=r"^rows would need 5.0 GB, and this machine \(or the limit of your "
                                             r"Jupyter\) has 800 MB left: use fewer words$"):
        memory.check_fits(5 * 10**9, "rows", "use fewer words")
    assert issubclass(LabMemoryError, MemoryError)


@pytest.mark.parametrize("size, text", [(250 * 10**6, "250 MB"), (999 * 10**6, "999 MB"), (10**9, "1.0 GB"),
                                        (2_200_000_000, "2.2 GB")])
def test_format_bytes(size, text):
    assert memory.format_bytes(size) == text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator settings exist on Linux only")
def test_freed_memory_is_handed_back_on_glibc_unless_the_user_set_the_threshold(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert memory.return_freed_memory() is True
    assert memory.trim_heap() is True
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert memory.return_freed_memory() is False


def test_elsewhere_nothing_changes(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.return_freed_memory() is False and memory.trim_heap() is False


def test_tensorflow_is_set_to_hand_back_its_buffers_before_it_is_imported_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert memory.keep_tensorflow_from_hoarding() is True
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the user's choice wins
    assert memory.keep_tensorflow_from_hoarding() is False and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    monkeypatch.setitem(sys.modules, "tensorflow", object())  # too late: TensorFlow read it when imported
    assert memory.keep_tensorflow_from_hoarding() is False and "TF_ENABLE_ONEDNN_OPTS" not in os.environ


# run in a memory cgroup: read a file into the page cache (charged to the cgroup), then ask what is left and use it
_READ_THEN_ALLOCATE = """
import sys
import numpy as np
from imdb_lab import memory
with open(sys.argv[1], "rb") as f:
    while f.read(1 << 24):
        pass
left = memory.available_memory()
memory.check_fits(int(sys.argv[2]), "the rows", "less")
rows = np.ones(int(sys.argv[2]), dtype=np.uint8)  # every page touched: the kernel must find room for it
print(left, int(rows.sum()))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memory cgroups are Linux's")
def test_in_a_real_cgroup_page_cache_is_left_and_the_kernel_gives_it(memory_cgroup, tmp_path):
    # 400 MB limit; the process reads 300 MB of file into the cache (charged to it), then asks for 250 MB of rows:
    # counting the cache as used says about 50 MB is left and refuses; the kernel reclaims the cache and gives them
    import subprocess

    data = tmp_path / "data.bin"
    with open(data, "wb") as f:
        for _ in range(300):
            f.write(os.urandom(1 << 20))
    benchmark_module("memory_cgroup").evict_page_cache([data])
    cgroup = memory_cgroup(400 * 2**20)
    rows = 250 * 2**20
    result = subprocess.run(cgroup.command([sys.executable, "-c", _READ_THEN_ALLOCATE, str(data), str(rows)]),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    left, total = map(int, result.stdout.split())
    assert total == rows
    figures = cgroup.figures()
    assert figures["oom_kills"] == 0
    assert left > rows, f"{left / 2**20:.0f} MB left counted, {figures}"
