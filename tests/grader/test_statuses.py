"""Tests of imdb_lab.grader.statuses: one list of statuses, the README's table made from it, and each row's kind."""

from pathlib import Path

import pytest

from imdb_lab.grader import statuses

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_exactly_these_statuses():
    table = "\n".join(f"| `{word}{suffix}` | {meaning} |" for word, suffix, meaning in statuses.ROW_STATUSES)
    text = README.read_text(encoding="utf-8")
    assert "| status | what it means |\n| --- | --- |\n" + table + "\n\n" in text


def test_the_statuses_are_distinct_and_internal_ones_are_not_row_statuses():
    words = [word for word, _, _ in statuses.ROW_STATUSES]
    assert len(set(words)) == len(words)
    assert statuses.EXPORTED not in words and statuses.SCORED not in words


@pytest.mark.parametrize("status, kind", [
    ("passed", statuses.PASSED),
    (statuses.error_in_cell(3, "ValueError", "bad"), statuses.ERROR_IN_CELL),
    (statuses.kernel_died_in_cell(2), statuses.KERNEL_DIED),
    (f"{statuses.KERNEL_DIED} while exporting the model", statuses.KERNEL_DIED),
    (statuses.over_memory(2**30), statuses.OVER_MEMORY),
    (statuses.detailed(statuses.NOT_LOADABLE, ValueError("custom layer\nmore")), statuses.NOT_LOADABLE),
    (statuses.SCORED, None),
    ("passedx", None),
])
def test_kind_names_the_status_a_row_starts_with(status, kind):
    assert statuses.kind(status) == kind


def test_detailed_describes_an_error_in_one_line():
    assert statuses.detailed(statuses.NOT_LOADABLE, TypeError("Could not locate class\nTraceback")) == \
        "model not loadable safely: TypeError: Could not locate class"
    assert statuses.over_memory(4 * 2**30) == "over the memory limit (4.0 GiB)"
    assert statuses.over_memory(1536 * 2**20) == "over the memory limit (1.5 GiB)"
    assert statuses.over_disk(200 * 2**20) == "over the disk limit (200 MiB)"
    assert statuses.over_processes(32) == "over the process limit (32)"


def test_a_status_is_a_kind_and_a_detail_shown_as_its_text_and_read_back_from_it():
    import copy
    import json

    made = [statuses.error_in_cell(3, "ValueError", "bad: very"), statuses.over_memory(3 * 2**29),
            statuses.detailed(statuses.NOT_LOADABLE, "TypeError: x"), statuses.kernel_died_in_cell(2),
            statuses.Status(statuses.PASSED)]
    assert made[0] == "error in cell 3: ValueError: bad: very" and made[1] == "over the memory limit (1.5 GiB)"
    assert [status.kind for status in made] == [statuses.ERROR_IN_CELL, statuses.OVER_MEMORY, statuses.NOT_LOADABLE,
                                                statuses.KERNEL_DIED, statuses.PASSED]
    assert made[2].detail == "TypeError: x" and made[1].detail == "1.5 GiB"
    for status in made:  # as a row file or another process gives it back: text
        again = statuses.Status.parse(json.loads(json.dumps(status)))
        assert again == status and again.kind == status.kind
        assert copy.deepcopy(status).kind == status.kind
    assert statuses.Status.parse("excellent work").kind is None
    assert statuses.Status.parse("scored").kind is None  # the scorer's word is never a row's
