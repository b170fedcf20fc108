"""The notebooks as a learner sees them: JupyterLab and Jupyter Notebook 7 in headless Chromium, Run All and typing.

What the headless runs (nbval, nbclient) cannot see: that the checks' verdicts,
the plots, the coloured explanations and the live box render in the page, that
the page logs no JavaScript error, and that the kernel never dies.
"""

import json
import re
import time

import pytest

from imdb_lab.models.explaining import MIN_CONTRAST, contrast_ratio

playwright = pytest.importorskip("playwright.sync_api",
                                 reason="the browser tests need Playwright: pip install -e .[browser]")
PlaywrightTimeout = playwright.TimeoutError

pytestmark = pytest.mark.slow

RUN_ALL_TIMEOUT = 600
# JupyterLab's input prompt while a cell waits or runs
BUSY_PROMPT = "[*]"
# and once the cell has run
NUMBERED = re.compile(r"\[\d+\]:?")
class NotebookPage:
    """A notebook open in a Jupyter front end (JupyterLab or Notebook 7: they share their notebook's page)."""

    def __init__(self, page, server, path):
        self.page, self.server = page, server
        address = f"lab/tree/{path}" if server.app == "lab" else f"notebooks/{path}"
        page.goto(server.url(address))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self.path = path
        self.kernel_id = self.wait_for_kernel()
        # what the front end logs as it opens a notebook, before any cell runs, is its own: none in JupyterLab 4.6;
        # Notebook 7.6 logs "Cannot read properties of undefined (reading 'schema')" opening any notebook
        page.wait_for_timeout(2000)
        self.errors_on_open = list(page.js_errors)
        if self.errors_on_open:
            print(f"{server.app} logged as it opened {path}: {self.errors_on_open}")

    def kernel(self):
        """Return the server's record of this notebook's kernel (its id, its execution state), or None."""
        sessions = [session for session in self.server.api("sessions") if session["path"] == self.path]
        assert len(sessions) <= 1, f"one session of {self.path} expected: {sessions}"
        return sessions[0]["kernel"] if sessions else None

    def wait_for_kernel(self, timeout=120):
        """Wait until the notebook's kernel is idle; return its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernel = self.kernel()
            if kernel and kernel["execution_state"] == "idle":
                return kernel["id"]
            time.sleep(0.5)
        raise AssertionError(f"no idle kernel for {self.path} after {timeout} s: {self.server.api('sessions')}")

    def menu(self, *path):
        """Click through the menu bar: ``menu("Run", "Run All Cells")``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{path[0]}$")).first.click()
        for label in path[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).first.click()

    def code_cells(self):
        return self.page.locator(".jp-Notebook .jp-CodeCell")

    def prompts(self):
        return [text.strip() for text in self.page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
                .all_inner_texts()]

    def run_all(self, stops_at_an_error=False, timeout=RUN_ALL_TIMEOUT):
        """Clear every output, Run All, and wait until it is done; return the seconds it took.

        Done: every code cell ran (``stops_at_an_error``: no cell waits or runs any more, one has raised) and the
        kernel is idle, at two looks a second apart (between two cells the kernel is idle for a moment).
        """
        self.menu("Edit", "Clear Outputs of All Cells")
        started = time.monotonic()
        self.menu("Run", "Run All Cells")
        done_before = False
        while time.monotonic() - started < timeout:
            time.sleep(1)
            prompts = self.prompts()
            if stops_at_an_error:
                ran = BUSY_PROMPT not in prompts and self.page.locator(".jp-OutputArea", has_text="Traceback").count()
            else:
                ran = all(NUMBERED.fullmatch(prompt) for prompt in prompts)
            done = bool(ran) and self.kernel()["execution_state"] == "idle"
            if done and done_before:
                return time.monotonic() - started
            done_before = done
        raise AssertionError(f"Run All had not finished after {timeout} s: {self.prompts()}")

    def cell_with(self, source_start):
        """Return the first code cell one of whose lines starts with ``source_start``."""
        for index in range(self.code_cells().count()):
            cell = self.code_cells().nth(index)
            if any(line.lstrip().startswith(source_start) for line in self.source(cell).splitlines()):
                return cell
        raise AssertionError(f"no code cell has a line that starts with {source_start!r}")

    @staticmethod
    def source(cell):
        return cell.locator(".jp-InputArea-editor .cm-content").inner_text()

    @staticmethod
    def output_text(cell):
        return cell.locator(".jp-OutputArea").inner_text()

    def assert_kernel_alive(self):
        """The notebook's kernel is the one it started with, alive; no restart dialog was shown."""
        kernel = self.kernel()
        assert kernel["id"] == self.kernel_id and kernel["execution_state"] not in ("dead", "restarting"), kernel
        assert not self.page.locator(".jp-Dialog", has_text=re.compile("Restart|died", re.I)).count()


def saved_outputs(server, path):
    """Return the notebook's code cells as the server has them on disk: ``[(source, outputs), ...]``."""
    nb = json.loads((server.folder / path).read_text(encoding="utf-8"))
    return [("".join(cell["source"]), cell.get("outputs", [])) for cell in nb["cells"] if cell["cell_type"] == "code"]


def parse_rgb(css):
    """Return ``(r, g, b, alpha)`` of a computed CSS colour (``rgb(...)`` or ``rgba(...)``)."""
    values = [float(value) for value in re.findall(r"[\d.]+", css)]
    return (*values[:3], values[3] if len(values) > 3 else 1.0)


def word_contrasts(page, container):
    """Return ``[(word, contrast ratio), ...]`` for every word the explanations colour inside ``container``.

    From the computed styles: the span's text colour on its own background
    (over the page's white where that background is not opaque).
    """
    styles = container.locator("span[style*='background-color']").evaluate_all(
        "spans => spans.map(s => [s.textContent, getComputedStyle(s).color, getComputedStyle(s).backgroundColor])")
    contrasts = []
    for word, color, background in styles:
        *rgb, alpha = parse_rgb(background)
        over_white = tuple(255 - alpha * (255 - channel) for channel in rgb)
        contrasts.append((word, contrast_ratio(over_white, tuple(parse_rgb(color)[:3]))))
    return contrasts


def assert_no_js_errors(notebook, front_end_errors_allowed=False):
    """The page logged no JavaScript error once the notebook was open (``front_end_errors_allowed``: nor before)."""
    after = notebook.page.js_errors[len(notebook.errors_on_open):]
    assert not after, f"the page logged JavaScript errors: {after}"
    assert front_end_errors_allowed or not notebook.errors_on_open, (
        f"the page logged JavaScript errors as it opened the notebook: {notebook.errors_on_open}")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_the_solutions_notebook_runs_all_and_renders_as_a_learner_sees_it(jupyter, page, screenshots, app):
    server = jupyter(app)
    notebook = NotebookPage(page, server, "IMDB_in_Keras_solutions.ipynb")
    page.screenshot(path=str(screenshots / "opened.png"))
    seconds = notebook.run_all()
    print(f"{app}: Run All of the solutions notebook in {seconds:.0f} s")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    notebook.assert_kernel_alive()

    # none of the cells raised (as saved by the front end)
    errors = [(source.splitlines()[0], output.get("ename")) for source, outputs in
              saved_outputs(server, "IMDB_in_Keras_solutions.ipynb") for output in outputs
              if output.get("output_type") == "error"]
    assert not errors, f"cells raised: {errors}"

    # every check renders its verdict: Correct
    checks = [index for index in range(notebook.code_cells().count())
              if notebook.source(notebook.code_cells().nth(index)).lstrip().startswith("check.")]
    assert len(checks) >= 5
    for index in checks:
        cell = notebook.code_cells().nth(index)
        text = notebook.output_text(cell)
        assert text.lstrip().startswith("Correct"), f"{notebook.source(cell)} rendered:\n{text}"

    # the learning curves are images
    plot = notebook.cell_with("plot_history(")
    assert plot.locator(".jp-OutputArea-output img").count() >= 1, "plot_history rendered no image"
    plot.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "learning-curves.png"))

    # the live box renders (ipywidgets' front end is installed and loads)
    box = notebook.cell_with("explain_box(")
    try:
        box.locator("textarea").first.wait_for(timeout=20_000)
    except PlaywrightTimeout:
        raise AssertionError(f"the live box did not render in {app} (is jupyterlab_widgets installed?): its cell "
                             f"shows {notebook.output_text(box)!r}") from None
    if app == "notebook":
        assert_no_js_errors(notebook, front_end_errors_allowed=True)
        return

    # the explanations: words coloured with a legend that says what the colours mean, every word readable (WCAG AA)
    shown = notebook.cell_with("show_explanations(")
    shown.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "explanations.png"))
    legend = notebook.output_text(shown)
    assert "blue: pulls towards positive" in legend and "orange: pulls towards negative" in legend
    contrasts = word_contrasts(page, shown)
    assert len(contrasts) >= 20, f"only {len(contrasts)} coloured words"
    unreadable = [(word, round(ratio, 2)) for word, ratio in contrasts if ratio < MIN_CONTRAST]
    assert not unreadable, f"words below WCAG AA's {MIN_CONTRAST}:1 contrast: {unreadable}"

    # the live box: what is typed is explained within a second; HTML and Markdown typed into it are text
    box.scroll_into_view_if_needed()
    textarea = box.locator("textarea").first
    explanation = box.locator(".widget-html-content").last
    assert explanation.locator("span[title^='brilliant:']").count() == 0  # not in the box's first text
    textarea.fill("A moving film with a brilliant cast")
    started = time.monotonic()
    explanation.locator("span[title^='brilliant:']").wait_for(timeout=5_000)
    updated_in = time.monotonic() - started
    print(f"the live box explained the typed review in {updated_in:.2f} s")
    assert updated_in <= 1.0, f"the live box took {updated_in:.2f} s to explain what was typed"
    assert re.search(r"(positive|negative) \d\.\d\d", explanation.inner_text())
    assert all(ratio >= MIN_CONTRAST for _, ratio in word_contrasts(page, box))
    page.screenshot(path=str(screenshots / "live-box.png"))
    textarea.fill("<b>bold</b> **stars** <script>window.hacked = 1</script> awful")
    explanation.locator("span[title^='awful:']").wait_for(timeout=5_000)
    text = explanation.inner_text()
    assert "<b>bold</b>" in text and "**stars**" in text and "<script>" in text, text
    assert explanation.locator("b", has_text="bold").count() == 0 and not page.evaluate("window.hacked === 1")
    notebook.assert_kernel_alive()
    assert_no_js_errors(notebook)


def test_the_student_notebook_stops_at_its_first_todo_and_a_pasted_solution_passes(jupyter, page, screenshots):
    from imdb_lab import check

    server = jupyter("lab")
    notebook = NotebookPage(page, server, "IMDB_in_Keras.ipynb")
    notebook.run_all(stops_at_an_error=True)
    notebook.assert_kernel_alive()

    # the cells up to the first TODO ran; the first cell that calls its stub shows the TODO's NotImplementedError,
    # with the check between them saying "not attempted"; Run All stopped there
    todo = notebook.cell_with("def multi_hot(")
    outputs = [notebook.output_text(notebook.code_cells().nth(i)) for i in range(notebook.code_cells().count())]
    failed = next(i for i, text in enumerate(outputs) if "Traceback" in text)
    notebook.code_cells().nth(failed).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "first-todo.png"))
    assert "NotImplementedError" in outputs[failed] and "TODO: make a float32 array" in outputs[failed]
    assert notebook.output_text(notebook.cell_with("check.encoding(")).lstrip().startswith("Not attempted")
    prompts = notebook.prompts()
    assert all(NUMBERED.fullmatch(prompt) for prompt in prompts[:failed + 1]), prompts
    assert all(not re.search(r"\d", prompt) for prompt in prompts[failed + 1:]), prompts

    # the learner pastes what check.encoding.solution() prints over the whole TODO cell, runs it and the check
    assert "raise NotImplementedError" in notebook.source(todo)
    todo.locator(".jp-InputArea-editor .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(check.encoding.solution_code)
    page.keyboard.press("Shift+Enter")  # runs the cell, then selects the check below it
    page.keyboard.press("Shift+Enter")
    verdict = notebook.cell_with("check.encoding(")
    page.wait_for_function("cell => cell.querySelector('.jp-OutputArea').innerText.trim().length > 0",
                           arg=verdict.element_handle(), timeout=60_000)
    verdict.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "pasted-solution.png"))
    assert notebook.output_text(verdict).lstrip().startswith("Correct"), notebook.output_text(verdict)
    notebook.assert_kernel_alive()
    assert_no_js_errors(notebook)
