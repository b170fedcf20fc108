"""Tests of imdb_lab.grader.sandbox: whether the machine can sandbox, what a sandbox shows, and that it holds."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from imdb_lab.errors import SandboxError
from imdb_lab.grader import grading, sandbox

NO_SANDBOX = sandbox.unavailable()


@pytest.fixture
def no_cache():
    sandbox.unavailable.cache_clear()
    yield
    sandbox.unavailable.cache_clear()


def test_without_bubblewrap_the_reason_says_how_to_install_it(monkeypatch, no_cache):
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert sandbox.unavailable() == ("bubblewrap (bwrap) is not installed: install bubblewrap from your "
                                     "distribution (apt-get install bubblewrap, dnf install bubblewrap, "
                                     "apk add bubblewrap)")


def test_off_linux_there_is_no_sandbox(monkeypatch, no_cache):
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    assert sandbox.unavailable() == "no sandbox on darwin: bubblewrap needs Linux"


def test_bubblewrap_that_cannot_make_namespaces_is_no_sandbox(monkeypatch, no_cache, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake))
    assert sandbox.unavailable().startswith("bubblewrap cannot make its namespaces here (bwrap: No permissions")


def test_a_required_sandbox_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setattr(sandbox, "unavailable", lambda: "no sandbox on darwin: bubblewrap needs Linux")
    monkeypatch.setattr(sandbox, "user_unavailable", lambda: "only a grader run as root ...")
    with pytest.raises(SandboxError, match="cannot grade in a sandbox: no sandbox on darwin.*; nor as "
                                           "imdb-lab-notebook: only a grader run as root"):
        grading.use_sandbox(True)
    with pytest.raises(SandboxError, match="cannot grade as imdb-lab-notebook: only a grader run as root"):
        grading.use_sandbox(sandbox.USER)
    assert grading.use_sandbox(None) is False and grading.use_sandbox(False) is False
    monkeypatch.setattr(sandbox, "unavailable", lambda: None)
    assert grading.use_sandbox(None) is True and grading.use_sandbox(True) is True
    assert grading.use_sandbox(False) is False
    with pytest.raises(TypeError, match="sandbox must be True, False, None or 'user'"):
        grading.use_sandbox("yes")


def test_where_bubblewrap_cannot_run_a_root_grader_runs_notebooks_as_their_own_account(monkeypatch):
    # Gradescope's containers: root, no user namespaces; the setup made the account
    monkeypatch.setattr(sandbox, "unavailable", lambda: "bubblewrap cannot make its namespaces here")
    monkeypatch.setattr(sandbox, "user_unavailable", lambda: None)
    assert grading.use_sandbox(None) == grading.use_sandbox(True) == grading.use_sandbox(sandbox.USER) == "user"
    assert grading.use_sandbox(False) is False
    monkeypatch.setattr(sandbox, "unavailable", lambda: None)
    assert grading.use_sandbox(None) is True  # bubblewrap first, where it runs


def test_the_account_must_exist_be_no_roots_and_reach_the_python_it_runs(monkeypatch, public_folder):
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000, raising=False)
    assert sandbox.user_unavailable().startswith("only a grader run as root on Linux")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setattr(sandbox, "_account", lambda: None)
    assert "useradd --system" in sandbox.user_unavailable()
    # a Python in a private folder (pyenv's in root's home) is one the account cannot run
    private = public_folder / "private"
    (private / "bin").mkdir(parents=True)
    (private / "bin").chmod(0o755)
    (private / "bin" / "python").write_text("")
    (private / "bin" / "python").chmod(0o755)
    private.chmod(0o700)
    user = sandbox.NotebookUser(os.getuid() + 12345, os.getgid() + 12345)
    monkeypatch.setattr(sandbox, "_account", lambda: user)
    monkeypatch.setattr(sandbox.sys, "executable", str(private / "bin" / "python"))
    monkeypatch.setattr(sandbox, "python_folders", lambda: [])
    assert sandbox.user_unavailable().startswith(f"the account imdb-lab-notebook cannot reach {private}/bin/python")
    assert sandbox.notebook_user() is None
    private.chmod(0o711)  # searchable, not listable: as /root must be for a pyenv Python in it
    assert sandbox.user_unavailable() is None and sandbox.notebook_user() == user


@pytest.fixture
def public_folder():
    """A folder every account can search down to (in the system's temporary folder, not pytest's private one)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp" if os.path.isdir("/tmp") else None))
    folder.chmod(0o755)
    if not all(os.stat(parent).st_mode & 0o001 for parent in folder.parents):
        shutil.rmtree(folder)
        pytest.skip("no folder here that every account can search")
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("mode, owner, readable", [
    (0o644, "other", True), (0o640, "other", False), (0o640, "group", True), (0o600, "group", False),
    (0o400, "user", True), (0o044, "user", False),
])
def test_readable_by_follows_the_modes_of_the_file_and_the_folders_above(public_folder, mode, owner, readable):
    folder = public_folder / "class"
    folder.mkdir()
    folder.chmod(0o755)
    path = folder / "alice.ipynb"
    path.write_text("{}")
    path.chmod(mode)
    stat = os.stat(path)
    user = sandbox.NotebookUser(stat.st_uid if owner == "user" else stat.st_uid + 12345,
                                stat.st_gid if owner in ("user", "group") else stat.st_gid + 12345)
    assert sandbox.readable_by(user, path) == readable
    folder.chmod(0o700)  # the class folder private: only its owner reads what it holds
    assert sandbox.readable_by(user, path) == (readable and owner == "user")


def pairs(args, option):
    """Return the (source, destination) of every ``option SRC DEST`` in a bwrap command."""
    return [(args[i + 1], args[i + 2]) for i, arg in enumerate(args) if arg == option]


def singles(args, option):
    return [args[i + 1] for i, arg in enumerate(args) if arg == option]


def test_the_command_shows_python_read_only_and_masks_what_is_hidden_among_it(tmp_path, monkeypatch):
    package_root = Path(__file__).resolve().parents[2]
    inside_repo = package_root / "tests" / "grader" / "notebooks"  # a class folder among what Python runs from
    box = tmp_path / "box"
    (box / "tmp").mkdir(parents=True)
    args = sandbox.Box(box, hidden=[inside_repo, tmp_path / "elsewhere", package_root]).command(
        ["python", "-V"], env={"A": "1"}, cwd=box)
    assert args[:3] == [args[0], "--unshare-all", "--die-with-parent"] and "--clearenv" in args
    assert args[-5:] == ["--chdir", str(box), "--", "python", "-V"]
    read_only = [Path(destination) for _, destination in pairs(args, "--ro-bind")]
    assert any(Path(sys.prefix).resolve().is_relative_to(folder) for folder in read_only)
    assert package_root in read_only
    assert (str(box), str(box)) in pairs(args, "--bind")  # the one writable folder, bound after the masks
    masked = [Path(path) for path in singles(args, "--tmpfs")] + [
        Path(destination) for source, destination in pairs(args, "--ro-bind") if source == "/dev/null"]
    assert inside_repo in masked
    assert tmp_path / "elsewhere" not in masked  # not shown anyway
    # the repository is where the lab's code is imported from: masked around what Python imports, not as a whole
    assert package_root not in masked and package_root / "imdb_lab" not in masked
    assert package_root / "README.md" in masked and package_root / "IMDB_in_Keras_solutions.ipynb" in masked
    assert ("A", "1") in pairs(args, "--setenv")
    assert args.index("--bind") > max(args.index(path) for path in map(str, masked))
    # every tmpfs a notebook could write to is small or read-only: /tmp and /dev/shm sized, masks, root, /dev not
    sized = [args[i + 3] for i, arg in enumerate(args) if arg == "--size"]
    assert sized == ["/tmp", "/dev/shm"] and singles(args, "--size") == [str(sandbox.TMP_BYTES)] * 2
    assert set(singles(args, "--tmpfs")) - {"/tmp", "/dev/shm"} <= set(singles(args, "--remount-ro"))
    assert singles(args, "--remount-ro")[-2:] == ["/dev", "/"]
    assert args.index("--remount-ro", args.index("--bind")) > args.index("--bind")  # after the last mount point


needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox on this machine: {NO_SANDBOX}")


@pytest.mark.slow
@needs_sandbox
def test_inside_the_box_only_the_box_is_writable_and_nothing_else_reachable(tmp_path):
    # writable besides: its own /tmp and /dev/shm, both small
    box = tmp_path / "box"
    (box / "tmp").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's")
    server = socket.create_server(("127.0.0.1", 0))
    code = f"""
import os, socket
from pathlib import Path
found = []
try:
    open({str(secret)!r}).read(); found.append("secret")
except OSError:
    pass
try:
    open({sys.prefix + "/pyvenv.cfg"!r}, "a").close(); found.append("pyvenv.cfg")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=2); found.append("network")
except OSError:
    pass
for place in ("/held", "/dev/held"):  # the root and /dev: bubblewrap's tmpfs, as large as half the machine
    try:
        open(place, "w").close(); found.append(place)
    except OSError:
        pass
try:  # /dev/shm holds as little as /tmp: not half the machine's memory
    with open("/dev/shm/held", "wb") as file:
        file.write(bytes({sandbox.TMP_BYTES + 2**20}))
    found.append("/dev/shm")
except OSError:
    pass
Path("written.txt").write_text("mine")
Path("/tmp/scratch").write_text("mine")
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(found, len(pids), os.environ.get("A"), os.environ.get("HOME"))
"""
    with server:
        args = sandbox.Box(box, hidden=[tmp_path]).command([sys.executable, "-c", code], env={"A": "1"}, cwd=box)
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    found, processes, variable, home = result.stdout.split()
    assert found == "[]"
    assert int(processes) <= 2  # bubblewrap's init and this python: nothing else of this machine's
    assert (variable, home) == ("1", "None")  # exactly the environment given
    assert (box / "written.txt").read_text() == "mine"
    assert not Path("/tmp/scratch").exists()  # its /tmp was its own
    assert sorted(os.listdir(box)) == ["tmp", "written.txt"]
