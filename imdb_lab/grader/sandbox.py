"""Each notebook's sandbox: bubblewrap's namespaces around the runner and everything it starts (Linux).

Inside, the file system is read-only and holds only what Python and the lab
need (the system's ``/usr`` and ``/etc``, the interpreter and the folders it
imports from), plus the notebook's private box, the one writable folder, and a
``/tmp`` and ``/dev/shm`` of ``TMP_BYTES`` each (the root and ``/dev``, which
bubblewrap makes as tmpfs, are made read-only). Masked out even where they lie
inside those: the grader's working folders, the classmates' folders, the data
archive and caches, the rows file and the grader's key (``Box.hidden``). There is no network (only
its own loopback, for the kernel), and the notebook sees and can signal only
its own processes (a PID namespace). The grader keeps the memory, time,
process-count and disk limits outside (``processes.run_watched``: a memory
cgroup and the box's own filesystem where the machine gives them).

Where bubblewrap cannot run (macOS, Windows, Linux without it or without user
namespaces), ``unavailable()`` says why. A grader that runs as root there (a
container without user namespaces, as Gradescope's) contains notebooks
another way: it runs them as an unprivileged account of their own
(``NOTEBOOK_USER``, ``notebook_user()``), which cannot signal the grader, nor
read or write what only root may (the grader's data and state, Gradescope's
results). Without either, the grader runs notebooks uncontained and says so on
every row, or refuses to start (``--require-sandbox``).
"""

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import pwd
except ImportError:  # Windows has no accounts database of this kind
    pwd = None

from imdb_lab.errors import first_line
from imdb_lab.grader.launch import scorer_path
from imdb_lab.grader.records import USER  # noqa: F401 - the containment use_sandbox names, with this module's

INSTALL_HINT = ("install bubblewrap from your distribution (apt-get install bubblewrap, dnf install bubblewrap, "
                "apk add bubblewrap)")
# the system's own files; those missing (or links to /usr on a merged-/usr system) are handled as they are
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
TMP_BYTES = 64 * 2**20
# the account notebooks run as where bubblewrap cannot (the autograder's setup.sh creates it on Gradescope)
NOTEBOOK_USER = "imdb-lab-notebook"
_NAMESPACES = ("--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox")


@functools.lru_cache(maxsize=1)
def unavailable():
    """Return None when notebooks can be sandboxed here, else why not (a sentence that says what to do)."""
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform}: bubblewrap needs Linux"
    tool = shutil.which("bwrap")
    if tool is None:
        return f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}"
    try:
        probe = subprocess.run([tool, *_NAMESPACES, *_system_binds(), "--proc", "/proc", "--dev", "/dev", "true"],
                               capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not run here ({error})"
    if probe.returncode != 0:
        return (f"bubblewrap cannot make its namespaces here ({first_line(probe.stderr.strip()) or probe.returncode}): "
                "user namespaces may be turned off (sysctl kernel.unprivileged_userns_clone=1, or "
                "user.max_user_namespaces > 0)")
    return None


@dataclasses.dataclass(frozen=True)
class NotebookUser:
    """The unprivileged account notebooks run as where bubblewrap cannot: its user and group ids."""

    uid: int
    gid: int

    def popen_options(self):
        """Return the ``subprocess.Popen`` options that start a process as this account (no other group)."""
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "umask": 0o077}

    def hand_over(self, folder):
        """Make ``folder`` and everything in it this account's (links themselves, never what they point at)."""
        os.chown(folder, self.uid, self.gid)
        for parent, folders, files in os.walk(folder):
            for name in folders + files:
                os.lchown(os.path.join(parent, name), self.uid, self.gid)


def notebook_user():
    """Return the ``NotebookUser`` notebooks can run as here, else None (``user_unavailable`` says why)."""
    return None if user_unavailable() else _account()


def _account():
    """Return ``NOTEBOOK_USER``'s ``NotebookUser`` (None where there is no such account, or it is root's)."""
    if pwd is None:
        return None
    try:
        entry = pwd.getpwnam(NOTEBOOK_USER)
    except KeyError:
        return None
    return NotebookUser(entry.pw_uid, entry.pw_gid) if entry.pw_uid != 0 and entry.pw_gid != 0 else None


def user_unavailable():
    """Return None when notebooks can run as ``NOTEBOOK_USER`` here (Linux, this process root, the account there
    and able to run this Python and the lab), else why not (a sentence that says what to do)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"only a grader run as root on Linux can run notebooks as the account {NOTEBOOK_USER}"
    user = _account()
    if user is None:
        return (f"there is no account {NOTEBOOK_USER} to run notebooks as (useradd --system --shell "
                f"/usr/sbin/nologin {NOTEBOOK_USER}; the autograder's setup.sh makes it)")
    for path in [Path(sys.executable).resolve(), *python_folders()]:
        if not _path_allows(user, path, 5):
            return (f"the account {NOTEBOOK_USER} cannot reach {path}, which the lab runs from: install Python and "
                    "the lab where every account can run them (a folder above it is private)")
    return None


def _path_allows(user, path, bits):
    """Return whether ``user`` can search every folder down to ``path`` and has ``bits`` of ``path`` itself (4 read,
    2 write, 1 search or run), by their modes (False where one cannot be read)."""

    def allows(mode_stat, wanted):
        shift = 6 if mode_stat.st_uid == user.uid else 3 if mode_stat.st_gid == user.gid else 0
        return (mode_stat.st_mode >> shift) & wanted == wanted

    try:
        return all(allows(os.stat(folder), 1) for folder in path.parents) and allows(os.stat(path), bits)
    except OSError:
        return False


def readable_by(user, path):
    """Return whether ``user`` (a ``NotebookUser``) could read ``path``, by the modes of the file and the folders
    above it."""
    return _path_allows(user, Path(path).resolve(), 4)


def _system_binds():
    args = []
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _inside(path, folders):
    return any(path == folder or folder in path.parents for folder in folders)


def python_folders():
    """Return the folders the interpreter and the lab run from: its prefixes, its executable's and its import path."""
    executable = Path(sys.executable).absolute()
    candidates = {Path(sys.prefix), Path(sys.base_prefix), executable.parent, executable.resolve().parent,
                  *map(Path, scorer_path())}
    folders = sorted({path.resolve() for path in candidates if path.exists()}, key=lambda path: len(path.parts))
    kept = []
    for folder in folders:  # a folder inside another one is bound with it
        if not _inside(folder, kept) and not _inside(folder, [Path(p) for p in _SYSTEM]):
            kept.append(folder)
    return kept


class Box:
    """One notebook's sandbox: ``folder`` is writable (also its ``/tmp``); ``hidden`` paths are masked out."""

    def __init__(self, folder, *, hidden=()):
        self.folder = Path(folder).resolve()
        self.hidden = [Path(path).absolute() for path in hidden]

    def command(self, command, *, env, cwd):
        """Return ``command`` run by bubblewrap in this box, with exactly ``env`` and in ``cwd`` (inside the box)."""
        readable = python_folders()
        # a small private /tmp first (TMPDIR points into the box, where the disk limit counts what is written), so
        # that what is bound below it (an interpreter, the box, under the machine's /tmp) stays in view
        args = [shutil.which("bwrap") or "bwrap", *_NAMESPACES, "--clearenv", *_system_binds(),
                "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
        for folder in readable:
            args += ["--ro-bind", str(folder), str(folder)]
        # /dev/shm as small as /tmp: by default it is a folder of /dev's tmpfs, which holds half the machine's RAM
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/dev/shm"]
        for path in self._masks(readable):
            args += ["--tmpfs", str(path), "--remount-ro", str(path)] if path.is_dir() else \
                ["--ro-bind", "/dev/null", str(path)]
        args += ["--bind", str(self.folder), str(self.folder)]
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        # the root and /dev are bubblewrap's tmpfs, writable and as large as half the machine's RAM: read-only once
        # every mount point is made, so that the box, /tmp and /dev/shm are all a notebook can write
        args += ["--remount-ro", "/dev", "--remount-ro", "/"]
        return [*args, "--chdir", str(cwd), "--", *command]

    def _masks(self, readable):
        """Return the paths to mask: the hidden ones the read-only folders would show (the box is bound after them).

        A hidden folder that is or holds one of the read-only folders (a class
        folder that is the lab's own repository) is masked entry by entry around
        what Python imports.
        """
        shown = readable + [Path(path) for path in _SYSTEM]
        masks = set()
        for path in self.hidden:
            if os.path.lexists(path) and not path.is_symlink() and _inside(path.resolve(), shown):
                masks.update(_around(path.resolve(), readable))
        return sorted(masks, key=lambda path: len(path.parts))


def _around(path, readable):
    """Return ``path`` to mask, or, if it is or holds a folder Python imports from, what of it to mask instead:
    every entry but those folders and, in them, what Python could import (recursively)."""
    if not path.is_dir() or not any(path == folder or path in folder.parents for folder in readable):
        return [path]
    masks = []
    for entry in path.iterdir():
        if entry.is_symlink() or entry in readable or (path in readable and _importable(entry)):
            continue  # a link leads to what is masked or not shown anyway
        masks += _around(entry, readable)
    return masks


def _importable(entry):
    """Return True for a module, package or path hook Python could import from its folder."""
    if entry.is_dir():
        return (entry / "__init__.py").exists()
    return entry.suffix in (".py", ".pth", ".so", ".pyd")
