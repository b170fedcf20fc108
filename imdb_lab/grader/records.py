"""Every record that crosses a process boundary of the grader: written with ``to_json``, read once with ``from_json``.

The hops of one notebook::

    grader ──RunnerConfig──▶ runner ──kernel_probe.probe_line──▶ kernel
    kernel ──ExportRecord, Settings, a FunctionRecord or ReportedHistory per exercise (files)──▶ grader
    runner ──RunnerReport (status file)──▶ grader
    grader ──ScorerRequest (a file)──▶ scorer ──ScorerResult (a line on stdout)──▶ grader
    grader ──GradeResult (a row of the rows file, signed)──▶ the grader of --resume and --merge

The notebook shares its sandbox with the runner, so everything but the
grader's own requests may be forged: ``from_json`` takes whatever JSON it is
given, checks every field once (``imdb_lab.untrusted``), and raises
``RecordError`` (one type) for anything its writer could not have written. A
field it does not know is an error too, so that nothing the grader needs is
dropped silently. Each exercise's inputs are checked by its own ``Probe.read``
(``imdb_lab.check.graded``). Past this module, the grader works with checked
values only.
"""

import dataclasses
import json
from pathlib import Path

from imdb_lab.arguments import is_real
from imdb_lab.errors import RecordError
from imdb_lab.grader import kernel_probe
from imdb_lab.grader.exercises import BY_NAME
from imdb_lab.grader.statuses import PASSED, SCORED, SCORER_STATUSES, VERDICT_WORDS, Status
from imdb_lab.untrusted import json_list, json_object, read_regular, real, text, whole

# more than a kernel honestly writes: a record beyond these is refused before it is looked at
MAX_RECORD_BYTES = 64 * 2**20
MAX_EPOCHS = 10_000
MAX_DIMENSIONS = 32


def read_record(path, record_type, *, missing_ok=False):
    """Return the ``record_type`` read from the JSON file at ``path`` (None if it is absent and ``missing_ok``);
    RecordError if the file is unreadable, too large, not a regular file (a link, a pipe), or not such a record."""
    path = Path(path)
    try:
        content = json.loads(read_regular(path, MAX_RECORD_BYTES).decode("utf-8"))
    except FileNotFoundError:
        if missing_ok:
            return None
        raise RecordError(f"{path.name} was not written") from None
    except RecordError:
        raise
    except (OSError, ValueError) as error:
        raise RecordError(f"{path.name} is not a JSON record ({type(error).__name__})") from None
    return record_type.from_json(content)


def write_record(path, record):
    """Write ``record`` (one of this module's) to ``path`` as JSON."""
    Path(path).write_text(json.dumps(record.to_json()), encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class RunnerConfig:
    """What the grader asks of the runner: the notebook (in its private folder), where to export, where to report,
    and the seconds for the cells and for the export and the exercises."""

    notebook: str
    workdir: str
    export_dir: str
    status_path: str
    cells_seconds: float
    export_seconds: float

    def to_json(self):
        """Return the record as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, content):
        """Return the record in ``content``; RecordError if it is not one."""
        names = [field.name for field in dataclasses.fields(cls)]
        content = json_object(content, "runner config", names)
        return cls(*(text(content[name], name, limit=4096) for name in names[:4]),
                   real(content["cells_seconds"], "cells_seconds", 0), real(content["export_seconds"],
                                                                              "export_seconds", 0))


def read_inputs(name, content):
    """Return exercise ``name``'s inputs as the runner drew them (its ``Probe.read``); RecordError for an exercise
    that draws none, or inputs it cannot have drawn."""
    graded = BY_NAME.get(name)
    if graded is None or graded.probe is None or graded.probe.read is None:
        raise RecordError(f"{str(name)[:40]!r} is no exercise whose inputs the runner draws")
    return graded.probe.read(content)


@dataclasses.dataclass(frozen=True)
class RunnerReport:
    """What the runner reports: the notebook's status (a runner status of ``statuses``), and the inputs it drew
    for each exercise after the cells ran (``{exercise: inputs}``, JSON-ready)."""

    status: str
    drawn: dict = dataclasses.field(default_factory=dict)

    def to_json(self):
        """Return the report as a JSON-ready dict."""
        return {"status": self.status, "drawn": dict(self.drawn)}

    @classmethod
    def from_json(cls, content):
        """Return the report in ``content``; RecordError if the runner could not have written it (a notebook can:
        the status is then checked against those a runner gives, ``statuses.from_runner``)."""
        content = json_object(content, "runner report", ("status", "drawn"))
        drawn = json_object(content["drawn"], "record of the inputs drawn", (), tuple(BY_NAME))
        return cls(text(content["status"], "status", limit=10**4),
                   {name: read_inputs(name, inputs) for name, inputs in drawn.items()})


def kernel_record_type(name):
    """Return the record type of what the kernel writes for exercise ``name``'s probe: a ``FunctionRecord`` of the
    function it calls, or the ``ReportedHistory``."""
    return FunctionRecord if BY_NAME[name].probe.function is not None else ReportedHistory


@dataclasses.dataclass(frozen=True)
class ExportRecord:
    """What the kernel's export step wrote: ``outcome``, one of ``kernel_probe``'s EXPORTED, NO_MODEL, NOT_KERAS."""

    outcome: str

    def to_json(self):
        """Return the record as a JSON-ready dict."""
        return {"outcome": self.outcome}

    @classmethod
    def from_json(cls, content):
        """Return the record in ``content``; RecordError if it is not one."""
        outcome = json_object(content, "export record", ("outcome",))["outcome"]
        if outcome not in (kernel_probe.EXPORTED, kernel_probe.NO_MODEL, kernel_probe.NOT_KERAS):
            raise RecordError(f"{str(outcome)[:40]!r} is no outcome of the export")
        return cls(outcome)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The notebook's ``num_words`` and ``skip_top``, as the export wrote them (None: not a whole number there)."""

    num_words: int | None = None
    skip_top: int | None = None

    def to_json(self):
        """Return the settings as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, content):
        """Return the settings in ``content``; RecordError if they are not the export's."""
        content = json_object(content, "settings record", ("num_words", "skip_top"))
        return cls(*(None if content[name] is None else whole(content[name], name, 0, 2**62)
                     for name in ("num_words", "skip_top")))


# what one call of a student's function gave, as kernel_probe._call records it
CALL_KINDS = ("result", "shape", "type", "raised", "not_attempted")


@dataclasses.dataclass(frozen=True)
class Call:
    """What one call of a student's function gave: ``kind`` (one of ``CALL_KINDS``) and its ``value``: the
    result (nested lists of numbers), its shape (too large to record), its type's name (not numbers), the
    ``Name: message`` it raised, or True (it still raises NotImplementedError)."""

    kind: str
    value: object

    def to_json(self):
        """Return the call as kernel_probe writes it."""
        return {self.kind: self.value}

    @classmethod
    def from_json(cls, content):
        """Return the call in ``content``; RecordError if it is not one."""
        if not isinstance(content, dict) or len(content) != 1 or next(iter(content)) not in CALL_KINDS:
            raise RecordError(f"a call's record must have one of {', '.join(CALL_KINDS)}")
        kind, value = next(iter(content.items()))
        if kind == "result":
            _check_numbers(value)
        elif kind == "shape":
            value = tuple(whole(n, "a dimension") for n in json_list(value, "a shape", MAX_DIMENSIONS))
        elif kind in ("type", "raised"):
            value = text(value, kind)
        elif value is not True:
            raise RecordError("not_attempted must be true")
        return cls(kind, value)


def _check_numbers(value):
    """Raise RecordError unless ``value`` is a number or nested lists of them, ``kernel_probe.MAX_NUMBERS`` at most
    (JSON's nesting is bounded by its parser)."""
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            count += len(item) == 0
        elif is_real(item):
            count += 1
        else:
            raise RecordError("a result must be numbers in nested lists")
        if count > kernel_probe.MAX_NUMBERS:
            raise RecordError(f"a result holds more than {kernel_probe.MAX_NUMBERS} numbers")


@dataclasses.dataclass(frozen=True)
class FunctionRecord:
    """What the kernel recorded of a student's function: its ``calls``, or ``missing`` (no function by that name:
    "" when the name is not defined, else the type of what it names)."""

    function: str
    missing: str | None = None
    calls: tuple = ()

    def to_json(self):
        """Return the record as kernel_probe writes it."""
        return {"function": self.function, "missing": self.missing, "calls": [call.to_json() for call in self.calls]}

    @classmethod
    def from_json(cls, content):
        """Return the record in ``content``; RecordError if it is not one."""
        content = json_object(content, "function record", ("function", "missing", "calls"))
        calls = tuple(Call.from_json(call) for call in json_list(content["calls"], "calls", 100))
        return cls(text(content["function"], "function"), text(content["missing"], "missing", optional=True), calls)


@dataclasses.dataclass(frozen=True)
class ReportedHistory:
    """The training history the kernel reported: ``history`` ({log name: a number per epoch}) and ``params``
    (``epochs``, ``steps``), read as ``check.history`` reads a ``keras.callbacks.History``."""

    history: dict
    params: dict

    def to_json(self):
        """Return the history as kernel_probe writes it."""
        return {"history": {name: list(values) for name, values in self.history.items()}, "params": dict(self.params)}

    @classmethod
    def from_json(cls, content):
        """Return the history in ``content``; RecordError if it is not one."""
        content = json_object(content, "history record", ("history", "params"))
        logs, params = content["history"], content["params"]
        if not isinstance(logs, dict) or len(logs) > 100 or not isinstance(params, dict):
            raise RecordError("a history must map at most 100 log names to numbers per epoch, and params to numbers")
        history = {text(name, "a log name", limit=100): [real(v, "a logged value", nan=True)
                                                           for v in json_list(values, "a log", MAX_EPOCHS)]
                   for name, values in logs.items()}
        if history and (len({len(values) for values in history.values()}) != 1 or not next(iter(history.values()))):
            raise RecordError("a history's logs hold one number per epoch: as many in each, at least one")
        unknown = set(params) - {"epochs", "steps"}
        if unknown:
            raise RecordError("a history's params hold only epochs and steps")
        return cls(history, {name: whole(value, name, 0, 10**9) for name, value in params.items()})


@dataclasses.dataclass(frozen=True)
class ScorerRequest:
    """What the grader asks of the scorer: score the exported model on the test reviews (their SHA-256 checked),
    and, when ``words_path`` is given, judge the exercises judged there (``Graded.in_scorer``) on ``evidence``:
    ``{exercise: (inputs drawn or None, the kernel's record or None)}``."""

    model_path: str
    settings_path: str
    test_path: str
    test_sha256: str
    target: float
    words_path: str | None = None
    evidence: dict = dataclasses.field(default_factory=dict)

    def to_json(self):
        """Return the request as a JSON-ready dict."""
        content = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        content["evidence"] = {name: {"inputs": inputs, "record": None if record is None else record.to_json()}
                               for name, (inputs, record) in self.evidence.items()}
        return content

    @classmethod
    def from_json(cls, content):
        """Return the request in ``content``; RecordError if it is not one."""
        names = [field.name for field in dataclasses.fields(cls)]
        content = json_object(content, "scorer request", names)
        evidence = {}
        for name, found in json_object(content["evidence"], "scorer's evidence", (), SCORER_EXERCISES).items():
            found = json_object(found, f"evidence of {name}", ("inputs", "record"))
            inputs = None if found["inputs"] is None else read_inputs(name, found["inputs"])
            record = None if found["record"] is None else kernel_record_type(name).from_json(found["record"])
            evidence[name] = (inputs, record)
        return cls(*(text(content[name], name, limit=4096) for name in names[:4]),
                   real(content["target"], "target", 0, 1),
                   text(content["words_path"], "words_path", optional=True, limit=4096), evidence)


# the exercises the scorer judges (with the exported model, loaded in its clean process)
SCORER_EXERCISES = tuple(name for name, graded in BY_NAME.items() if graded.in_scorer)
# the fields of an exercise's verdict (exercises.verdict)
VERDICT_FIELDS = ("exercise", "verdict", "message", "hint", "fraction", "source")


def check_verdict(content, exercise):
    """Return ``content`` as the verdict dict of ``exercise`` (``exercises.verdict``'s fields); RecordError if it is
    not one the grader's judging gives."""
    content = json_object(content, "verdict", VERDICT_FIELDS)
    if content["exercise"] != exercise:
        raise RecordError(f"a verdict of {exercise} must name it")
    if content["verdict"] not in VERDICT_WORDS:
        raise RecordError(f"{str(content['verdict'])[:40]!r} is no verdict the grader gives")
    if content["source"] not in ("grader", "kernel"):
        raise RecordError("a verdict's source is the grader or the kernel")
    return {"exercise": exercise, "verdict": content["verdict"],
            "message": text(content["message"], "message", limit=2000),
            "hint": text(content["hint"], "hint", limit=2000),
            "fraction": real(content["fraction"], "fraction", 0, 1), "source": content["source"]}


@dataclasses.dataclass(frozen=True)
class ScorerResult:
    """What the scorer measured: ``status`` (``statuses.SCORED`` or why not), ``accuracy`` on the test reviews
    (None unless scored), the ``verdicts`` of the exercises it judged ({name: verdict dict}; one that had nothing
    to judge on is left out), ``error``: why it could not judge them, when it failed to (a fault of the grader,
    never of the notebook); ``files``: the files the scorer ran from (its self-check's result only)."""

    status: str
    accuracy: float | None = None
    verdicts: dict = dataclasses.field(default_factory=dict)
    error: str | None = None
    files: tuple = ()

    def to_json(self):
        """Return the result as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, content):
        """Return the result in ``content``; RecordError if the scorer could not have written it."""
        content = json_object(content, "scorer result", ("status", "accuracy", "verdicts", "error", "files"))
        reported = text(content["status"], "status", limit=10**4)
        status = Status(SCORED) if reported == SCORED else Status.parse(reported)
        if status != SCORED and status.kind not in SCORER_STATUSES:
            raise RecordError(f"{status[:40]!r} is no status the scorer gives")
        scored = status == SCORED
        if scored != (content["accuracy"] is not None):
            raise RecordError("a scored model has an accuracy, and only a scored one")
        accuracy = real(content["accuracy"], "accuracy", 0, 1) if scored else None
        verdicts = json_object(content["verdicts"], "scorer's verdicts", (), SCORER_EXERCISES)
        return cls(status, accuracy, {name: check_verdict(found, name) for name, found in verdicts.items()},
                   text(content["error"], "error", optional=True),
                   tuple(text(path, "a file", limit=4096) for path in json_list(content["files"], "files", 10**5)))


# a row's ``sandboxed`` for a notebook run as the notebooks' own account (sandbox.NOTEBOOK_USER); True is
# bubblewrap's sandbox, False no containment, None a file not run
USER = "user"


@dataclasses.dataclass(frozen=True)
class GradeResult:
    """One notebook's row: its name, status (``statuses.ROW_STATUSES``), accuracy on the test set (or None),
    seconds taken, how it was contained (``sandboxed``: True in bubblewrap's sandbox, ``"user"`` as the notebooks'
    own account, False not at all, None: it did not run), and each exercise's verdict with its points
    (``exercises.Rubric.award``), in the order of ``exercises.EXERCISES``. The rows file holds it
    (``rows_file``), signed."""

    notebook: str
    status: str
    accuracy: float | None
    seconds: float
    sandboxed: bool | str | None
    exercises: list

    @property
    def points(self):
        """Return the points the notebook earned."""
        return round(sum(e["points"] for e in self.exercises), 2)

    @property
    def max_points(self):
        """Return the points the notebook could have earned (an exercise the grader failed to judge is left out)."""
        return sum(e["max_points"] for e in self.exercises)

    @property
    def passed(self):
        """True when the notebook's model reached the target."""
        return self.status == PASSED

    def as_dict(self):
        """Return the row as a JSON-ready dict (notebook, status, accuracy, seconds, sandboxed, exercises)."""
        return dataclasses.asdict(self)
