"""The one progress bar of the package: a line on stderr for long work (encoding the archive, grading a class).

On a terminal the bar is redrawn in place, at most twice a second, under the
lines that report finished items; in a log (a pipe, a file) only those lines
and the final bar are written, so that a CI log holds no control characters.
"""

import sys
import threading
import time

BAR_WIDTH = 30
REDRAW_SECONDS = 0.5


def format_seconds(seconds):
    """Return ``seconds`` as ``12.3 s`` below a minute, else ``4m05s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def _count(number):
    return f"{number:.0f}" if isinstance(number, float) else str(number)


class ProgressBar:
    """``title [=====.....] done/total unit, note, elapsed``: call ``update`` as work is done, ``close`` at the end.

    Thread-safe: the grader's workers report from several threads.
    """

    def __init__(self, title, total, unit, *, stream=None):
        self.title, self.total, self.unit = title, total, unit
        self.done, self.note = 0, ""
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = self._shown = time.monotonic()
        self._lock = threading.Lock()
        self._drawn = False  # a bar is on the terminal's last line, to be replaced

    def bar(self):
        """Return the bar as text."""
        filled = min(BAR_WIDTH, int(BAR_WIDTH * self.done / self.total)) if self.total else BAR_WIDTH
        note = f", {self.note}" if self.note else ""
        text = (f"[{'=' * filled}{'.' * (BAR_WIDTH - filled)}] {_count(self.done)}/{_count(self.total)} {self.unit}"
                f"{note}, {format_seconds(time.monotonic() - self.started)}")
        return f"{self.title} {text}" if self.title else text

    def update(self, done, *, note=None, line=None):
        """Record ``done`` units (and a ``note`` for the bar); print ``line`` above the bar for good if given."""
        with self._lock:
            self.done = done
            if note is not None:
                self.note = note
            now = time.monotonic()
            if line is not None:
                self._write(f"\r\033[K{line}\n" if self.tty else f"{line}\n")
                self._drawn = False
            if self.tty and (line is not None or now - self._shown >= REDRAW_SECONDS):
                self._shown = now
                self._write(f"\r\033[K{self.bar()}")
                self._drawn = True

    def close(self, *, complete=True):
        """Draw the final bar (full, unless ``complete`` is False: work that stopped early) and end its line."""
        with self._lock:
            if complete:
                self.done = self.total
            self._write(f"\r\033[K{self.bar()}\n" if self.tty else f"{self.bar()}\n")
            self._drawn = False

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()
