"""Tests of imdb_lab.grader.rows_file: the rows file --resume reads, its signing with the grader's key, the shares
of a class and their merge."""

import json
import re
from pathlib import Path

import pytest

from conftest import accuracy_verdict, make_row
from imdb_lab.check.core import correct, incorrect
from imdb_lab.grader import rows_file
from imdb_lab.grader.exercises import EXERCISES, Rubric, not_judged, verdict

RUBRIC = Rubric()
ALICE = [RUBRIC.award(verdict(name, correct(f"{name} is right"))) for name in EXERCISES[:3]] + [
    RUBRIC.award(accuracy_verdict(0.88123)),
    RUBRIC.award(verdict("prediction", incorrect("predict_sentiment gives classes", "return probabilities")))]
BOB = [RUBRIC.award(not_judged(name, "the grader had nothing to judge it on")) for name in EXERCISES]

@pytest.fixture
def notebooks(tmp_path):
    """Three notebook files in a class folder."""
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.ipynb"
        path.write_text(f"notebook {name}")
        paths.append(str(path))
    return paths


def test_results_log_is_rewritten_row_by_row_in_the_order_given(tmp_path, notebooks):
    log = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    log.record(make_row(notebooks[2], "passed", 0.9, 1.0))
    log.record(make_row(notebooks[0], "no model", None, 2.0))
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [row["notebook"] for row in rows] == [notebooks[0], notebooks[2]]
    assert set(rows[0]) == set(rows_file.ResultsLog.KEYS)
    assert rows[1]["notebook_sha256"] == rows_file.notebook_sha256(notebooks[2])


def test_resume_skips_finished_notebooks_unless_they_changed(tmp_path, notebooks):
    first = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    for notebook in notebooks[:2]:
        first.record(make_row(notebook, "passed", 0.9, 1.0))
    with open(notebooks[1], "a") as file:
        file.write(" changed")
    again = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    finished = again.load()
    assert list(finished) == [notebooks[0]]
    assert finished[notebooks[0]] == make_row(notebooks[0], "passed", 0.9, 1.0)
    again.record(make_row(notebooks[2], "below target", 0.6, 1.0))
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [row["notebook"] for row in rows] == [notebooks[0], notebooks[2]]  # the old row is kept


def test_resume_grades_again_the_rows_the_grader_failed_on(tmp_path, notebooks):
    from imdb_lab.grader.exercises import grader_failed

    first = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    failed_judging = [*ALICE[:1], *(RUBRIC.award(grader_failed(name, "RuntimeError: bug")) for name in EXERCISES[1:3]),
                      *ALICE[3:]]
    first.record(make_row(notebooks[0], "passed", 0.88123, 1.0, True, failed_judging))
    first.record(make_row(notebooks[1], "grading failed: the scorer exited with code 1", None, 1.0, True, BOB))
    first.record(make_row(notebooks[2], "passed", 0.88123, 1.0, True, ALICE))
    assert list(rows_file.ResultsLog(tmp_path / "rows.json", notebooks).load()) == [notebooks[2]]


def test_resume_from_a_file_that_is_not_a_rows_file_is_refused(tmp_path, notebooks):
    path = tmp_path / "rows.json"
    for content, why in (("{ not json", "Expecting"), (json.dumps({"a": 1}), "not a rows file"),
                         (json.dumps([{"notebook": "x"}]), "a rows file of an older imdb-lab")):
        path.write_text(content)
        with pytest.raises(ValueError, match=f"cannot resume from .*rows.json: .*{why}.*grade without --resume"):
            rows_file.ResultsLog(path, notebooks).load()
    assert rows_file.ResultsLog(tmp_path / "none.json", notebooks).load() == {}


def write_rows_file(path, rows, notebooks, shard=(1, 1)):
    """Write ``rows`` as a rows file of the grader's format, its header signed with the grader's key."""
    key = rows_file.rows_key()
    header = {"format": rows_file.ROWS_FORMAT, "shard": list(shard), "notebooks": notebooks,
              "key_id": rows_file.key_id(key)}
    header["signature"] = rows_file.sign_row(header, key)
    Path(path).write_text(json.dumps({**header, "rows": rows}))


def forged(notebook, status="passed", accuracy=0.99, signature="0" * 64):
    """A row as a notebook could write it: the right notebook and SHA-256, a status of its choice."""
    return {"notebook": notebook, "status": status, "accuracy": accuracy, "seconds": 1.0, "sandboxed": True,
            "exercises": ALICE, "notebook_sha256": rows_file.notebook_sha256(notebook), "signature": signature}


def test_resume_refuses_rows_the_grader_did_not_sign(tmp_path, notebooks):
    path = tmp_path / "rows.json"
    write_rows_file(path, [forged(notebooks[0])], notebooks)
    with pytest.raises(ValueError, match=r"cannot resume from .*: row 1 is not signed with this grader's key"):
        rows_file.ResultsLog(path, notebooks).load()
    # signed with another grader's key (another user, another machine): refused the same way
    row = forged(notebooks[0])
    row["signature"] = rows_file.sign_row(row, b"another key")
    write_rows_file(path, [row], notebooks)
    with pytest.raises(ValueError, match="row 1 is not signed"):
        rows_file.ResultsLog(path, notebooks).load()


@pytest.mark.parametrize("change, problem", [
    ({"status": "passed", "accuracy": 0.5}, "'passed' with accuracy 0.5000 does not fit the target 0.85"),
    ({"status": "below target", "accuracy": 0.9}, "does not fit the target"),
    ({"status": "passed", "accuracy": None}, "a row 'passed' needs accuracy"),
    ({"status": "no model", "accuracy": 0.9}, "a row 'no model' has no accuracy"),
    ({"status": "excellent"}, "'excellent' is no status the grader gives"),
    ({"accuracy": "0.99"}, "its accuracy must be empty or a number from 0 to 1"),
    ({"accuracy": 1.5}, "its accuracy must be empty or a number from 0 to 1"),
    ({"seconds": -1}, "its seconds must be a number, 0 or more"),
    ({"status": 1}, "its notebook and status must be text"),
    ({"notebook_sha256": "abc"}, "its notebook_sha256 must be a SHA-256 in hex"),
    ({"sandboxed": "yes"}, "its sandboxed must be true, \"user\", false or null"),
    ({"exercises": [{"exercise": "accuracy", "points": 6, "max_points": 6, "verdict": "correct"}]},
     "its exercises must be the verdicts of encoding, model, training, accuracy, prediction, in that order"),
    ({"exercises": [{**e, "points": 60 if e["exercise"] == "accuracy" else e["points"]} for e in ALICE]},
     "the points of accuracy must be numbers from 0 to its most"),
    ({"exercises": [{**e, "verdict": "splendid"} for e in ALICE]}, "'splendid' is no verdict the grader gives"),
])
def test_resume_refuses_signed_rows_the_grader_cannot_have_written(tmp_path, notebooks, change, problem):
    # even signed (the key stolen, or a row of a run with another --target), an impossible row is refused
    row = {**forged(notebooks[0]), **change}
    row["signature"] = rows_file.sign_row(row, rows_file.rows_key())
    write_rows_file(tmp_path / "rows.json", [row], notebooks)
    expected = r"cannot resume from .*: row 1 cannot be the grader's \(.*" + re.escape(problem)
    with pytest.raises(ValueError, match=expected):
        rows_file.ResultsLog(tmp_path / "rows.json", notebooks).load(target=0.85)


def test_the_grader_key_is_private_and_kept(tmp_path):
    key = rows_file.rows_key()
    path = rows_file.state_folder() / "rows.key"
    assert len(key) == 32 and rows_file.rows_key() == key
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o077 == 0
    path.write_text("damaged")
    with pytest.raises(ValueError, match="the grader's key .*rows.key is damaged: delete it"):
        rows_file.rows_key()


def test_graders_starting_at_once_share_one_whole_key(tmp_path, monkeypatch):
    # the shares of a class started together (a SLURM array): each makes or reads the key at the same moment, and
    # none may read a key file that another has created but not yet written
    import threading

    for attempt in range(40):
        monkeypatch.setenv("IMDB_LAB_STATE", str(tmp_path / f"state{attempt}"))
        start, keys, errors = threading.Barrier(8), [], []

        def grader(start=start, keys=keys, errors=errors):  # this attempt's, bound now
            start.wait()
            try:
                keys.append(rows_file.rows_key())
            except ValueError as error:
                errors.append(str(error))

        threads = [threading.Thread(target=grader) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"attempt {attempt}: {errors[0]}"
        assert len(keys) == 8 and len(set(keys)) == 1
        state = rows_file.state_folder()
        assert [path.name for path in state.iterdir()] == ["rows.key"], "a temporary key file was left behind"
        assert (state / "rows.key").stat().st_mode & 0o777 == 0o600


def test_a_symlinked_notebook_has_no_sha256_and_is_never_resumed(tmp_path, notebooks):
    link = tmp_path / "link.ipynb"
    link.symlink_to(notebooks[0])
    assert rows_file.notebook_sha256(link) is None
    log = rows_file.ResultsLog(tmp_path / "rows.json", [*notebooks, str(link)])
    log.record(make_row(str(link), "not a notebook: a symbolic link: hand in the notebook file itself", None, 0.0))
    assert rows_file.ResultsLog(tmp_path / "rows.json", [*notebooks, str(link)]).load() == {}


def test_a_failed_write_leaves_the_rows_file_as_it_was(tmp_path, notebooks, monkeypatch):
    log = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    log.record(make_row(notebooks[0], "passed", 0.9, 1.0))
    before = (tmp_path / "rows.json").read_text()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rows_file.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        log.record(make_row(notebooks[1], "passed", 0.9, 1.0))
    assert (tmp_path / "rows.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_shares_are_deterministic_and_cover_the_class_once():
    notebooks = [f"class/s{i:02}.ipynb" for i in (7, 3, 11, 1, 5, 9, 2)]
    shares = [rows_file.share_of(notebooks, (k, 3)) for k in (1, 2, 3)]
    assert sorted(sum(shares, [])) == sorted(notebooks)
    assert all(share == [n for n in notebooks if n in share] for share in shares)  # the order given
    assert rows_file.share_of(list(reversed(notebooks)), (2, 3)) == list(reversed(shares[1]))  # any order: same
    assert rows_file.share_of(notebooks, (1, 1)) == notebooks
    assert rows_file.share_of(notebooks[:2], (3, 3)) == []


def graded_shares(tmp_path, notebooks, n, skip=()):
    """Write the rows file of each of ``n`` shares of ``notebooks``, every row passed; return their paths."""
    paths = []
    for k in range(1, n + 1):
        share = rows_file.share_of(notebooks, (k, n))
        log = rows_file.ResultsLog(tmp_path / f"rows-{k}.json", share, shard=(k, n), class_notebooks=notebooks)
        for notebook in share:
            if notebook not in skip:
                log.record(make_row(notebook, "passed", 0.9, 1.0))
        if not (tmp_path / f"rows-{k}.json").exists():  # a share with nothing to grade still writes its file
            (tmp_path / f"rows-{k}.json").write_text(json.dumps({**log.header, "rows": []}))
        paths.append(tmp_path / f"rows-{k}.json")
    return paths


def test_merge_joins_the_shares_in_the_class_order(tmp_path, notebooks):
    paths = graded_shares(tmp_path, notebooks, 2)
    merged = rows_file.merge(list(reversed(paths)))
    assert [r.notebook for r in merged] == notebooks and all(r.passed for r in merged)
    four = graded_shares(tmp_path, notebooks, 4)  # more shares than notebooks: one share is empty
    assert [r.notebook for r in rows_file.merge(four)] == notebooks


def test_merge_refuses_what_is_not_the_shares_of_one_class(tmp_path, notebooks):
    paths = graded_shares(tmp_path, notebooks, 3)
    with pytest.raises(ValueError, match=r"share\(s\) 2/3 missing: grade them, then merge all 3"):
        rows_file.merge([paths[0], paths[2]])
    with pytest.raises(ValueError, match="are both share 1/3"):
        rows_file.merge([*paths, paths[0]])
    other = tmp_path / "other"
    other.mkdir()
    (other_rows,) = graded_shares(other, notebooks[:2], 1)
    with pytest.raises(ValueError, match="is a share of 1, .* of 3: merge the rows files of one --shard run"):
        rows_file.merge([*paths, other_rows])
    (tmp_path / "late").mkdir()
    late = tmp_path / "late.ipynb"
    late.write_text("handed in late")
    moved = graded_shares(tmp_path / "late", [*notebooks, str(late)], 3)
    with pytest.raises(ValueError, match=r"graded with other notebooks \(.*late.ipynb differs\): the class changed "
                                         r"between the shares .* grade every share again with --resume"):
        rows_file.merge([paths[0], paths[1], moved[2]])
    (tmp_path / "stopped").mkdir()
    stopped = graded_shares(tmp_path / "stopped", notebooks, 3, skip={notebooks[1]})
    with pytest.raises(ValueError, match=r"has no row for .*b.ipynb: grade that share again with --resume"):
        rows_file.merge(stopped)
    forged_file = tmp_path / "forged.json"
    content = json.loads(paths[0].read_text())
    content["shard"] = [2, 3]  # a share renamed: its header no longer matches its signature
    forged_file.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="cannot merge .*forged.json: its header was changed since the grader signed"):
        rows_file.merge([forged_file, paths[0], paths[2]])


def test_resume_refuses_the_rows_file_of_another_share(tmp_path, notebooks):
    (rows_1,) = graded_shares(tmp_path, notebooks, 2)[:1]
    log = rows_file.ResultsLog(rows_1, rows_file.share_of(notebooks, (2, 2)), shard=(2, 2), class_notebooks=notebooks)
    with pytest.raises(ValueError, match=r"cannot resume from .*rows-1.json: it holds share 1/2, not 2/2"):
        log.load()


def test_a_rows_file_of_another_key_names_both_keys_and_where_this_one_is(tmp_path, notebooks, monkeypatch):
    log = rows_file.ResultsLog(tmp_path / "rows.json", notebooks)
    log.record(make_row(notebooks[0]))
    theirs = rows_file.key_id(log.key)
    monkeypatch.setenv("IMDB_LAB_STATE", str(tmp_path / "another user's state"))
    ours = rows_file.key_id(rows_file.rows_key())
    for attempt in (lambda: rows_file.ResultsLog(tmp_path / "rows.json", notebooks).load(),
                    lambda: rows_file.merge([tmp_path / "rows.json"])):
        with pytest.raises(ValueError) as raised:
            attempt()
        message = str(raised.value)
        assert f"signed with key {theirs}, not with this grader's key {ours}" in message
        assert "another user's state/rows.key" in message and "IMDB_LAB_STATE" in message
        assert "start again" not in message  # grading again would not mend it


def test_a_grader_folder_of_another_user_says_whose_it_is(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "rows.key").write_text("0" * 64 + "\n")
    monkeypatch.setenv("IMDB_LAB_STATE", str(folder))

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rows_file, "_read_or_make_key", refused)
    with pytest.raises(ValueError, match=r"cannot use the grader's key in .*state \(Permission denied\): that folder "
                                         r"is another user's; .* set IMDB_LAB_STATE to a folder of your own"):
        rows_file.rows_key()


def test_a_rows_file_of_the_format_before_is_still_resumed(tmp_path, notebooks):
    key = rows_file.rows_key()
    row = {**make_row(notebooks[0]).as_dict(), "notebook_sha256": rows_file.notebook_sha256(notebooks[0])}
    row["signature"] = rows_file.sign_row(row, key)
    header = {"format": "imdb-lab rows/3", "shard": [1, 1], "notebooks": notebooks}
    header["signature"] = rows_file.sign_row(header, key)
    (tmp_path / "rows.json").write_text(json.dumps({**header, "rows": [row]}))
    assert list(rows_file.ResultsLog(tmp_path / "rows.json", notebooks).load()) == [notebooks[0]]


def test_a_share_with_nothing_left_to_grade_still_holds_the_class_after_a_late_hand_in(tmp_path, notebooks):
    first = graded_shares(tmp_path, notebooks, 2)
    late = tmp_path / "d.ipynb"
    late.write_text("handed in late")
    everyone = [*notebooks, str(late)]
    for k, path in enumerate(first, start=1):  # each share again, with --resume: the log is saved as it starts
        log = rows_file.ResultsLog(path, rows_file.share_of(everyone, (k, 2)), shard=(k, 2), class_notebooks=everyone)
        finished = log.load()
        log.save()
        for notebook in rows_file.share_of(everyone, (k, 2)):
            if notebook not in finished:
                log.record(make_row(notebook))
    assert [result.notebook for result in rows_file.merge(first)] == everyone
