"""The grader: each student notebook run contained, its model exported, then scored by a clean process.

``statuses`` (every status a row can have), ``records`` (every record that
crosses a process boundary, checked once where it is read), ``processes``
(process trees: limits, adoption, killing), ``sandbox`` (what a notebook
sees), ``kernel_probe`` (what runs in the student's kernel after its cells),
``runner`` (the child process that runs one notebook and exports its model),
``scorer`` (the clean child process that scores an exported model),
``launch`` (starting those two under the limits), ``trusted_data`` (what the
grader prepares before any notebook and checks after each), ``exercises``
(the verdict and points of each exercise), ``grading`` (one notebook, then a
class), ``rows_file`` (the signed rows, ``--resume``, shares and their merge)
and ``reports`` (the table, progress, CSV, feedback pages and Gradescope
results).
"""
