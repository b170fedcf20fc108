"""Tests of imdb_lab.grader.trusted_data: what the grader prepares before any notebook, and how it notices changes."""

import os

import numpy as np
import pytest

from imdb_lab.grader import scorer
from imdb_lab.grader import trusted_data


def test_prepared_test_reviews_are_load_datas_with_every_word(prepared_data):
    from imdb_lab import load_data

    test = scorer.read_test_data(prepared_data.test_path, prepared_data.test_sha256)
    _, (x_test, y_test) = load_data(num_words=10**6)
    assert [list(review) for review in test.sequences()] == [list(review) for review in x_test]
    assert list(test.labels) == list(y_test)


def test_prepared_data_ignores_a_poisoned_shared_cache(tiny_archive, monkeypatch, tmp_path):
    from imdb_lab.data import archive
    from imdb_lab.data import cache
    from imdb_lab.data import loading as data
    from imdb_lab.data import sources

    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    kind, dataset = archive.find_dataset(tiny_archive)
    encoded, _ = sources.load_encoded(tiny_archive)
    encoded.labels["test"] = np.ones_like(encoded.labels["test"])
    cache.save(cache.cache_path(dataset), encoded, sources.cache_key(kind, dataset))  # with a checksum that matches
    assert (data.load_flat()[1].labels == 1).all()
    (tmp_path / "grader").mkdir()
    prepared = trusted_data.prepare_grading_data(tmp_path / "grader", check_scorer=False)
    test = scorer.read_test_data(prepared.test_path, prepared.test_sha256)
    assert 0 < test.labels.mean() < 1


def test_a_rewritten_shared_cache_is_restored_after_grading(prepared_data, tiny_archive):
    from imdb_lab.data import cache
    from imdb_lab.data import loading as data

    shared = trusted_data.SharedCache(prepared_data)
    assert shared.path == cache.cache_path(prepared_data.source)
    assert not shared.restore()  # unchanged: left alone
    shared.path.parent.mkdir(parents=True, exist_ok=True)
    shared.path.write_bytes(b"poisoned")
    with pytest.warns(UserWarning, match="rewrote the data cache"):
        assert shared.restore()
    assert shared.path.read_bytes() == prepared_data.kernel_file.read_bytes()
    assert 0 < data.load_flat()[1].labels.mean() < 1


@pytest.mark.slow
def test_the_scorer_is_checked_once_and_a_change_to_its_code_is_noticed(tiny_archive, monkeypatch, tmp_path):
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    (tmp_path / "grader").mkdir()
    prepared = trusted_data.prepare_grading_data(tmp_path / "grader")
    files = list(prepared.code.stamps)
    assert any(path.endswith("/keras/__init__.py") for path in files)
    assert any(path.endswith("/imdb_lab/grader/scorer.py") for path in files)
    assert prepared.code.changed() is None
    # touching a file changes its ctime, which nothing can set back
    scorer_file = next(path for path in files if path.endswith("/imdb_lab/grader/scorer.py"))
    os.utime(scorer_file, ns=(os.stat(scorer_file).st_atime_ns, os.stat(scorer_file).st_mtime_ns))
    assert prepared.code.changed() == scorer_file


def test_code_snapshot_notices_a_new_file_in_a_folder(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("a = 1")
    snapshot = trusted_data.CodeSnapshot([str(tmp_path / "pkg" / "a.py")], [str(tmp_path / "pkg")])
    assert snapshot.changed() is None
    (tmp_path / "pkg" / "numpy.py").write_text("shadow = True")
    assert snapshot.changed() == str(tmp_path / "pkg")
