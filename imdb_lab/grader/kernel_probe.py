"""What the runner runs in the student's kernel once its cells have run: the export, and the student's functions.

The runner sends one line per step (``probe_line``): this module's ``run``
with the step's request as JSON. ``export`` saves the notebook's ``model``
with ``model.save`` and its ``num_words`` / ``skip_top``; ``call_function``
runs one of the student's functions (``multi_hot``, ``predict_sentiment``)
on inputs the runner drew after the cells ran, and records what it gave;
``history`` records ``history.history`` and ``history.params``.

It runs next to the student's code, which may have changed anything here:
nothing it writes is believed. The grader reads its files once, as records
(``imdb_lab.grader.records``), and judges them against what it measured
itself. So it imports little (the standard library, NumPy, the package's
base), and leaves no name in the notebook's namespace.
"""

import json
import sys

import numpy as np

from imdb_lab.arguments import is_whole

# the outcomes of the export step (records.ExportRecord reads them)
EXPORTED, NO_MODEL, NOT_KERAS = "exported", "no model", "not a Keras model"
# a result larger than this many numbers is recorded as its shape only
MAX_NUMBERS = 100_000
MAX_MESSAGE = 300


def probe_line(step, request):
    """Return the line of code the runner runs in the kernel for ``step`` (a function of this module) with
    ``request`` (a JSON-ready dict): an import and a call, the request as a Python string literal of JSON."""
    if step not in ("export", "call_function", "history"):
        raise ValueError(f"no probe step {step!r}")
    return f"__import__({__name__!r}, fromlist=['run']).run(globals(), {step!r}, {json.dumps(request)!r})"


def run(namespace, step, request):
    """Run ``step`` on the notebook's ``namespace`` with ``request`` (JSON text)."""
    {"export": export, "call_function": call_function, "history": history}[step](namespace, json.loads(request))


def _write(path, content):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(content, file)


def _whole(namespace, name):
    value = namespace.get(name)
    return int(value) if is_whole(value) else None


def export(namespace, request):
    """Save ``model`` to ``request["model_path"]`` and the notebook's settings to ``request["settings_path"]``;
    write the outcome (``EXPORTED``, ``NO_MODEL``, ``NOT_KERAS``) to ``request["result_path"]``."""
    keras = sys.modules.get("keras")
    if "model" not in namespace:
        outcome = NO_MODEL
    elif keras is None or not isinstance(namespace["model"], keras.Model):
        outcome = NOT_KERAS
    else:
        namespace["model"].save(request["model_path"])
        _write(request["settings_path"], {"num_words": _whole(namespace, "num_words"),
                                          "skip_top": _whole(namespace, "skip_top")})
        outcome = EXPORTED
    _write(request["result_path"], {"outcome": outcome})


def _call(function, arguments):
    """Return the record of ``function(*arguments)``: its result, its shape when large, its type when not numbers,
    what it raised, or that it is not attempted yet."""
    try:
        value = function(*arguments)
    except NotImplementedError:
        return {"not_attempted": True}
    except Exception as error:  # noqa: BLE001 - the student's error is what is recorded
        return {"raised": (type(error).__name__ + ": " + str(error))[:MAX_MESSAGE]}
    try:
        array = np.asarray(value, dtype=float)
    except Exception:  # noqa: BLE001 - not numbers: its type says what it was
        return {"type": type(value).__name__}
    return {"shape": list(array.shape)} if array.size > MAX_NUMBERS else {"result": array.tolist()}


def call_function(namespace, request):
    """Call the notebook's ``request["function"]`` on each of ``request["calls"]`` (lists of arguments); write
    ``{"function", "missing", "calls"}`` to ``request["path"]`` (``missing``: its type's name when it is no
    function, "" when there is none)."""
    function = namespace.get(request["function"])
    record = {"function": request["function"], "missing": None, "calls": []}
    if not callable(function):
        record["missing"] = "" if function is None else type(function).__name__
    else:
        record["calls"] = [_call(function, arguments) for arguments in request["calls"]]
    _write(request["path"], record)


def history(namespace, request):
    """Write the notebook's ``history.history`` and ``history.params`` (epochs, steps) to ``request["path"]``,
    when it has a history."""
    found = namespace.get("history")
    logs = getattr(found, "history", None)
    if not isinstance(logs, dict):
        return
    params = getattr(found, "params", None) or {}
    _write(request["path"], {
        "history": {str(name): [float(value) for value in values] for name, values in logs.items()},
        "params": {name: int(params[name]) for name in ("epochs", "steps") if params.get(name) is not None}})
