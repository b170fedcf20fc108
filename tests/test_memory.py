"""Tests of imdb_lab/memory.py: the memory left (machine and container limit), refusing what cannot fit."""

import os
import sys

import pytest

from imdb_lab import memory
from imdb_lab.errors import LabMemoryError


@pytest.fixture
def fake_system(tmp_path, monkeypatch):
    """A /proc and /sys/fs/cgroup of our own: write ``meminfo`` and cgroup files into them."""
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    monkeypatch.setattr(memory, "_PROC", proc)
    monkeypatch.setattr(memory, "_CGROUP", cgroup)
    return proc, cgroup


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


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
