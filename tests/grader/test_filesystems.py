"""Tests of imdb_lab.grader.filesystems: a notebook's box on a tmpfs of its own, whose limits the kernel enforces
(real mounts, where this process may mount: root on Linux, as on CI's machine)."""

import errno
import os
import sys

import pytest

from imdb_lab.grader import filesystems

CAN_MOUNT = sys.platform.startswith("linux") and os.geteuid() == 0


@pytest.fixture
def box(tmp_path, monkeypatch):
    """A box of 64 MiB and 200 files, mounted; unmounted after the test."""
    monkeypatch.setattr(filesystems, "INODES", 200)
    folder = tmp_path / "box"
    folder.mkdir()
    if not filesystems.mount_box(folder, 64 * 2**20):
        pytest.skip("this process may not mount a tmpfs here")
    yield folder
    filesystems.unmount_box(folder)
    assert not os.path.ismount(folder)


def test_an_unprivileged_grader_gets_no_box_and_says_so_by_false(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert filesystems.mount_box(tmp_path, 2**20) is False
    assert not os.path.ismount(tmp_path)


@pytest.mark.skipif(not CAN_MOUNT, reason="mounting a tmpfs needs root on Linux")
def test_an_unlinked_file_grown_with_fallocate_fills_the_box_and_no_more(box):
    # no walk of the folder finds it, and it writes no byte: only the filesystem counts it
    assert not filesystems.box_full(box)
    fd = os.open(box / "hidden.bin", os.O_CREAT | os.O_RDWR)
    os.unlink(box / "hidden.bin")
    grown = 0
    with pytest.raises(OSError) as refused:
        while True:
            os.posix_fallocate(fd, grown, 8 * 2**20)
            grown += 8 * 2**20
    assert refused.value.errno == errno.ENOSPC and grown <= 64 * 2**20
    assert filesystems.box_full(box)
    os.close(fd)
    assert not filesystems.box_full(box)  # closed, the unlinked file is gone


@pytest.mark.skipif(not CAN_MOUNT, reason="mounting a tmpfs needs root on Linux")
def test_empty_files_stop_at_the_boxs_inodes_and_the_box_is_full(box):
    made = 0
    with pytest.raises(OSError) as refused:
        while made < 1000:
            (box / str(made)).touch()
            made += 1
    assert refused.value.errno == errno.ENOSPC and made < 200
    assert filesystems.box_full(box)


@pytest.mark.skipif(not CAN_MOUNT, reason="mounting a tmpfs needs root on Linux")
def test_an_honest_notebooks_files_leave_the_box_far_from_full(box):
    (box / "model.keras").write_bytes(bytes(4 * 2**20))
    for index in range(50):
        (box / f"cache{index}").write_bytes(bytes(1000))
    assert not filesystems.box_full(box)


def test_unmounting_what_is_no_mount_is_no_error(tmp_path):
    if not CAN_MOUNT:
        pytest.skip("umount2 needs root on Linux")
    filesystems.unmount_box(tmp_path)
