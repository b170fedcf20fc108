"""Tests of imdb_lab.models.saving: a .keras file that carries its text-encoding metadata."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from imdb_lab.models.saving import METADATA_NAME, load_trained_model, read_metadata, save_trained_model

WORD_INDEX = {"the": 1, "film": 2, "great": 3, "awful": 4, "é": 5}


@pytest.fixture(scope="module")
def model():
    import keras

    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
    # one step builds the optimizer, so that its state is saved and restored too
    model.fit(np.eye(12, dtype="float32")[:4], np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    return model


def test_round_trip_keeps_weights_and_metadata(model, tmp_path):
    import keras

    path = save_trained_model(model, tmp_path / "model.keras", num_words=12, skip_top=1, word_index=WORD_INDEX)
    assert path == tmp_path / "model.keras"
    loaded, metadata = load_trained_model(path)
    x = np.eye(12, dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert metadata == {"format_version": 1, "num_words": 12, "skip_top": 1, "start_char": 1, "oov_char": 2,
                        "index_from": 3, "word_index": WORD_INDEX, "features": {"kind": "multi_hot"},
                        "trained_steps": 1}  # one epoch of one batch
    # Keras itself still reads the file with the extra member
    assert isinstance(keras.saving.load_model(path), keras.Model)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read(METADATA_NAME))["num_words"] == 12
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_features_are_stored_and_files_replaced(model, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    features = {"kind": "ngrams", "n": 2, "codes": [[1, 2], [3]]}
    save_trained_model(model, path, num_words=12, word_index=WORD_INDEX, features=features, index_from=2)
    _, metadata = load_trained_model(str(path))
    assert metadata["features"] == features and metadata["index_from"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_failed_save_leaves_no_temp_file_and_keeps_the_old_file(tmp_path):
    class Broken:
        def save(self, path):
            raise RuntimeError("disk full")

    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        save_trained_model(Broken(), path, num_words=12, word_index=WORD_INDEX)
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"] and path.read_bytes() == b"old"


def test_foreign_and_missing_files_are_rejected(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at .*: train one with `imdb-lab train --output"):
        load_trained_model(tmp_path / "missing.keras")
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not saved by `imdb-lab train`"):
        load_trained_model(text)
    plain = tmp_path / "plain.keras"
    model.save(plain)
    with pytest.raises(ValueError, match="not saved by `imdb-lab train`"):
        load_trained_model(plain)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_words": 0}, ValueError, "num_words must be >= 1, got 0"),
    ({"skip_top": 12}, ValueError, "skip_top=12 must be smaller than num_words=12"),
    ({"word_index": {}}, TypeError, "word_index must be the non-empty {word: rank} dict"),
    ({"word_index": {"a": "1"}}, TypeError, r"word_index must map words \(str\) to integer ranks"),
    ({"features": "ngrams"}, TypeError, "features must be a dict with a 'kind' string"),
    ({"path": "model.h5"}, ValueError, "the model file must end in .keras, got 'model.h5'"),
])
def test_bad_arguments_are_rejected(model, tmp_path, kwargs, error, message):
    arguments = {"path": tmp_path / "model.keras", "num_words": 12, "word_index": WORD_INDEX, **kwargs}
    with pytest.raises(error, match=message):
        save_trained_model(model, **arguments)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_model_saved_on_one_backend_predicts_on_every_other_installed_one(model, tmp_path):
    import keras

    from imdb_lab.backend import installed_backends

    others = [name for name in installed_backends() if name != keras.backend.backend()]
    if not others:
        pytest.skip(f"only {keras.backend.backend()} is installed: no other backend to load the model on")
    # trained one step, so that the file holds this backend's optimizer state too
    path = save_trained_model(model, tmp_path / "model.keras", num_words=12, word_index=WORD_INDEX)
    expected = model.predict(np.eye(12, dtype="float32"), verbose=0)
    script = ("import json, sys, numpy as np\n"
              "from imdb_lab.models.saving import load_trained_model\n"
              "model, _ = load_trained_model(sys.argv[1])\n"
              "print(json.dumps(np.asarray(model.predict(np.eye(12, dtype='float32'), verbose=0)).tolist()))\n")
    for other in others:
        result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                                env={**os.environ, "KERAS_BACKEND": other})
        assert result.returncode == 0, f"loading on {other} failed:\n{result.stderr[-2000:]}"
        predicted = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
        np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6, err_msg=f"on {other}")


def test_the_metadata_says_whether_the_model_was_trained(tmp_path):
    import keras

    from imdb_lab.models.dense import build_model
    from imdb_lab.models.saving import trained_steps

    untrained = build_model(12, hidden_units=(2,))
    assert trained_steps(untrained) == 0
    save_trained_model(untrained, tmp_path / "untrained.keras", num_words=12, word_index=WORD_INDEX)
    assert read_metadata(tmp_path / "untrained.keras")["trained_steps"] == 0
    uncompiled = keras.Sequential([keras.Input((12,)), keras.layers.Dense(1, activation="sigmoid")])
    assert trained_steps(uncompiled) is None  # cannot tell


def test_was_trained_survives_a_new_compile_but_not_a_new_model(tmp_path):
    """Fitted means a fit left its History on the model, or its optimizer took a step (all a file keeps)."""
    import keras

    from imdb_lab.models.saving import was_trained

    def built():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])

    model = built()
    assert was_trained(model) is None  # never compiled: nothing tells
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    assert was_trained(model) is False
    model.fit(np.eye(4, dtype="float32"), np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    assert was_trained(model) is True
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])  # a new optimizer, at step 0
    assert was_trained(model) is True
    again = built()
    again.compile(optimizer="rmsprop", loss="binary_crossentropy")
    assert was_trained(again) is False
    model.fit(np.eye(4, dtype="float32"), np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    model.save(tmp_path / "fitted.keras")
    assert was_trained(keras.saving.load_model(tmp_path / "fitted.keras")) is True  # its optimizer's steps
