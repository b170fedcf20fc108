"""Process trees the grader can contain: find every descendant, measure their memory, kill them all.

On Linux a process that calls ``become_subreaper()`` adopts each of its
descendants whose parent dies, so a grandchild that double-forks and calls
``setsid()`` is still found below it in ``/proc``, and killed. Elsewhere
(macOS, Windows) only the process group (the process tree on Windows)
started for a notebook is killed, and memory is not measured: ``CONTAINED``
says which of the two this machine gives.
"""

import collections
import ctypes
import dataclasses
import os
import signal
import stat as stat_module
import subprocess
import sys
import threading
import time
from pathlib import Path

from imdb_lab import cgroups
from imdb_lab.grader.filesystems import INODES, box_full
from imdb_lab.grader.statuses import TIMED_OUT, Status, over_disk, over_memory, over_processes

_PR_SET_CHILD_SUBREAPER = 36
CONTAINED = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_POLL_SECONDS = 0.1
_DISK_POLL_SECONDS = 1.0  # walking a folder costs more than reading /proc


def become_subreaper():
    """Make this process adopt its orphaned descendants (Linux); return False where the system cannot."""
    if not CONTAINED:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _parents(zombies=False, owner=None):
    """Return {pid: parent pid} of every process this user can see (Linux /proc), zombies only if asked, only the
    account ``owner``'s if given."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if owner is not None and entry.stat().st_uid != owner:
                continue
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue  # it ended while we looked
        # the command name in parentheses may hold spaces and parentheses: split after the last one
        fields = stat[stat.rindex(b")") + 2:].split()
        if zombies or fields[0] != b"Z":  # a zombie has ended: only its parent's wait is missing
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root):
    """Return the pids of every living descendant of ``root`` (not ``root`` itself); [] without /proc."""
    if not CONTAINED:
        return []
    children = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def children(root, zombies=False):
    """Return the pids of ``root``'s direct children (with the zombies among them if asked)."""
    return [pid for pid, parent in _parents(zombies).items() if parent == root]


def resident_bytes(pids):
    """Return the summed resident memory of ``pids`` in bytes (those that ended count 0)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_bytes().split()[1]) * _PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _kill(pid):
    try:
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows has no SIGKILL: SIGTERM terminates
    except (ProcessLookupError, PermissionError, OSError):
        pass


def reap(pids):
    """Collect the exit status of those of ``pids`` that are this process's finished children."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _kill_until_none(targets, patience):
    """SIGKILL the pids ``targets()`` returns, and again, until it returns none (a process may fork while we
    kill), for at most ``patience`` seconds; return the number of processes killed."""
    killed, deadline = set(), time.monotonic() + patience
    while time.monotonic() < deadline:
        found = targets()
        for pid in found:
            _kill(pid)
        killed.update(found)
        if not found:
            break
        time.sleep(0.01)
    return len(killed)


def kill_descendants(root=None, *, spare=(), patience=10.0):
    """SIGKILL every descendant of ``root`` (default: this process) except the trees of ``spare``; reap them.

    Repeats until none is left (a process may fork while we kill), for at most
    ``patience`` seconds; returns the number of processes killed.
    """
    if not CONTAINED:
        return 0
    root = os.getpid() if root is None else root

    def targets():
        # the targets first, the spared trees after: a process a spared tree forks between the two reads (a
        # sandbox starting its runner, a runner its kernel) is then spared, not killed as a stray
        found = descendants(root)
        spared = set(spare)
        for pid in spare:
            spared.update(descendants(pid))
        if root == os.getpid():
            # the orphans this subreaper adopted (and killed) are its children: collect them, or they stay zombies
            reap(pid for pid in children(root, zombies=True) if pid not in spared)
        return [pid for pid in found if pid not in spared]

    return _kill_until_none(targets, patience)


def kill_user(uid, *, patience=10.0):
    """SIGKILL every process of the account ``uid`` (Linux /proc) until none is left, for at most ``patience``
    seconds; reap those that were this process's children. Return the number killed."""
    if not CONTAINED:
        return 0

    def targets():
        reap(_parents(zombies=True, owner=uid))  # the account's processes this subreaper adopted, killed before
        return list(_parents(owner=uid))

    return _kill_until_none(targets, patience)


def kill_group(pid):
    """Kill the process group led by ``pid`` (macOS), or its process tree (Windows): where /proc is missing."""
    if sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], capture_output=True, check=False)
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        _kill(pid)


class _Started:
    """The processes the grader started and still waits for: spared when it kills what notebooks left behind."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pids = set()

    def popen(self, command, **kwargs):
        """Start ``command`` as a registered process (new session) and return its Popen."""
        with self.lock:  # no stray-killing between the fork and the registration
            process = subprocess.Popen(command, start_new_session=True, **kwargs)
            self.pids.add(process.pid)
        return process

    def finished(self, process):
        """Forget ``process`` (waited for), then kill whatever it left behind."""
        with self.lock:
            self.pids.discard(process.pid)
            if CONTAINED:
                # orphans of a killed runner were adopted by this (subreaper) process: none may live on
                kill_descendants(spare=tuple(self.pids))


_STARTED = _Started()


def disk_usage(folder):
    """Return ``(bytes, files)``: what the files under ``folder`` take on disk, and how many entries it holds (links
    not followed; what vanished counts 0)."""
    total, files, todo = 0, 0, [str(folder)]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue
        files += len(entries)
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += getattr(stat, "st_blocks", 0) * 512 or stat.st_size  # st_blocks: sparse files count as written
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
    return total, files


def unlinked_bytes(pids):
    """Return ``(in_memory, on_disk)``: the bytes of the files ``pids`` hold open that no name leads to any more,
    each file once (Linux /proc).

    ``in_memory``: memfds and unlinked shared-memory files, memory no resident
    set shows; ``on_disk``: other unlinked files (one grown with
    ``posix_fallocate`` included), which no walk of a folder finds.
    """
    seen, in_memory, on_disk = set(), 0, 0
    for pid in pids:
        try:
            descriptors = list(os.scandir(f"/proc/{pid}/fd"))
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                target = os.readlink(descriptor.path)
                if not target.endswith(" (deleted)"):
                    continue
                opened = os.stat(descriptor.path)  # the file itself, through the descriptor
            except OSError:
                continue
            if (opened.st_dev, opened.st_ino) in seen or not stat_module.S_ISREG(opened.st_mode):
                continue
            seen.add((opened.st_dev, opened.st_ino))
            if target.startswith(("/memfd:", "/dev/shm/")):
                in_memory += opened.st_blocks * 512
            else:
                on_disk += opened.st_blocks * 512
    return in_memory, on_disk


# what one notebook may use unless the grader is told otherwise (imdb-lab grade's options): its run, export and scoring
DEFAULT_TIMEOUT = 1800.0
DEFAULT_MEMORY = 4 * 2**30
DEFAULT_DISK = 2 * 2**30
DEFAULT_PROCESSES = 64


# the threads a process may run in a cgroup's task count (a TensorFlow kernel runs a hundred): the kernel's own cap
# on a fork or thread bomb, far above what --processes allows, which the grader counts itself (processes only)
TASKS_PER_PROCESS = 256


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one notebook may use: ``deadline`` (time.monotonic()), ``memory`` bytes of all its processes together,
    and, where given, ``disk`` bytes under ``folder`` and ``processes`` at once.

    ``filesystem``: ``folder`` is a filesystem of its own, of ``disk`` bytes
    (``filesystems.mount_box``): the kernel enforces the disk limit, and the box
    is over it when that filesystem is full.
    """

    deadline: float
    memory: int
    disk: int | None = None
    folder: Path | None = None
    processes: int | None = None
    filesystem: bool = False

    def first_exceeded(self, pid, check_disk):
        """Return the status of the first limit the process tree of ``pid`` broke, or None."""
        if time.monotonic() >= self.deadline:
            return Status(TIMED_OUT)
        tree = [pid, *descendants(pid)]
        # memory and disk no resident set and no walk shows (a memfd, an unlinked file): with the disk, once a second
        in_memory, on_disk = unlinked_bytes(tree) if check_disk else (0, 0)
        if resident_bytes(tree) + in_memory > self.memory:
            return over_memory(self.memory)
        if self.processes is not None and CONTAINED and len(tree) > self.processes:
            return over_processes(self.processes)
        if self.filesystem:
            return self.disk_outcome()
        if check_disk and self.disk is not None:
            used, files = disk_usage(self.folder)
            if used + on_disk > self.disk or files > INODES:
                return over_disk(self.disk)
        return None

    def disk_outcome(self):
        """Return ``over_disk`` when the box's own filesystem is full, else None (always None without one)."""
        return over_disk(self.disk) if self.filesystem and box_full(self.folder) else None


def kernel_cgroup(limits):
    """Return a ``cgroups.MemoryCgroup`` that enforces ``limits`` (memory, and tasks where ``processes`` is given),
    or None where this machine gives none (the limits are then polled only)."""
    if not CONTAINED:
        return None
    tasks = None if limits.processes is None else limits.processes * TASKS_PER_PROCESS
    try:
        return cgroups.MemoryCgroup(limits.memory, "imdb-lab-grade", processes=tasks)
    except OSError:  # none can be made here (its message says why): the limits are polled only
        return None


def _enforced_outcome(group, limits):
    """Return the status of a limit the kernel enforced on ``group`` (it killed a process for memory, or refused a
    fork), or None."""
    if group.oom_kills():
        return over_memory(limits.memory)
    if group.refused_forks():
        return over_processes(limits.processes)
    return None


def watch(process, limits):
    """Wait for ``process`` within ``limits`` (its whole tree); return None or the status it was killed with."""
    disk_checked = time.monotonic()
    while True:
        try:
            process.wait(timeout=_POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        check_disk = time.monotonic() - disk_checked >= _DISK_POLL_SECONDS
        if check_disk:
            disk_checked = time.monotonic()
        outcome = limits.first_exceeded(process.pid, check_disk)
        if outcome is None:
            continue
        if CONTAINED:
            kill_descendants(process.pid)
        else:
            kill_group(process.pid)
        process.kill()
        process.wait()
        return outcome


# what the grader keeps of a child's stdout: its end (the scorer's result is its last line); a notebook can write
# to the runner's stdout, endlessly
STDOUT_BYTES = 2**20


def _keep_the_end(stream, chunks):
    """Read ``stream`` to its end, keeping in ``chunks`` (a deque) its last ``STDOUT_BYTES`` or so, not all of it."""
    kept = 0
    while chunk := stream.read1(65536):
        chunks.append(chunk)
        kept += len(chunk)
        while kept - len(chunks[0]) >= STDOUT_BYTES:
            kept -= len(chunks.popleft())


def run_watched(command, limits, *, user=None, **kwargs):
    """Run ``command`` in a new session under ``limits``, as ``user`` if given (a ``sandbox.NotebookUser``); return
    ``(outcome, returncode, stdout)``.

    Where the machine gives one, the command runs in a memory cgroup of its
    own (``kernel_cgroup``): the kernel enforces the memory limit on all its
    processes (what they map, their tmpfs files and shared memory, a
    ``memfd``) and caps their tasks; the grader still polls as a second line.
    ``outcome`` is None, or the status it was killed with (timed out, over a
    limit); ``stdout``, the last ``STDOUT_BYTES`` or so of its output. When
    it ends, whatever it left behind is killed (``_Started.finished``, and the
    whole cgroup), before this returns.
    """
    group = kernel_cgroup(limits)
    if group is not None:
        command = group.command(command)
    if user is not None:
        kwargs.update(user.popen_options())
        if group is not None:
            group.admit(user.uid, user.gid)  # it enters its cgroup itself, as that account
    try:
        process = _STARTED.popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, **kwargs)
        output = collections.deque()
        reader = threading.Thread(target=_keep_the_end, args=(process.stdout, output), daemon=True)
        reader.start()
        try:
            outcome = watch(process, limits)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            _STARTED.finished(process)
        if outcome is None and group is not None:
            outcome = _enforced_outcome(group, limits)
        if outcome is None:
            outcome = limits.disk_outcome()
    finally:
        if group is not None:
            group.close()
    reader.join(timeout=5)
    return outcome, process.returncode, b"".join(output).decode("utf-8", "replace")
