"""The grader's half of an exercise, one shape for all: what it runs in the student's kernel, and how it judges.

Each exercise module (``encoding_check``, ``model_check``, ...) holds, beside
its check, hint and solution, a ``GRADED`` of this shape, and
``check.EXERCISES`` lists them: ``imdb-lab grade`` loops over that list (the
runner's probes in ``grader.runner``, the judging in ``grader.grading`` and
``grader.scorer``). A sixth exercise is one new module and one line in
``check/__init__.py``.

How one exercise is graded:

1. Once the notebook's cells have run, the runner draws the exercise's
   hidden inputs (``Probe.draw``) and runs its ``Probe`` in the kernel: the
   notebook's function on them, or (``function`` None) the notebook's
   ``history``. The kernel writes what it got as a record
   (``grader.records``), which the grader checks once.
2. ``Graded.judge`` then judges that ``Evidence`` outside the kernel: in the
   clean scorer, with the exported model, when ``in_scorer``; else in the
   grader. It returns a ``Verdict`` in the answer checks' own words.
"""

import dataclasses
from typing import Callable

from imdb_lab.models.evaluation import TARGET


@dataclasses.dataclass(frozen=True)
class Probe:
    """What the runner runs in the student's kernel for an exercise, once the cells have run.

    Attributes:
        function: the notebook's function to call; None records the
            notebook's ``history`` instead.
        draw: ``draw(rng, num_words, word_index)`` returns the hidden inputs
            (JSON-ready), or None when they cannot be drawn (no usable
            ``num_words``); ``word_index`` is a function that returns the
            kernel's word index. None: the calls take no drawn inputs.
        arguments: ``arguments(inputs)`` returns the arguments of each call.
        read: ``read(content)`` returns the inputs from the runner's report,
            checked (``RecordError`` for anything ``draw`` cannot give).
    """

    function: str | None = None
    draw: Callable | None = None
    arguments: Callable | None = None
    read: Callable | None = None


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What the grader has to judge an exercise on.

    Attributes:
        status: the notebook's status as a row shows it (why nothing was
            exported, when so).
        inputs: what the probe drew (checked), or None.
        record: the kernel's record of the probe (``records.FunctionRecord``
            or ``records.ReportedHistory``), or None when it wrote none.
        model: the exported model, loaded with its compile settings in the
            scorer; None when the notebook has no Keras model.
        model_problem: why the model could not be loaded with its compile
            settings (it is then loaded without them), or None.
        num_words: the width of the model's multi-hot rows.
        accuracy: the scorer's measurement on the test reviews, or None.
        target: the accuracy to reach.
        word_index: a function that returns the grader's word index.
    """

    status: str
    inputs: object = None
    record: object = None
    model: object = None
    model_problem: str | None = None
    num_words: int | None = None
    accuracy: float | None = None
    target: float = TARGET
    word_index: Callable | None = None


@dataclasses.dataclass(frozen=True)
class Graded:
    """How the grader judges an exercise, outside the student's kernel.

    Attributes:
        name: the exercise's name in the rows, the CSV and the rubric.
        title: what the feedback pages and Gradescope call it.
        points: its points under the default rubric.
        judge: ``judge(evidence)`` returns its ``Verdict`` (with ``fraction``
            for partial credit, ``source`` "kernel" when it rests on what the
            notebook reported), or None when there is nothing to judge it on.
        in_scorer: judged in the scorer, with the exported model (else in the
            grader, from what the kernel recorded and the scorer measured).
        probe: what the runner runs in the kernel for it (None: nothing).
    """

    name: str
    title: str
    points: float
    judge: Callable
    in_scorer: bool = False
    probe: Probe | None = None
