"""Tests of imdb_lab/data/cache.py through load_data: fresh, stale, corrupt, interrupted and concurrent caches."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import make_reviews, write_archive
import imdb_lab
from imdb_lab.data import archive
from imdb_lab.data import cache


def cache_file(source):
    return cache.cache_path(archive.find_dataset(source)[1])


def assert_same(a, b):
    (x_train, y_train), (x_test, y_test) = a
    (x_train2, y_train2), (x_test2, y_test2) = b
    assert list(map(list, x_train)) == list(map(list, x_train2))
    assert list(map(list, x_test)) == list(map(list, x_test2))
    np.testing.assert_array_equal(y_train, y_train2)
    np.testing.assert_array_equal(y_test, y_test2)


def test_cache_goes_under_imdb_lab_cache_or_keras_home(monkeypatch, tmp_path, tiny_archive):
    assert cache_file(tiny_archive).parent == tmp_path / "imdb_lab_cache"
    monkeypatch.delenv("IMDB_LAB_CACHE")
    assert cache_file(tiny_archive).parent == tmp_path / "keras_home" / "datasets"


def test_second_load_reads_the_cache(monkeypatch, tiny_archive):
    first = imdb_lab.load_data(source=tiny_archive)
    assert cache_file(tiny_archive).exists()

    def fail(*args):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(archive, "encode_dataset", fail)
    assert_same(imdb_lab.load_data(source=tiny_archive), first)


def test_cache_holds_no_pickled_objects(tiny_archive):
    imdb_lab.load_data(source=tiny_archive)
    with np.load(cache_file(tiny_archive), allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_corrupt_cache_is_rebuilt(tiny_archive):
    expected = imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    data = path.read_bytes()
    for broken in (b"garbage", data[: len(data) // 2], data.replace(b"train_offsets", b"train_offsetX")):
        path.write_bytes(broken)
        with pytest.warns(RuntimeWarning, match="corrupt"):
            assert_same(imdb_lab.load_data(source=tiny_archive), expected)
        assert path.read_bytes() != broken  # rewritten with good data


def test_inconsistent_arrays_are_not_trusted(tiny_archive):
    expected = imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["train_tokens"] = arrays["train_tokens"] + 10**6  # ranks beyond the word list
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    with pytest.warns(RuntimeWarning, match="ignoring the IMDB data cache .*do not match their checksum"):
        assert_same(imdb_lab.load_data(source=tiny_archive), expected)


def test_changed_archive_is_detected(tmp_path):
    path = write_archive(tmp_path / "a.tar.gz", make_reviews(3, seed=1))
    before = imdb_lab.get_word_index(source=path)
    write_archive(path, make_reviews(3, seed=2) | {("train", "pos"): ["zebra zebra zebra zebra zebra"] * 3})
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    after = imdb_lab.get_word_index(source=path)
    assert after != before and after["zebra"] == 1


def test_encoder_version_is_part_of_the_key(monkeypatch, tiny_archive):
    imdb_lab.load_data(source=tiny_archive)
    calls = []
    original = archive.encode_dataset
    monkeypatch.setattr(archive, "ENCODER_VERSION", archive.ENCODER_VERSION + 1)
    monkeypatch.setattr(archive, "encode_dataset", lambda *a: calls.append(a) or original(*a))
    imdb_lab.load_data(source=tiny_archive)
    assert calls


def test_interrupted_write_leaves_no_broken_file(monkeypatch, tiny_archive):
    imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    good = path.read_bytes()
    os.utime(tiny_archive)  # make the cache stale, so the next load rewrites it

    def interrupted(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        imdb_lab.load_data(source=tiny_archive)
    assert path.read_bytes() == good  # the old file is untouched
    # no temporary file left, only the cache and its (empty) lock file
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def test_unwritable_cache_folder_loads_without_cache_and_warns_once(monkeypatch, tmp_path, tiny_archive):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("IMDB_LAB_CACHE", str(blocker / "cache"))
    with pytest.warns(RuntimeWarning, match="cannot write the IMDB data cache.*IMDB_LAB_CACHE") as caught:
        first = imdb_lab.load_data(source=tiny_archive)
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert_same(imdb_lab.load_data(source=tiny_archive), first)
    assert blocker.read_text().startswith("a file")


def test_two_processes_building_at_once_both_succeed(tmp_path):
    path = write_archive(tmp_path / "a.tar.gz", make_reviews(1000, seed=3))
    script = (
        "import imdb_lab, sys; (x, y), (xt, yt) = imdb_lab.load_data(source=sys.argv[1]); "
        "print(len(x), len(xt), sum(map(len, x)))"
    )
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0] and outputs[0][0].startswith("2000 2000")
    # one good file and its lock, no temporary leftovers
    assert sorted(p.name for p in cache_file(path).parent.iterdir()) == [cache_file(path).name,
                                                                          cache_file(path).name + ".lock"]
    assert imdb_lab.load_data(source=path)[0][0].shape == (2000,)


# ---------------------------------------------------------------- a cache that checks its content

def test_a_cache_rewritten_with_other_labels_and_the_same_metadata_is_rebuilt(tiny_archive):
    expected = imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["test_labels"] = np.ones_like(arrays["test_labels"])  # every test review "positive"
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    with pytest.warns(RuntimeWarning, match="do not match their checksum: it was damaged or rewritten") as caught:
        assert_same(imdb_lab.load_data(source=tiny_archive), expected)
    assert len(caught) == 1  # read once, not again under the build lock
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rebuilt: the next load trusts it again
        assert_same(imdb_lab.load_data(source=tiny_archive), expected)


def test_a_header_declaring_a_giant_array_means_rebuild_not_memory_error(tiny_archive):
    import zipfile

    expected = imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    with zipfile.ZipFile(path) as archive_file:
        members = {name: archive_file.read(name) for name in archive_file.namelist()}
    header = np.lib.format.header_data_from_array_1_0(np.zeros(3, dtype=np.int32))
    header["shape"] = (10**12,)
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    members["train_tokens.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive_file:
        for name, data in members.items():
            archive_file.writestr(name, data)
    with pytest.warns(RuntimeWarning, match=r"declares shape \(1000000000000,\), more than the file holds"):
        assert_same(imdb_lab.load_data(source=tiny_archive), expected)


def test_a_temporary_file_left_by_a_killed_build_is_removed_by_the_next_build(tiny_archive):
    imdb_lab.load_data(source=tiny_archive)
    path = cache_file(tiny_archive)
    stale = path.parent / f".{path.name}.k1ll3d.tmp"  # what atomic_write leaves when its process is killed
    stale.write_bytes(b"PK half a cache")
    os.utime(tiny_archive)  # the archive changed: the next load rebuilds
    imdb_lab.load_data(source=tiny_archive)
    assert not stale.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def test_moving_a_review_in_a_folder_source_invalidates_the_cache(tmp_path, tiny_reviews):
    from conftest import write_folder

    folder = write_folder(tmp_path / "data", tiny_reviews)
    (_, y_train), _ = imdb_lab.load_data(source=folder, seed=0)
    (folder / "train" / "pos" / "0_8.txt").replace(folder / "train" / "neg" / "0_8.txt")  # as `mv` does
    (_, y_moved), _ = imdb_lab.load_data(source=folder, seed=0)
    assert np.bincount(y_train).tolist() == [6, 6] and np.bincount(y_moved).tolist() == [7, 5]


@pytest.mark.slow
def test_four_processes_preparing_at_once_encode_the_archive_once(tmp_path):
    path = write_archive(tmp_path / "a.tar.gz", make_reviews(1000, seed=3))
    script = "import imdb_lab, sys; (x, y), _ = imdb_lab.load_data(source=sys.argv[1]); print(len(x), sum(map(len, x)))"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, outputs
    assert len({out for out, _ in outputs}) == 1 and outputs[0][0].startswith("2000 ")
    # the progress bar "Encoding a.tar.gz [...]" is drawn by the process that encodes
    assert sum("Encoding a.tar.gz" in err for _, err in outputs) == 1, [err[-300:] for _, err in outputs]
