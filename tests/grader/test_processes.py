"""Tests of imdb_lab.grader.processes: finding, measuring and killing a process tree, setsid() included."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from imdb_lab import cgroups
from imdb_lab.grader import processes, sandbox

pytestmark = pytest.mark.skipif(not processes.CONTAINED, reason="process trees are read from Linux's /proc")

# a child that double-forks: the grandchild starts a session of its own, writes its pid, and sleeps
ESCAPER = """
import os, sys, time
if os.fork():
    time.sleep(60)
    sys.exit(0)
os.setsid()
if os.fork():
    os._exit(0)
with open(sys.argv[1], "w") as file:
    file.write(str(os.getpid()))
time.sleep(60)
"""


def alive(pid):
    """Return True while ``pid`` runs (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_file(path, seconds=20):
    """Wait until ``path`` has content; return it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


def test_descendants_of_a_process_that_ended_are_none():
    assert processes.descendants(2**22 + 12345) == []


def test_resident_bytes_of_this_process_is_its_rss():
    rss_kb = int(next(line for line in Path("/proc/self/status").read_text().splitlines()
                      if line.startswith("VmRSS:")).split()[1])
    measured = processes.resident_bytes([os.getpid()])
    assert measured == pytest.approx(rss_kb * 1024, rel=0.2)
    assert processes.resident_bytes([os.getpid(), 2**22 + 12345]) == pytest.approx(measured, rel=0.2)


@pytest.mark.slow
def test_a_subreaper_finds_and_kills_a_double_forked_setsid_grandchild(tmp_path):
    # a subreaper of its own, so that this test process's state is left alone
    code = f"""
import subprocess, sys, time
from pathlib import Path
from imdb_lab import cgroups
from imdb_lab.grader import processes, sandbox
assert processes.become_subreaper()
child = subprocess.Popen([sys.executable, "-c", {ESCAPER!r}, {str(tmp_path / 'pid')!r}])
while not Path({str(tmp_path / 'pid')!r}).exists() or not Path({str(tmp_path / 'pid')!r}).read_text():
    time.sleep(0.05)
print(len(processes.descendants(processes.os.getpid())), flush=True)
print(processes.kill_descendants(), flush=True)
print(len(processes.descendants(processes.os.getpid())), flush=True)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    found, killed, left = map(int, result.stdout.split())
    grandchild = int((tmp_path / "pid").read_text())
    assert found >= 2 and killed == found and left == 0  # the child and the grandchild that escaped its session
    assert not alive(grandchild)


@pytest.mark.slow
def test_kill_descendants_of_another_process_spares_nothing_below_it(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", ESCAPER, str(tmp_path / "pid")])
    try:
        grandchild = int(wait_for_file(tmp_path / "pid"))
        # without a subreaper the setsid() grandchild is no longer below the parent: only the session leader is
        assert grandchild not in processes.descendants(parent.pid)
        below = processes.descendants(parent.pid)
        assert processes.kill_descendants(parent.pid) == len(below)
        assert processes.descendants(parent.pid) == []
    finally:
        parent.kill()
        parent.wait()
        os.kill(grandchild, 9)


def naive_disk_usage(folder):
    """The bytes on disk of every file and folder below ``folder``, and how many, with os.walk (links not
    followed)."""
    total = count = 0
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            stat = os.lstat(os.path.join(root, name))
            total += stat.st_blocks * 512 or stat.st_size
            count += 1
    return total, count


def test_disk_usage_counts_what_is_written_below_a_folder_as_a_walk_does(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.bin").write_bytes(bytes(3 * 2**20))
    (tmp_path / "a" / "b" / "two.bin").write_bytes(b"x" * 5000)
    (tmp_path / "link").symlink_to("/usr")  # not followed
    assert processes.disk_usage(tmp_path) == naive_disk_usage(tmp_path)
    assert processes.disk_usage(tmp_path)[0] >= 3 * 2**20 + 5000 and processes.disk_usage(tmp_path)[1] == 5
    assert processes.disk_usage(tmp_path / "missing") == (0, 0)


def test_unlinked_files_a_process_holds_are_counted_once_memfds_as_memory(tmp_path):
    memfd = os.memfd_create("held")
    os.write(memfd, bytes(3 * 2**20))
    unlinked = os.open(tmp_path / "hidden.bin", os.O_CREAT | os.O_RDWR)
    os.unlink(tmp_path / "hidden.bin")
    os.posix_fallocate(unlinked, 0, 5 * 2**20)
    again = os.open(f"/proc/self/fd/{unlinked}", os.O_RDONLY)  # the same file twice counts once
    try:
        in_memory, on_disk = processes.unlinked_bytes([os.getpid()])
        assert 3 * 2**20 <= in_memory < 4 * 2**20 and 5 * 2**20 <= on_disk < 6 * 2**20
    finally:
        for fd in (memfd, unlinked, again):
            os.close(fd)
    assert processes.unlinked_bytes([os.getpid()]) == (0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("code, limits, status", [
    ("open('big', 'wb').write(bytes(3 * 2**20)); import time; time.sleep(30)",
     {"disk": 2**20}, "over the disk limit (1 MiB)"),
    ("import subprocess, time; [subprocess.Popen(['sleep', '30']) for _ in range(8)]; time.sleep(30)",
     {"processes": 5}, "over the process limit (5)"),
    ("import time; time.sleep(30)", {"processes": 5, "disk": 2**20}, "timed out"),
])
def test_run_watched_stops_a_tree_over_a_limit_and_says_which(tmp_path, code, limits, status):
    started = time.monotonic()
    outcome, _, _ = processes.run_watched([sys.executable, "-c", code],
                                          processes.Limits(started + 4, 2**30, folder=tmp_path, **limits),
                                          cwd=tmp_path)
    assert outcome == status
    assert time.monotonic() - started < 10
    assert processes.descendants(os.getpid()) == []  # the sleepers went with it


MEMFD = """
import os, time
fd = os.memfd_create("held")  # memory in no process's resident set: only the kernel's count sees it
for _ in range(24):
    os.write(fd, bytes(16 * 2**20))
print("held", flush=True)
time.sleep(30)
"""
THREADS = """
import threading, time
threads = [threading.Thread(target=time.sleep, args=(30,), daemon=True) for _ in range(300)]
for thread in threads:
    thread.start()
"""


@pytest.mark.slow
@pytest.mark.skipif(cgroups.unavailable_reason() is not None,
                    reason=f"no memory cgroup: {cgroups.unavailable_reason()}")
@pytest.mark.parametrize("code, limits, status", [
    (MEMFD, {"memory": 200 * 2**20}, "over the memory limit (200 MiB)"),
    # a process may run TASKS_PER_PROCESS threads, a TensorFlow kernel's hundred and more: not 300
    (THREADS, {"memory": 2**30, "processes": 1}, "over the process limit (1)"),
])
def test_the_kernel_enforces_memory_no_poll_sees_and_a_cap_on_tasks(tmp_path, code, limits, status):
    # a memfd of 384 MB holds no resident memory: the grader's poll never sees it, the memory cgroup does; a
    # thread is no process: the poll counts one process, the cgroup's task count refuses the 257th thread
    started = time.monotonic()
    outcome, _, stdout = processes.run_watched([sys.executable, "-c", code],
                                               processes.Limits(started + 20, folder=tmp_path, **limits),
                                               cwd=tmp_path)
    assert outcome == status
    assert "held" not in stdout  # killed by the kernel before it held it all
    assert time.monotonic() - started < 15
    assert processes.descendants(os.getpid()) == []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or sandbox._account() is None,
                    reason=f"needs root and the account {sandbox.NOTEBOOK_USER} (the autograder's setup.sh makes it)")
def test_kill_user_leaves_no_process_of_the_account_not_even_one_that_left_its_session():
    if sandbox.user_unavailable():
        pytest.skip(sandbox.user_unavailable())
    user = sandbox._account()
    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # one the account reaches (pytest's own folders are private)
    user.hand_over(folder)
    try:
        process = subprocess.Popen([sys.executable, "-c", ESCAPER, str(folder / "pid")], **user.popen_options())
        for _ in range(200):  # the grandchild has started a session of its own and written its pid
            if (folder / "pid").exists() and (folder / "pid").read_text():
                break
            time.sleep(0.05)
        escaped = int((folder / "pid").read_text())
    finally:
        shutil.rmtree(folder)
    assert os.stat(f"/proc/{escaped}").st_uid == user.uid
    assert processes.kill_user(user.uid) >= 2
    process.wait(timeout=10)
    assert not alive(escaped) and processes._parents(owner=user.uid) == {}


@pytest.mark.slow
def test_run_watched_keeps_the_end_of_an_endless_stdout_not_all_of_it(tmp_path):
    # a notebook can write to its runner's stdout, which the grader reads: 64 MB of it must not be 64 MB of the
    # grader's memory, and the last line (the scorer's result) is what is kept
    code = "import os\nfor _ in range(64): os.write(1, b'x' * 2**20)\nprint('\\nthe result', flush=True)"
    outcome, code, stdout = processes.run_watched([sys.executable, "-c", code],
                                                  processes.Limits(time.monotonic() + 30, 2**30), cwd=tmp_path)
    assert outcome is None and code == 0
    assert stdout.endswith("\nthe result\n") and len(stdout) <= processes.STDOUT_BYTES + 65536


@pytest.mark.slow
@pytest.mark.parametrize("code, limits, status", [
    (MEMFD, {"memory": 200 * 2**20}, "over the memory limit (200 MiB)"),
    ("import os, time\nfd = os.open('hidden.bin', os.O_CREAT | os.O_RDWR)\nos.unlink('hidden.bin')\n"
     "os.posix_fallocate(fd, 0, 64 * 2**20)\ntime.sleep(30)", {"disk": 8 * 2**20}, "over the disk limit (8 MiB)"),
    ("import os, time\nfor i in range(300): open(str(i), 'w').close()\ntime.sleep(30)", {"disk": 8 * 2**20},
     "over the disk limit (8 MiB)"),
])
def test_without_the_kernels_limits_the_poll_sees_memfds_unlinked_files_and_empty_files(tmp_path, monkeypatch,
                                                                                        code, limits, status):
    # a grader that may neither make cgroups nor mount (not root): the second line, once a second
    monkeypatch.setattr(processes, "kernel_cgroup", lambda limits: None)
    monkeypatch.setattr(processes, "INODES", 200)
    started = time.monotonic()
    outcome, _, _ = processes.run_watched([sys.executable, "-c", code],
                                          processes.Limits(started + 20, **{"memory": 2**30, **limits},
                                                           folder=tmp_path), cwd=tmp_path)
    assert outcome == status  # within a second of holding it: a poll cannot stop it sooner, as the kernel does
    assert time.monotonic() - started < 15


def test_a_process_a_spared_tree_forks_while_strays_are_killed_is_spared(monkeypatch):
    # the grader kills what a finished notebook left behind while another notebook's sandbox starts its runner:
    # the runner, forked between the two reads of /proc, belongs to the spared tree and must live
    root, sandbox, stray, runner = 10, 20, 30, 40
    world = {"forked": False, "dead": set()}

    def descendants(pid):
        tree = {root: [sandbox, stray] + ([runner] if world["forked"] else []),
                sandbox: [runner] if world["forked"] else []}
        found = [p for p in tree.get(pid, []) if p not in world["dead"]]
        world["forked"] = True  # the sandbox forks its runner right after the first read
        return found

    monkeypatch.setattr(processes, "descendants", descendants)
    monkeypatch.setattr(processes, "_kill", lambda pid: world["dead"].add(pid))
    assert processes.kill_descendants(root, spare=(sandbox,), patience=1) == 1
    assert world["dead"] == {stray}
