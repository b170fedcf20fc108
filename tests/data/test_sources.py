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


def test_a_prepared_data_file_is_a_source_of_its_own(monkeypatch, tiny_archive, tmp_path):
    # what the grader gives each kernel: no archive to read, no cache to build, nothing to download
    from imdb_lab.data import archive, cache

    encoded = archive.encode_dataset(*archive.find_dataset(tiny_archive))
    cache.save(tmp_path / "prepared.npz", encoded, {"prepared": "for a test"})
    monkeypatch.setenv("IMDB_LAB_DATA", str(tmp_path / "prepared.npz"))
    ours, theirs = imdb_lab.load_data(num_words=50), imdb_lab.load_data(num_words=50, source=tiny_archive)
    for split in (0, 1):
        assert [list(x) for x in ours[split][0]] == [list(x) for x in theirs[split][0]]
        assert list(ours[split][1]) == list(theirs[split][1])
    assert imdb_lab.get_word_index() == imdb_lab.get_word_index(source=tiny_archive)
    assert sources.prepare() == tmp_path / "prepared.npz"
    # read as it is: no cache of it built (the one there is the archive's)
    assert not any("prepared" in path.name for path in (tmp_path / "imdb_lab_cache").iterdir())


def test_a_damaged_prepared_file_says_to_prepare_it_again(monkeypatch, tiny_archive, tmp_path):
    from imdb_lab.data import archive, cache

    path = tmp_path / "prepared.npz"
    cache.save(path, archive.encode_dataset(*archive.find_dataset(tiny_archive)), {"prepared": "for a test"})
    data = bytearray(path.read_bytes())
    data[200:203] = b"\0\1\2"
    path.write_bytes(bytes(data))
    monkeypatch.setenv("IMDB_LAB_DATA", str(path))
    with pytest.raises(ValueError, match="cannot be rebuilt: prepare it again, or point IMDB_LAB_DATA at"):
        imdb_lab.load_data()


def test_keras_download_as_encoded_data_loads_as_keras_loads_it(monkeypatch, keras_npz, tmp_path):
    # the grader's kernels on Keras's download get it as a prepared file: the same reviews as Keras's loader gives
    import keras.utils

    from imdb_lab.data import cache

    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: str(keras_npz))
    encoded = sources.keras_encoded(keras_npz, {"the": 1, "film": 3})
    assert encoded.words[:3] == ["the", "<rank 2>", "film"]
    cache.save(tmp_path / "prepared.npz", encoded, {"prepared": "for a test"})
    for kwargs in ({}, {"num_words": 20, "skip_top": 2}, {"maxlen": 30, "seed": 3}):
        keras_way = imdb_lab.load_data(**kwargs)
        ours = imdb_lab.load_data(**kwargs, source=tmp_path / "prepared.npz")
        for split in (0, 1):
            assert [list(x) for x in ours[split][0]] == [list(x) for x in keras_way[split][0]]
            assert list(ours[split][1]) == list(keras_way[split][1])
