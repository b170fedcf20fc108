"""Tests of imdb_lab.progress: the one progress bar, on a terminal and in a log."""

import io

from imdb_lab import progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_the_lines_and_the_final_bar_only():
    stream = io.StringIO()
    bar = progress.ProgressBar("Encoding a.tar.gz", 4.0, "MB", stream=stream)
    bar.update(1.5)
    bar.update(2, line="half way")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "half way"
    assert lines[1].startswith(f"Encoding a.tar.gz [{'=' * 30}] 4/4 MB, ") and lines[1].endswith(" s")
    assert len(lines) == 2 and "\r" not in stream.getvalue()


def test_a_terminal_gets_the_bar_redrawn_under_the_lines():
    stream = FakeTerminal()
    bar = progress.ProgressBar("", 8, "graded", stream=stream)
    bar.update(2, note="1 passed", line="[2/8] alice.ipynb: passed")
    text = stream.getvalue()
    assert text.startswith("\r\033[K[2/8] alice.ipynb: passed\n")
    assert text.endswith(f"\r\033[K[{'=' * 7}{'.' * 23}] 2/8 graded, 1 passed, 0.0 s")


def test_the_bar_never_overflows_and_an_empty_total_is_full():
    assert progress.ProgressBar("", 2, "x", stream=io.StringIO()).bar().startswith("[" + "." * 30 + "]")
    over = progress.ProgressBar("", 2, "x", stream=io.StringIO())
    over.done = 5
    assert over.bar().startswith("[" + "=" * 30 + "]")
    assert progress.ProgressBar("", 0, "x", stream=io.StringIO()).bar().startswith("[" + "=" * 30 + "]")


def test_format_seconds():
    assert progress.format_seconds(12.34) == "12.3 s"
    assert progress.format_seconds(125) == "2m05s"
