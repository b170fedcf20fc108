"""Tests of imdb_lab.grader.runner: the export cell, run on namespaces as a kernel would run it."""

import json
import sys

import numpy as np

from imdb_lab.grader import runner, statuses


def run_export(namespace, folder):
    """Run the export cell's code on ``namespace`` (as globals); return the status it wrote."""
    code = runner.EXPORT_CODE.format(
        status_no_model=statuses.NO_MODEL, status_not_keras=statuses.NOT_A_KERAS_MODEL,
        status_exported=statuses.EXPORTED, model_path=str(folder / "model.keras"),
        settings_path=str(folder / "settings.json"), result_path=str(folder / "export.json"))
    exec(compile(code, "<export>", "exec"), namespace)
    return json.loads((folder / "export.json").read_text())["status"]


def test_export_saves_the_model_and_the_notebooks_numbers(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(1, activation="sigmoid")])
    namespace = {"model": model, "num_words": np.int64(7), "skip_top": True}
    assert run_export(namespace, tmp_path) == statuses.EXPORTED
    assert json.loads((tmp_path / "settings.json").read_text()) == {"num_words": 7, "skip_top": None}
    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False, safe_mode=True)
    assert loaded.input_shape == (None, 7)
    assert set(namespace) == {"model", "num_words", "skip_top", "__builtins__"}  # no name of ours is left


def test_export_names_a_missing_model_and_one_that_is_not_keras(tmp_path):
    assert run_export({"num_words": 100}, tmp_path) == statuses.NO_MODEL
    assert run_export({"model": {"weights": [1, 2]}}, tmp_path) == statuses.NOT_A_KERAS_MODEL
    assert not (tmp_path / "model.keras").exists()


def test_export_without_keras_imported_is_not_a_keras_model(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    assert run_export({"model": object()}, tmp_path) == statuses.NOT_A_KERAS_MODEL
