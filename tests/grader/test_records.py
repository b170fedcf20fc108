"""Tests of imdb_lab.grader.records: each record read back as written, and what a notebook could forge refused with
one error type (RecordError) before any judge reads it."""

import json
import os

import pytest

from imdb_lab.errors import RecordError
from imdb_lab.grader import records
from imdb_lab.grader.records import Call, FunctionRecord, ReportedHistory, RunnerReport, ScorerRequest, ScorerResult


def round_trip(record):
    return type(record).from_json(json.loads(json.dumps(record.to_json())))


def test_records_read_back_as_written():
    history = ReportedHistory({"loss": [0.5, 0.4], "val_loss": [0.45, float("nan")]}, {"epochs": 20, "steps": 40})
    prediction = FunctionRecord("predict_sentiment", None, (Call("result", [0.2, 0.9]),))
    request = ScorerRequest("m.keras", "s.json", "t.npz", "0" * 64, 0.85, "w.npz",
                            {"training": (None, history), "prediction": (["a text", "another"], prediction)})
    again = round_trip(request)
    assert again.evidence["prediction"] == (["a text", "another"], prediction)
    assert again.evidence["training"][1].params == history.params
    report = RunnerReport("exported", {"encoding": [{"description": "a case", "sequences": [[1, 2], []],
                                                     "num_words": 5}]})
    assert round_trip(report) == report
    assert round_trip(ScorerResult("scored", 0.9)) == ScorerResult("scored", 0.9)


@pytest.mark.parametrize("content", [
    {"history": {"loss": []}, "params": {}},  # no epoch: nothing a judge could index
    {"history": {"loss": [0.5, 0.4], "val_loss": [0.4]}, "params": {}},  # logs of other lengths
    {"history": {"loss": ["0.5"]}, "params": {}},
    {"history": {"loss": [0.5]}, "params": {"epochs": 1, "verbose": 2}},
    {"history": {"loss": [0.5]}, "params": {"epochs": True}},
    {"history": {"loss": [0.5]}},
])
def test_a_forged_history_is_refused(content):
    with pytest.raises(RecordError):
        ReportedHistory.from_json(content)


@pytest.mark.parametrize("content", [
    {"status": "exported", "drawn": {"model": []}},  # an exercise that draws nothing
    {"status": "exported", "drawn": {"prediction": ["a text", 3]}},
    {"status": "exported", "drawn": {"encoding": [{"description": "x", "sequences": [[9]], "num_words": 5}]}},
    {"status": "exported", "drawn": {}, "accuracy": 1.0},
    {"status": 1, "drawn": {}},
])
def test_a_forged_runner_report_is_refused(content):
    with pytest.raises(RecordError):
        RunnerReport.from_json(content)


@pytest.mark.parametrize("content", [
    {"status": "passed", "accuracy": 1.0, "verdicts": {}, "error": None, "files": []},  # no status of the scorer's
    {"status": "scored", "accuracy": None, "verdicts": {}, "error": None, "files": []},
    {"status": "scored", "accuracy": 1.5, "verdicts": {}, "error": None, "files": []},
    {"status": "scored", "accuracy": 0.9, "verdicts": {"accuracy": {}}, "error": None, "files": []},
    {"status": "scored", "accuracy": 0.9, "verdicts": {}, "error": None},
])
def test_a_scorer_result_it_cannot_have_written_is_refused(content):
    with pytest.raises(RecordError):
        ScorerResult.from_json(content)


@pytest.mark.parametrize("content", [{"result": [[1, 2], "x"]}, {"shape": [2, True]}, {"not_attempted": False},
                                     {"result": [0.5], "raised": "x"}, {"printed": "x"}])
def test_a_forged_call_is_refused(content):
    with pytest.raises(RecordError):
        Call.from_json(content)


def test_a_record_too_large_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as file:
        file.truncate(records.MAX_RECORD_BYTES + 1)
    with pytest.raises(RecordError, match=f"is {records.MAX_RECORD_BYTES + 1} bytes, more than the"):
        records.read_record(path, ReportedHistory)


@pytest.mark.parametrize("swap", ["link to /dev/zero", "named pipe", "folder"])
def test_a_record_swapped_for_a_link_a_pipe_or_a_folder_is_refused_at_once(tmp_path, swap):
    # a notebook's last function call can leave any of these where the grader reads a record: none may block
    # the grader (a pipe with no writer) or fill its memory (/dev/zero)
    path = tmp_path / "history.json"
    {"link to /dev/zero": lambda: path.symlink_to("/dev/zero"), "named pipe": lambda: os.mkfifo(path),
     "folder": path.mkdir}[swap]()
    with pytest.raises(RecordError, match="symbolic link|not a regular file"):
        records.read_record(path, ReportedHistory)
