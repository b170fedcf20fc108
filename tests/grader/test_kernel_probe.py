"""Tests of imdb_lab.grader.kernel_probe: the lines the runner runs in the student's kernel, run here as a kernel
runs them (in a notebook's namespace), and read back as the grader reads them (imdb_lab.grader.records)."""

import sys

import numpy as np
import pytest

from imdb_lab.errors import RecordError
from imdb_lab.grader import kernel_probe, records


def run_line(namespace, step, request):
    """Run the probe line of ``step`` with ``request`` in ``namespace``, as the kernel runs a cell."""
    exec(compile(kernel_probe.probe_line(step, request), "<probe>", "exec"), namespace)


def run_export(namespace, folder):
    """Run the export step on ``namespace``; return the outcome the grader reads."""
    run_line(namespace, "export", {"model_path": str(folder / "model.keras"),
                                   "settings_path": str(folder / "settings.json"),
                                   "result_path": str(folder / "export.json")})
    return records.read_record(folder / "export.json", records.ExportRecord).outcome


def test_export_saves_the_model_and_the_notebooks_numbers(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(1, activation="sigmoid")])
    namespace = {"model": model, "num_words": np.int64(7), "skip_top": True}
    assert run_export(namespace, tmp_path) == kernel_probe.EXPORTED
    assert records.read_record(tmp_path / "settings.json", records.Settings) == records.Settings(7, None)
    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False, safe_mode=True)
    assert loaded.input_shape == (None, 7)
    assert set(namespace) == {"model", "num_words", "skip_top", "__builtins__"}  # no name of ours is left


def test_export_names_a_missing_model_and_one_that_is_not_keras(tmp_path):
    assert run_export({"num_words": 100}, tmp_path) == kernel_probe.NO_MODEL
    assert run_export({"model": {"weights": [1, 2]}}, tmp_path) == kernel_probe.NOT_KERAS
    assert not (tmp_path / "model.keras").exists()


def test_export_without_keras_imported_is_not_a_keras_model(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    assert run_export({"model": object()}, tmp_path) == kernel_probe.NOT_KERAS


def test_a_function_is_recorded_call_by_call_as_the_grader_reads_it(tmp_path):
    def predict_sentiment(texts):
        if texts == ["boom"]:
            raise ValueError("no " + "x" * 1000)
        if texts == ["todo"]:
            raise NotImplementedError
        if texts == ["big"]:
            return np.zeros((kernel_probe.MAX_NUMBERS + 1,))
        return "positive" if texts == ["words"] else [0.25] * len(texts)

    namespace = {"predict_sentiment": predict_sentiment}
    path = tmp_path / "prediction.json"
    run_line(namespace, "call_function", {"function": "predict_sentiment", "path": str(path),
                                          "calls": [[["a", "b"]], [["boom"]], [["todo"]], [["big"]], [["words"]]]})
    record = records.read_record(path, records.FunctionRecord)
    assert record.function == "predict_sentiment" and record.missing is None
    assert [(call.kind, call.value) for call in record.calls] == [
        ("result", [0.25, 0.25]), ("raised", "ValueError: no " + "x" * (kernel_probe.MAX_MESSAGE - 15)),
        ("not_attempted", True), ("shape", (kernel_probe.MAX_NUMBERS + 1,)), ("type", "str")]
    assert set(namespace) == {"predict_sentiment", "__builtins__"}


@pytest.mark.parametrize("namespace, missing", [({}, ""), ({"multi_hot": np.zeros(3)}, "ndarray")])
def test_a_name_that_is_no_function_is_recorded_as_missing(namespace, missing, tmp_path):
    run_line(namespace, "call_function", {"function": "multi_hot", "path": str(tmp_path / "r.json"), "calls": [[1]]})
    assert records.read_record(tmp_path / "r.json", records.FunctionRecord) == records.FunctionRecord(
        "multi_hot", missing, ())


def test_the_history_is_recorded_as_check_history_reads_it(tmp_path):
    class History:
        history = {"loss": [0.5, 0.4], "val_loss": [np.float32(0.45), float("nan")]}
        params = {"epochs": 20, "steps": 40, "verbose": "auto"}

    run_line({"history": History()}, "history", {"path": str(tmp_path / "history.json")})
    reported = records.read_record(tmp_path / "history.json", records.ReportedHistory)
    assert reported.params == {"epochs": 20, "steps": 40}
    assert reported.history["loss"] == [0.5, 0.4] and np.isnan(reported.history["val_loss"][1])
    run_line({"history": "not one"}, "history", {"path": str(tmp_path / "none.json")})
    assert records.read_record(tmp_path / "none.json", records.ReportedHistory, missing_ok=True) is None


def test_the_probe_line_is_one_import_and_one_call_with_the_request_as_a_literal():
    line = kernel_probe.probe_line("export", {"model_path": "x'); import os; os.system('boom"})
    assert "\n" not in line and line.startswith("__import__('imdb_lab.grader.kernel_probe'")
    with pytest.raises(ValueError, match="no probe step"):
        kernel_probe.probe_line("anything", {})


def test_a_forged_record_is_refused_with_one_error_type(tmp_path):
    path = tmp_path / "forged.json"
    for forged in ('{"outcome": "passed"}', '{"outcome": "exported", "accuracy": 1}', "[]", "not json"):
        path.write_text(forged)
        with pytest.raises(RecordError):
            records.read_record(path, records.ExportRecord)
