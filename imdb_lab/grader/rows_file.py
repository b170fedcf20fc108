"""The rows file (``imdb-lab grade --json``): its format, its signing with the grader's key, ``--resume`` from it,
the shares of a class (``--shard K/N``) and their merge (``--merge``)."""

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from pathlib import Path

from imdb_lab.arguments import is_real
from imdb_lab.errors import LabValueError, RecordError, WrongKeyError
from imdb_lab.files import atomic_write, sha256_file
from imdb_lab.grader.exercises import EXERCISES
from imdb_lab.grader.grading import refusal
from imdb_lab.grader.records import USER, VERDICT_FIELDS, GradeResult, check_verdict
from imdb_lab.grader.statuses import BELOW_TARGET, GRADER_FAILED, GRADING_FAILED, PASSED, Status, kind
from imdb_lab.models.evaluation import TARGET

ROWS_FORMAT = "imdb-lab rows/4"
# the format before rows/4, which did not name its key: still read
_ROWS_FORMATS = {ROWS_FORMAT: ("format", "shard", "notebooks", "key_id", "signature"),
                 "imdb-lab rows/3": ("format", "shard", "notebooks", "signature")}

def notebook_sha256(path):
    """Return the SHA-256 of the notebook file's bytes (a changed notebook is graded again), or None for a path the
    grader refuses to read (a symbolic link, a folder)."""
    return None if refusal(path) else sha256_file(path)


def state_folder():
    """Return the grader's own folder: ``$IMDB_LAB_STATE``, else ``$XDG_STATE_HOME/imdb-lab`` (~/.local/state)."""
    if os.environ.get("IMDB_LAB_STATE"):
        return Path(os.environ["IMDB_LAB_STATE"]).expanduser()
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state").expanduser() / "imdb-lab"


def rows_key():
    """Return the grader's secret key for signing rows files (made once, readable by this user only).

    LabValueError, saying what to do, when the grader's folder is another user's or the key is damaged.
    """
    folder = state_folder()
    try:
        return _read_or_make_key(folder)
    except PermissionError as error:
        raise LabValueError(f"cannot use the grader's key in {folder} ({error.strerror}): that folder is another "
                            "user's; grade as that user (their rows files are signed with their key), or set "
                            "IMDB_LAB_STATE to a folder of your own") from None


def key_id(key):
    """Return the name of a key that a rows file can carry: the first 12 hex digits of its SHA-256 (not secret)."""
    return hashlib.sha256(b"imdb-lab rows key " + key).hexdigest()[:12]


def _read_or_make_key(folder):
    """Return the key in ``folder/rows.key``, made there first if there is none."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "rows.key"
    if not path.exists():
        key = secrets.token_bytes(32)
        # written whole under another name, then linked in place: of graders starting at once (the shares of a
        # class), one key wins and the others read it, never an empty file (os.link fails where the name exists)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".rows.key.")  # readable by this user only
        try:
            with os.fdopen(handle, "w", encoding="ascii") as file:
                file.write(key.hex() + "\n")
            os.link(temporary, path)
            return key
        except FileExistsError:
            pass  # another grader's key won
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="ascii").strip()
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise LabValueError(f"the grader's key {path} is damaged: delete it (rows files it signed can then not be "
                            "resumed from)")
    return bytes.fromhex(key)


def sign_row(row, key):
    """Return the HMAC-SHA256 of a row (all its keys but ``signature``), hex."""
    content = json.dumps({k: v for k, v in row.items() if k != "signature"}, sort_keys=True).encode("utf-8")
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def row_problem(row, target):
    """Return what makes ``row`` one the grader cannot have written for ``target``, or None."""
    if not isinstance(row.get("notebook"), str) or not isinstance(row.get("status"), str):
        return "its notebook and status must be text"
    if kind(row["status"]) is None:
        return f"{row['status'][:60]!r} is no status the grader gives"
    accuracy, seconds = row.get("accuracy"), row.get("seconds")
    if accuracy is not None and not (is_real(accuracy) and 0 <= accuracy <= 1):
        return "its accuracy must be empty or a number from 0 to 1"
    if not is_real(seconds) or seconds < 0:
        return "its seconds must be a number, 0 or more"
    if row.get("sandboxed") not in (True, False, None, USER):
        return "its sandboxed must be true, \"user\", false or null"
    problem = _exercises_problem(row.get("exercises"))
    if problem:
        return problem
    sha = row.get("notebook_sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        return "its notebook_sha256 must be a SHA-256 in hex"
    measured = kind(row["status"]) in (PASSED, BELOW_TARGET)
    if measured != (accuracy is not None):
        return f"a row {row['status']!r} {'needs' if measured else 'has no'} accuracy"
    if measured and (accuracy >= target) != (row["status"] == PASSED):
        return f"{row['status']!r} with accuracy {accuracy:.4f} does not fit the target {target}"
    return None


def _exercises_problem(exercises):
    """Return what makes a row's ``exercises`` ones the grader cannot have written, or None."""
    fields = {*VERDICT_FIELDS, "points", "max_points"}
    if not isinstance(exercises, list) or len(exercises) != len(EXERCISES) or not all(
            isinstance(e, dict) and set(e) == fields for e in exercises):
        return f"its exercises must be the verdicts of {', '.join(EXERCISES)}, in that order, with their points"
    for name, e in zip(EXERCISES, exercises, strict=True):
        try:
            check_verdict({field: e[field] for field in VERDICT_FIELDS}, name)
        except RecordError as error:
            return str(error)
        if not (is_real(e["points"]) and is_real(e["max_points"]) and 0 <= e["points"] <= e["max_points"]):
            return f"the points of {name} must be numbers from 0 to its most"
    return None


def share_of(notebooks, shard):
    """Return the notebooks of share ``shard`` = ``(K, N)``, in the order given: every Nth of them sorted by path.

    The same for every share given the same notebooks in any order (a SLURM
    array's tasks, a Kubernetes Indexed Job's pods), and the N shares cover the
    class once.
    """
    k, n = shard
    chosen = set(sorted(notebooks)[k - 1::n])
    return [notebook for notebook in notebooks if notebook in chosen]


def _read_rows_file(path, key, target):
    """Return a rows file's content, each row and its header checked; raise LabValueError saying why for any other
    file (the caller says which file, and what to do)."""
    path = Path(path)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(content, list):
            raise LabValueError("a rows file of an older imdb-lab, without its class and share")
        fields = _ROWS_FORMATS.get(content.get("format")) if isinstance(content, dict) else None
        if fields is None or set(content) != {*fields, "rows"}:
            raise LabValueError(f"not a rows file ({ROWS_FORMAT})")
        header = {name: content[name] for name in fields}
        if not hmac.compare_digest(str(header["signature"]), sign_row(header, key)):
            if header.get("key_id") == key_id(key):
                raise LabValueError("its header was changed since the grader signed it")
            raise _wrong_key(header.get("key_id"), key)
        rows = content["rows"]
        if not isinstance(rows, list) or not all(isinstance(row, dict) and set(row) == set(ResultsLog.KEYS)
                                                 for row in rows):
            raise LabValueError("not a list of signed grade rows with their notebook_sha256")
        for number, row in enumerate(rows, start=1):
            if not hmac.compare_digest(str(row["signature"]), sign_row(row, key)):
                raise LabValueError(f"row {number} is not signed with this grader's key: the grader did not "
                                    "write it, or it was changed since")
            problem = row_problem(row, target)
            if problem:
                raise LabValueError(f"row {number} cannot be the grader's ({problem}; was it graded with "
                                    "another --target?)")
    except LabValueError:
        raise
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise LabValueError(str(error)) from None
    return content


def _wrong_key(signed_with, key):
    """Return the WrongKeyError of a rows file signed with key ``signed_with`` (its id; None: unnamed): it names
    both keys, and where this grader's is."""
    signer = f"key {str(signed_with)[:12]}" if signed_with else "another grader's key"
    return WrongKeyError(f"it is signed with {signer}, not with this grader's key {key_id(key)} "
                         f"({state_folder() / 'rows.key'}): run as the user who graded it, with the IMDB_LAB_STATE "
                         "that holds its key (grading again without --resume would grade every notebook again)")


def grader_failed(row):
    """Return whether the grader failed on ``row`` (a checked row): its status, or the judging of an exercise. Such a
    row is graded again on ``--resume``, once the grader is mended."""
    return kind(row["status"]) == GRADING_FAILED or any(e["verdict"] == GRADER_FAILED for e in row["exercises"])


def _result(row, notebook):
    """Return the GradeResult of a checked row of a rows file."""
    return GradeResult(notebook, Status.parse(row["status"]), row["accuracy"], row["seconds"], row["sandboxed"],
                       row["exercises"])


class ResultsLog:
    """The rows file (``--json``), rewritten atomically after each notebook; ``--resume`` skips what it holds.

    It holds the class given (``notebooks``), the share of it this run grades
    (``shard``, K of N; 1 of 1 without ``--shard``) and a row per graded
    notebook. The header and each row are signed with the grader's key
    (``rows_key``), kept in the grader's own folder: ``--resume`` and
    ``--merge`` believe only rows the grader wrote, and also check that each
    one is consistent (a "passed" has an accuracy at or above the target).
    """

    KEYS = ("notebook", "status", "accuracy", "seconds", "sandboxed", "exercises", "notebook_sha256", "signature")

    def __init__(self, path, notebooks, *, shard=(1, 1), class_notebooks=None):
        self.path = Path(path)
        self.notebooks = [str(notebook) for notebook in notebooks]
        self.rows = {}  # notebook as given -> row
        self.lock = threading.Lock()
        self.key = rows_key()
        self.header = {"format": ROWS_FORMAT, "shard": list(shard),
                       "notebooks": [str(notebook) for notebook in (class_notebooks or notebooks)],
                       "key_id": key_id(self.key)}
        self.header["signature"] = sign_row(self.header, self.key)

    def load(self, target=TARGET):
        """Return {notebook: GradeResult} of the rows already in the file whose notebook has not changed since, and
        on which the grader did not fail (``grader_failed``).

        Raises LabValueError, saying what to do, for a file the grader did not
        write: not a rows file, a row or header that is not signed with its key,
        or a row that could not be (``row_problem`` for ``target``).
        """
        if not self.path.exists():
            return {}
        try:
            content = _read_rows_file(self.path, self.key, target)
            if content["shard"] != self.header["shard"] and content["notebooks"] == self.header["notebooks"]:
                raise LabValueError(f"it holds share {content['shard'][0]}/{content['shard'][1]}, not "
                                    f"{self.header['shard'][0]}/{self.header['shard'][1]}")
            rows = content["rows"]
        except WrongKeyError as error:
            raise LabValueError(f"cannot resume from {self.path}: {error}") from None
        except LabValueError as error:
            raise LabValueError(f"cannot resume from {self.path}: {error}; give another --json file, or grade "
                                "without --resume to start again") from None
        by_path = {Path(row["notebook"]).resolve(): row for row in rows}
        finished = {}
        for notebook in self.notebooks:
            row = by_path.get(Path(notebook).resolve())
            sha = notebook_sha256(notebook)
            if row is not None and sha is not None and row["notebook_sha256"] == sha and not grader_failed(row):
                finished[notebook] = _result(row, notebook)
                self.rows[notebook] = {**row, "notebook": notebook}
                self.rows[notebook]["signature"] = sign_row(self.rows[notebook], self.key)
        return finished

    def record(self, result):
        """Add ``result``'s row and rewrite the file (rows in the order the notebooks were given)."""
        row = {**result.as_dict(), "notebook_sha256": notebook_sha256(result.notebook)}
        row["signature"] = sign_row(row, self.key)
        with self.lock:
            self.rows[result.notebook] = row
            self._write()

    def save(self):
        """Rewrite the file with this run's class and share and the rows kept so far: a share with nothing left to
        grade (a notebook handed in late moved the shares) still holds the class that ``merge`` joins."""
        with self.lock:
            self._write()

    def _write(self):
        ordered = [self.rows[notebook] for notebook in self.notebooks if notebook in self.rows]
        with atomic_write(self.path, "w", encoding="utf-8") as file:
            json.dump({**self.header, "rows": ordered}, file, indent=2)
            file.write("\n")


def merge(paths, target=TARGET):
    """Return the class's GradeResults, in its order, from the rows files of its N shares (``--shard K/N`` runs).

    Raises LabValueError when the files are not the N shares of one class,
    each once: another class or N, a share twice or missing, a notebook of a
    share without its row (that share stopped early: grade it again with --resume).
    """
    if not paths:
        raise LabValueError("give the rows files of the shares to merge")
    key = rows_key()
    contents = []  # a list: the same file given twice is a share given twice
    for path in paths:
        try:
            contents.append((str(path), _read_rows_file(path, key, target)))
        except WrongKeyError as error:
            raise LabValueError(f"cannot merge {path}: {error}") from None
        except LabValueError as error:
            raise LabValueError(f"cannot merge {path}: {error}; merge the --json files of the shares' own "
                                "--shard runs") from None
    first_path, first = contents[0]
    notebooks, n = first["notebooks"], first["shard"][1]
    shares = {}
    for path, content in contents:
        if content["shard"][1] != n:
            raise LabValueError(f"{path} is a share of {content['shard'][1]}, {first_path} of {n}: merge the rows "
                                "files of one --shard run")
        if content["notebooks"] != notebooks:
            changed = sorted(set(content["notebooks"]) ^ set(notebooks)) or ["their order"]
            raise LabValueError(f"{path} and {first_path} were graded with other notebooks ({changed[0]} differs): "
                                "the class changed between the shares (a late hand-in?); grade every share again "
                                "with --resume and the same notebooks (only what changed is graded), then merge")
        k = content["shard"][0]
        if k in shares:
            raise LabValueError(f"{path} and {shares[k]} are both share {k}/{n}: merge each share once")
        shares[k] = path
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in shares]
    if missing:
        raise LabValueError(f"share(s) {', '.join(missing)} missing: grade them, then merge all {n}")
    results = {}
    for path, content in contents:
        expected = share_of(notebooks, tuple(content["shard"]))
        rows = {row["notebook"]: row for row in content["rows"]}
        absent = [notebook for notebook in expected if notebook not in rows]
        if absent or set(rows) - set(expected):
            what = f"no row for {absent[0]}" if absent else "rows of notebooks outside its share"
            raise LabValueError(f"{path} (share {content['shard'][0]}/{n}) has {what}: grade that share again "
                                "with --resume, then merge")
        results.update({notebook: _result(row, notebook) for notebook, row in rows.items()})
    return [results[notebook] for notebook in notebooks]
