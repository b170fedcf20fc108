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


def test_a_rewritten_shared_cache_is_removed_after_grading(prepared_data, tiny_archive):
    from imdb_lab.data import cache
    from imdb_lab.data import loading as data

    shared = trusted_data.SharedCache(prepared_data)
    assert shared.path == cache.cache_path(prepared_data.source)
    assert not shared.remove_if_changed()  # unchanged: left alone
    shared.path.parent.mkdir(parents=True, exist_ok=True)
    shared.path.write_bytes(b"poisoned")
    with pytest.warns(UserWarning, match="rewrote the data cache .* removed"):
        assert shared.remove_if_changed()
    assert not shared.path.exists()
    assert 0 < data.load_flat()[1].labels.mean() < 1  # rebuilt from the archive, test reviews and all


@pytest.mark.slow
def test_the_scorer_is_checked_once_and_a_change_to_its_code_is_noticed(tiny_archive, monkeypatch, tmp_path):
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    (tmp_path / "grader").mkdir()
    prepared = trusted_data.prepare_grading_data(tmp_path / "grader")
    files = list(prepared.code.stamps)
    assert any(path.endswith("/keras/__init__.py") for path in files)
    assert any(path.endswith("/imdb_lab/grader/scorer.py") for path in files)
    assert set(trusted_data.interpreter_files()) <= set(files)  # a venv's pyvenv.cfg: where its stdlib comes from
    assert prepared.code.changed() is None
    # touching a file changes its ctime, which nothing can set back
    scorer_file = next(path for path in files if path.endswith("/imdb_lab/grader/scorer.py"))
    os.utime(scorer_file, ns=(os.stat(scorer_file).st_atime_ns, os.stat(scorer_file).st_mtime_ns))
    assert prepared.code.changed() == scorer_file


def test_the_snapshot_watches_the_interpreters_pyvenv_cfg_and_where_the_interpreter_leads(tmp_path, monkeypatch):
    # the attack: rewrite pyvenv.cfg's home to a standard library whose json patches the scorer
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    real = tmp_path / "python3.11"
    real.write_text("an interpreter")
    (venv / "bin" / "python").symlink_to(real)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setattr(trusted_data.sys, "executable", str(venv / "bin" / "python"))
    files = trusted_data.interpreter_files()
    assert str(venv / "pyvenv.cfg") in files and str(venv / "bin" / "pyvenv.cfg") in files
    snapshot = trusted_data.CodeSnapshot(files, [], links=[str(venv / "bin" / "python")])
    assert snapshot.changed() is None
    (venv / "pyvenv.cfg").write_text("home = /tmp/evil\n")
    assert snapshot.changed() == str(venv / "pyvenv.cfg")
    snapshot = trusted_data.CodeSnapshot(files, [], links=[str(venv / "bin" / "python")])
    (venv / "bin" / "pyvenv.cfg").write_text("home = /tmp/evil\n")  # a new one, nearer the interpreter
    assert snapshot.changed() == str(venv / "bin" / "pyvenv.cfg")
    snapshot = trusted_data.CodeSnapshot([], [], links=[str(venv / "bin" / "python")])
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(tmp_path / "evil-python")
    (tmp_path / "evil-python").write_text("another interpreter")
    assert snapshot.changed() == str(venv / "bin" / "python")


def test_code_snapshot_notices_a_new_file_in_a_folder(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("a = 1")
    snapshot = trusted_data.CodeSnapshot([str(tmp_path / "pkg" / "a.py")], [str(tmp_path / "pkg")])
    assert snapshot.changed() is None
    (tmp_path / "pkg" / "numpy.py").write_text("shadow = True")
    assert snapshot.changed() == str(tmp_path / "pkg")


def test_damaged_test_reviews_stop_the_run_naming_the_notebook_that_ran(prepared_data):
    # one byte appended by a notebook would otherwise fail every classmate graded after it
    prepared_data.check_unchanged("honest.ipynb")
    with open(prepared_data.test_path, "ab") as file:
        file.write(b"\0")
    with pytest.raises(trusted_data.GradingDataError,
                       match=r"the grader's test reviews changed \(.*test.npz\) while attacker.ipynb ran"):
        prepared_data.check_unchanged("attacker.ipynb")


def test_the_kernels_data_holds_no_test_review(prepared_data):
    # a notebook that trains on load_data's x_test trains on training reviews: the real ones are in test.npz only
    from imdb_lab.data import archive, cache

    kind, dataset = archive.find_dataset(prepared_data.source)
    real = archive.encode_dataset(kind, dataset)
    kernel = cache.load_prepared(prepared_data.kernel_file)

    def reviews(encoded, split):
        tokens, offsets, labels = encoded.tokens[split], encoded.offsets[split], encoded.labels[split]
        return [(tuple(tokens[offsets[i]:offsets[i + 1]]), int(labels[i])) for i in range(len(offsets) - 1)]

    train, test, stand_in = reviews(real, "train"), reviews(real, "test"), reviews(kernel, "test")
    assert len(stand_in) == len(test) and set(stand_in) <= set(train)
    assert not set(stand_in) & (set(test) - set(train))
    assert reviews(kernel, "train") == train and kernel.words == real.words
    assert len(set(stand_in)) == len(stand_in)  # drawn without repeats: as many training reviews as test reviews


def test_on_keras_download_the_kernels_get_a_prepared_file_without_the_test_reviews(monkeypatch, keras_npz, tmp_path):
    import keras.utils
    from keras.datasets import imdb as keras_imdb

    from imdb_lab import load_data
    from imdb_lab.data import cache

    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: str(keras_npz))
    monkeypatch.setattr(keras_imdb, "get_word_index", lambda: {"the": 1})
    (tmp_path / "grader").mkdir()
    prepared = trusted_data.prepare_grading_data(tmp_path / "grader", check_scorer=False)
    assert prepared.source is None and cache.is_data_file(prepared.kernel_file)
    # the scorer's test reviews are Keras's own; the kernels' "test reviews" are training reviews
    test = scorer.read_test_data(prepared.test_path, prepared.test_sha256)
    _, (x_test, y_test) = load_data(num_words=10**6)
    assert [list(review) for review in test.sequences()] == [list(review) for review in x_test]
    (x_train, _), (x_stand_in, _) = load_data(num_words=10**6, source=prepared.kernel_file)
    assert {tuple(review) for review in x_stand_in} <= {tuple(review) for review in x_train}
