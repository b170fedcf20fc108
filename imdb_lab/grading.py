"""Grade student notebooks: run each one, then evaluate the ``model`` it left on the real test set.

We never trust what a notebook prints or computes about itself. Each notebook runs
headless in a fresh kernel of the current interpreter (nbclient), in its own folder;
then, in that same kernel, ``evaluate_namespace`` measures the accuracy of the
notebook's ``model`` with ``model.predict`` on the test split of ``imdb_lab.load_flat``
(the kernel inherits ``IMDB_LAB_DATA``) and hands the result back through a file.

Time limits: ``timeout`` seconds is the total for all the notebook's cells (a
deadline: each cell gets what is left of it); kernel start-up and our evaluation
are not counted, the evaluation has its own limit of ``EVALUATION_TIMEOUT`` seconds.
A kernel that runs out of time is killed (the whole process group) before the next
notebook starts.
"""

import dataclasses
import json
import math
import numbers
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSED = "passed"
BELOW_TARGET = "below target"
TIMED_OUT = "timed out"
NO_MODEL = "no model"
NOT_A_KERAS_MODEL = "not a Keras model"
EVALUATION_TIMEOUT = 600
KERNEL_STARTUP_TIMEOUT = 60
# the longest error message a status row shows
MESSAGE_CHARS = 120


@dataclasses.dataclass
class GradeResult:
    """One notebook's row: its name, status, accuracy on the test set (or None) and seconds taken."""

    notebook: str
    status: str
    accuracy: float | None
    seconds: float

    @property
    def passed(self):
        """True when the notebook's model reached the target."""
        return self.status == PASSED

    def as_dict(self):
        """Return the row as a JSON-ready dict (notebook, status, accuracy, seconds)."""
        return dataclasses.asdict(self)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def one_line(text):
    """Return the first line of ``text``, shortened to ``MESSAGE_CHARS`` characters."""
    text = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 3] + "..."


def accuracy_from_predictions(predictions, labels):
    """Return the share of reviews whose predicted class equals ``labels`` (0 = negative, 1 = positive).

    One output unit: positive when above 0.5 (a sigmoid), or above 0 when the values
    are not probabilities (logits). Two units: the larger one wins (a softmax).
    """
    import numpy as np

    predictions = np.asarray(predictions, dtype="float64")
    labels = np.asarray(labels)
    predictions = predictions.reshape(len(labels), -1)
    if predictions.shape[1] == 2:
        predicted = predictions.argmax(axis=1)
    elif predictions.shape[1] == 1:
        scores = predictions[:, 0]
        is_probability = scores.size == 0 or (scores.min() >= 0 and scores.max() <= 1)
        predicted = (scores > (0.5 if is_probability else 0.0)).astype("int64")
    else:
        raise ValueError(f"the model has {predictions.shape[1]} outputs: expected 1 (sigmoid) or 2 (softmax)")
    return float((predicted == labels).mean())


def evaluate_model(model, num_words=None, skip_top=0, *, source=None, batch_size=512):
    """Return the accuracy of ``model`` on the test split, computed from ``model.predict``.

    ``num_words`` defaults to the model's input size; the reviews are multi-hot
    encoded batch by batch so that memory stays bounded on the full data set.
    """
    from imdb_lab.data import load_flat
    from imdb_lab.model import input_width

    width = input_width(model)
    if num_words is None:
        num_words = width
    if num_words > width:
        raise ValueError(f"the notebook's num_words={num_words} is larger than the model's {width} inputs")
    _, test = load_flat(num_words=num_words, skip_top=skip_top, source=source)
    if len(test) == 0:
        raise ValueError("the test split is empty")
    return multi_hot_accuracy(model, test, test.labels, width, batch_size=batch_size)


def multi_hot_accuracy(model, sequences, labels, num_words, *, batch_size=512):
    """Return the accuracy of ``model.predict`` on multi-hot ``sequences``, fed batch by batch."""
    from imdb_lab.encoding import MultiHotSequence
    from imdb_lab.outputs import positive_probability

    feed = MultiHotSequence(sequences, num_words=num_words, batch_size=batch_size)
    # read through the model's own output kind, so that a logit of 0.7 counts as positive (a range heuristic
    # would take it for a probability)
    probability = positive_probability(model, model.predict(feed, verbose=0))
    return accuracy_from_predictions(probability, labels)


def evaluate_namespace(namespace, result_path):
    """Evaluate the ``model`` of a notebook's ``namespace`` and write {"status", "accuracy"} to ``result_path``.

    Runs inside the student's kernel after the notebook. Uses the notebook's
    ``num_words`` and ``skip_top`` when they are ints.
    """
    result = {"status": None, "accuracy": None}
    try:
        if "model" not in namespace:
            result["status"] = NO_MODEL
        elif "keras" not in sys.modules or not isinstance(namespace["model"], sys.modules["keras"].Model):
            # without keras imported, nothing in the kernel can be a Keras model
            result["status"] = NOT_A_KERAS_MODEL
        else:
            def int_or(name, default):
                value = namespace.get(name)
                ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
                return int(value) if ok else default

            result["accuracy"] = evaluate_model(
                namespace["model"], num_words=int_or("num_words", None), skip_top=int_or("skip_top", 0)
            )
            result["status"] = "evaluated"
    except Exception as error:  # noqa: BLE001 - the grader reports every failure as a row
        result["status"] = f"evaluation failed: {type(error).__name__}: {one_line(error)}"
    write_json_atomically(result, result_path)


def write_json_atomically(data, path):
    """Write ``data`` as JSON to ``path`` through a temporary file and os.replace."""
    from imdb_lab.files import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")


def _evaluation_code(result_path):
    # a private name, deleted afterwards, so the notebook's namespace is left as it was
    return (
        "from imdb_lab.grading import evaluate_namespace as _imdb_lab_evaluate\n"
        f"_imdb_lab_evaluate(globals(), {str(result_path)!r})\n"
        "del _imdb_lab_evaluate\n"
    )


def _kernel_manager_class():
    """Return an AsyncKernelManager class whose ``python3`` kernel is the current interpreter."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentPythonKernelManager(AsyncKernelManager):
        """A kernel manager that ignores other ``python3`` kernel specs (a user's, another venv's)."""

        @property
        def kernel_spec(self):
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())
            return self._kernel_spec

    return CurrentPythonKernelManager


def _run_cells(client, nb, deadline):
    """Run the notebook's code cells against ``deadline``; return a status, or None when all ran."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    number = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        number += 1  # the In [N] a fresh run shows
        if time.monotonic() >= deadline:
            return TIMED_OUT
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            return TIMED_OUT
        except CellExecutionError as error:
            return f"error in cell {number}: {error.ename}: {one_line(error.evalue)}"
        except DeadKernelError:
            return f"kernel died in cell {number}"
    return None


def grade_notebook(path, *, timeout=600, target=0.85):
    """Run the notebook at ``path`` in a fresh kernel, evaluate its ``model``; return a GradeResult."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    _check_positive("timeout", timeout)
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not 0 <= target <= 1:
        raise ValueError(f"target must be an accuracy between 0 and 1, got {target!r}")
    path = Path(path)
    started = time.monotonic()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - a broken file is a row, not a crash
        return GradeResult(str(path), f"not a notebook: {one_line(error)}", None, 0.0)
    deadline_holder = {"deadline": None}

    def cell_timeout(cell):
        deadline = deadline_holder["deadline"]
        # nbclient treats 0 as "no limit": give at least one second
        return max(1, math.ceil(deadline - time.monotonic())) if deadline else EVALUATION_TIMEOUT

    client = NotebookClient(
        nb,
        timeout_func=cell_timeout,
        startup_timeout=KERNEL_STARTUP_TIMEOUT,
        kernel_manager_class=_kernel_manager_class(),
        shutdown_kernel="immediate",
        allow_errors=False,
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    accuracy = None
    with tempfile.TemporaryDirectory(prefix="imdb-lab-grade-") as scratch:
        result_path = Path(scratch) / "result.json"
        try:
            # the kernel's own log lines (TensorFlow's start-up chatter) would drown the table
            with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                deadline_holder["deadline"] = time.monotonic() + timeout
                status = _run_cells(client, nb, deadline_holder["deadline"])
                if status is None:
                    deadline_holder["deadline"] = time.monotonic() + EVALUATION_TIMEOUT
                    nb.cells.append(nbformat.v4.new_code_cell(_evaluation_code(result_path)))
                    try:
                        client.execute_cell(nb.cells[-1], len(nb.cells) - 1, store_history=False)
                        result = json.loads(result_path.read_text(encoding="utf-8"))
                        status, accuracy = result["status"], result["accuracy"]
                    except CellTimeoutError:
                        status = f"evaluation failed: took over {EVALUATION_TIMEOUT} s"
                    except (CellExecutionError, DeadKernelError, OSError, ValueError, KeyError) as error:
                        status = f"evaluation failed: {type(error).__name__}: {one_line(error)}"
        except (RuntimeError, TimeoutError) as error:
            status = f"kernel error: {type(error).__name__}: {one_line(error)}"
    if status == "evaluated":
        status = PASSED if accuracy >= target else BELOW_TARGET
    return GradeResult(str(path), status, accuracy, round(time.monotonic() - started, 1))


def format_table(results):
    """Return the grade table (notebook, status, accuracy, seconds) and a summary line, as text."""
    header = ("notebook", "status", "accuracy", "seconds")
    rows = [
        (r.notebook, r.status, "-" if r.accuracy is None else f"{r.accuracy:.4f}", f"{r.seconds:.1f}")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = []
    for row in [header, *rows]:
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} passed")
    return "\n".join(lines)
