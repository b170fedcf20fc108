"""Tests of imdb_lab/files.py: atomic writes."""

import os

import pytest

from imdb_lab.files import atomic_path, atomic_write


def test_atomic_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("old")
    path.chmod(0o640)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("new")
        assert path.read_text() == "old"  # readers see the old file until the block ends
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["data.txt"]


def test_new_file_gets_the_usual_mode(tmp_path):
    with atomic_write(tmp_path / "new.bin") as handle:
        handle.write(b"\x00")
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "data.txt"
    path.write_text("old")
    with pytest.raises(error):
        with atomic_write(path, "w") as handle:
            handle.write("half of the new")
            raise error
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["data.txt"]


def test_atomic_path_keeps_the_suffix_writers_need(tmp_path):
    with atomic_path(tmp_path / "model.keras", suffix=".tmp.keras") as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".tmp.keras")
        temporary.write_bytes(b"zip")
    assert (tmp_path / "model.keras").read_bytes() == b"zip"


def test_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        with atomic_write(tmp_path / "no" / "such" / "file"):
            pass
