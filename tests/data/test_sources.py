"""Tests of imdb_lab/data/sources.py: where the reviews come from (an argument, IMDB_LAB_DATA, Keras's folder)."""

import pytest
from keras.datasets import imdb as keras_imdb

import imdb_lab
from imdb_lab.data import sources


def test_source_from_environment(monkeypatch, tiny_archive):
    monkeypatch.setenv("IMDB_LAB_DATA", str(tiny_archive))
    assert sources.resolve_source() == tiny_archive
    assert len(imdb_lab.load_data()[0][0]) == 12


def test_missing_environment_source_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("IMDB_LAB_DATA", str(tmp_path / "gone.tar.gz"))
    with pytest.raises(FileNotFoundError, match="IMDB_LAB_DATA=.*gone.tar.gz does not exist"):
        imdb_lab.load_data()


def test_missing_source_argument_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist"):
        imdb_lab.load_data(source=tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["aclImdb_v1.tar.gz", "aclImdb"])
def test_copy_in_keras_cache_folder_is_found(tmp_path, tiny_archive, tiny_reviews, name):
    from conftest import write_folder

    datasets = tmp_path / "keras_home" / "datasets"
    datasets.mkdir(parents=True)
    if name.endswith(".tar.gz"):
        (datasets / name).write_bytes(tiny_archive.read_bytes())
    else:
        write_folder(datasets, tiny_reviews)
    assert sources.resolve_source() == datasets / name
    assert len(imdb_lab.load_data()[1][0]) == 12


def test_without_a_local_copy_keras_download_is_used(monkeypatch, keras_npz):
    import keras.utils

    calls = []
    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: calls.append((args, kwargs)) or str(keras_npz))
    monkeypatch.setattr(keras_imdb, "get_word_index", lambda: {"the": 1})
    assert sources.resolve_source() is None
    (x_train, _), _ = imdb_lab.load_data(num_words=100, skip_top=2)
    assert len(x_train) == 12
    # Keras's own file, checked against the hash keras.datasets.imdb.load_data checks it against
    assert calls == [(("imdb.npz", sources.KERAS_IMDB_URL), {"file_hash": sources.KERAS_IMDB_SHA256})]
    assert sources.prepare() == keras_npz
    assert imdb_lab.get_word_index() == {"the": 1}


def test_the_download_is_the_one_keras_makes():
    import inspect

    code = inspect.getsource(keras_imdb.load_data)
    assert sources.KERAS_IMDB_SHA256 in code and sources.KERAS_IMDB_URL.rsplit("/", 1)[0] in code


def test_failed_download_says_how_to_work_offline(monkeypatch):
    import keras.utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(ConnectionError, match="IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz"):
        imdb_lab.load_data(num_words=10)


def test_prepare_builds_the_cache_and_returns_it(tiny_archive):
    path = sources.prepare(source=tiny_archive)
    assert path.exists() and path.suffix == ".npz"
