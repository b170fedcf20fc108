"""The browser suite's fixtures: a Jupyter server on a copy of the notebooks, and headless Chromium driving it.

The suite runs where Playwright's Python package and a Chromium are installed
(``.ci/run`` installs the distribution's ``chromium`` and Playwright, and uses
that browser: nothing is downloaded), with the real archive (``IMDB_LAB_DATA``);
elsewhere it is skipped with the reason. Each test's screenshots go to
``$IMDB_LAB_SCREENSHOTS`` (``.ci/run``: ``.ci/screenshots/``), else to its
temporary folder.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("IMDB_in_Keras.ipynb", "IMDB_in_Keras_solutions.ipynb")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# as the workplace's probe starts it: no sandbox as root, and no calls home (refused on a closed network)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# the front ends' settings for the tests: every cell in the page, not only those in view (both front ends); no
# news pop-up (JupyterLab's only: Notebook 7 stops with a JavaScript error on settings of a plugin it lacks)
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": ({"windowingMode": "none"}, ("lab", "notebook")),
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        {"fetchNews": "false", "checkForUpdates": False}, ("lab",)),
}
SERVER_START_TIMEOUT = 60


def chromium_executable():
    """Return the Chromium to drive (``$IMDB_LAB_CHROMIUM``, else one on PATH), or None."""
    named = os.environ.get("IMDB_LAB_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium driven by Playwright, for the session; or skip, saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser tests need Playwright's Python package: pip install playwright")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("the browser tests need a Chromium: apt-get install chromium (or set IMDB_LAB_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterServer:
    """A Jupyter server (``lab`` or ``notebook``) on loopback, serving a folder; ``api(path)`` reads its REST API."""

    def __init__(self, app, folder, env):
        self.app, self.folder = app, Path(folder)
        self.port, self.token = free_port(), os.urandom(16).hex()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.folder}",
                   "--ServerApp.open_browser=False"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI runs as root
        self.log = open(self.folder.parent / f"jupyter-{app}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                self.api("status")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter {app} did not start: see {self.log.name}") from None
                time.sleep(0.3)

    def url(self, path):
        """Return the address of ``path`` on the server, with the token."""
        return f"{self.base}/{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, path):
        """Return the JSON the server's REST API answers for ``api/<path>``."""
        with urllib.request.urlopen(self.url(f"api/{path}"), timeout=10) as response:
            return json.load(response)

    def stop(self):
        """Stop the server and every kernel it started (its whole process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture
def jupyter(real_archive, tmp_path, tmp_path_factory):
    """Return a starter of Jupyter servers (``jupyter("lab")``, ``jupyter("notebook")``) on a copy of the notebooks.

    The kernels read the real archive through a data cache shared by the session; every server is stopped after
    the test.
    """
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / name, folder / name)
    env = dict(os.environ, IMDB_LAB_DATA=str(real_archive),
               IMDB_LAB_CACHE=str(tmp_path_factory.getbasetemp() / "browser_data_cache"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    env.pop("MPLBACKEND", None)  # the notebook's plots inline, as a learner sees them
    servers = []

    def start(app="lab"):
        settings = tmp_path / f"{app}-settings"
        for name, (values, apps) in SETTINGS.items():
            if app in apps:
                (settings / name).parent.mkdir(parents=True, exist_ok=True)
                (settings / name).write_text(json.dumps(values))
        servers.append(JupyterServer(app, folder, dict(env, JUPYTERLAB_SETTINGS_DIR=str(settings))))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def screenshots(request, tmp_path):
    """Return the folder for this test's screenshots (``$IMDB_LAB_SCREENSHOTS/<test>``, else a temporary one)."""
    base = os.environ.get("IMDB_LAB_SCREENSHOTS")
    folder = Path(base) / request.node.name if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(chromium, screenshots):
    """A new browser page that records the JavaScript errors it logs (``page.js_errors``); a last screenshot after."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(f"uncaught: {error}"))
    # a resource that fails to load is logged without its address: judged below by its request instead
    page.on("console", lambda message: page.js_errors.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    # the server's own resources must load; the notebooks' badges (images on the web) cannot on a closed network
    page.on("requestfailed", lambda request: page.js_errors.append(f"failed to load {request.url}: {request.failure}")
            if urllib.parse.urlsplit(request.url).hostname in ("127.0.0.1", "localhost") else None)
    yield page
    page.screenshot(path=str(screenshots / "last.png"))
    context.close()
