"""Tests of imdb_lab.untrusted: files a notebook may have left, opened as hostile."""

import os

import pytest

from imdb_lab.errors import RecordError
from imdb_lab.untrusted import copy_regular, read_regular


def test_a_regular_file_is_read_and_copied_whole(tmp_path):
    content = bytes(range(256)) * 5000  # more than one chunk of the copy
    (tmp_path / "model.keras").write_bytes(content)
    assert read_regular(tmp_path / "model.keras", len(content)) == content
    copy_regular(tmp_path / "model.keras", tmp_path / "copy.keras", len(content))
    assert (tmp_path / "copy.keras").read_bytes() == content


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "model.keras").write_bytes(bytes(1001))
    with pytest.raises(RecordError, match="model.keras is 1001 bytes, more than the 1000 the grader reads"):
        read_regular(tmp_path / "model.keras", 1000)
    with pytest.raises(RecordError, match="more than the 1000"):
        copy_regular(tmp_path / "model.keras", tmp_path / "copy.keras", 1000)


@pytest.mark.parametrize("make, message", [
    (lambda path: path.symlink_to("/dev/zero"), "model.keras is a symbolic link, not a file the grader reads"),
    (lambda path: os.mkfifo(path), "model.keras is not a regular file"),
    (lambda path: path.mkdir(), "model.keras is not a regular file"),
])
def test_a_link_a_named_pipe_or_a_folder_is_refused_without_blocking(tmp_path, make, message):
    make(tmp_path / "model.keras")
    with pytest.raises(RecordError, match=message):
        read_regular(tmp_path / "model.keras", 2**20)
    with pytest.raises(RecordError, match=message):
        copy_regular(tmp_path / "model.keras", tmp_path / "copy.keras", 2**20)
    assert not (tmp_path / "copy.keras").exists()


def test_a_link_to_a_regular_file_is_refused_too(tmp_path):
    # it could lead anywhere the grader may read (a classmate's folder, the test reviews)
    (tmp_path / "secret").write_text("the test reviews")
    (tmp_path / "settings.json").symlink_to(tmp_path / "secret")
    with pytest.raises(RecordError, match="symbolic link"):
        read_regular(tmp_path / "settings.json", 2**20)


def test_a_missing_file_says_so_as_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "model.keras", 2**20)
