"""The grader: each student notebook run contained, its model exported, then scored by a clean process.

``statuses`` (every status a row can have), ``processes`` (process trees:
limits, adoption, killing), ``runner`` (the child process that runs one
notebook and exports its model), ``scorer`` (the clean child process that
scores an exported model), ``launch`` (starting those two under the limits),
``trusted_data`` (what the grader prepares before any notebook and checks
after each), ``grading`` (one notebook, then a class) and ``gradebook`` (the
table, rows file, CSV and Gradescope results).
"""
