"""Where learners open the lab online: one public address for every link, Colab's install cell, Binder's image.

The repository's address is written once, in pyproject.toml's ``[project.urls]``;
the notebooks' badges and install cell and the README's links must all use it.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

from imdb_lab.student import SOLUTIONS_NAME, STUDENT_NAME

ROOT = Path(__file__).resolve().parents[1]
# every kind of link that names the lab's repository: (what it is, the pattern that captures owner/name)
LINKS = {
    "Colab badge": r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/main/" + re.escape(STUDENT_NAME),
    "Kaggle badge": r"kaggle\.com/kernels/welcome\?src=https://github\.com/([\w.-]+/[\w.-]+)/blob/main/"
                    + re.escape(STUDENT_NAME),
    "Binder badge": r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/main\?urlpath=lab/tree/" + re.escape(STUDENT_NAME),
    "pip install from git": r"git\+https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?[\"'\s@]",
}


def repository():
    """Return ``owner/name`` of pyproject.toml's Repository address."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^Repository = "https://github\.com/([\w.-]+/[\w.-]+)"$', text, re.MULTILINE)
    assert match, "pyproject.toml's [project.urls] must give Repository = \"https://github.com/OWNER/NAME\""
    return match.group(1)


def text_of(path):
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, needed", [
    (SOLUTIONS_NAME, list(LINKS)), (STUDENT_NAME, list(LINKS)), ("README.md", list(LINKS)),
])
def test_every_link_uses_the_one_repository_address(name, needed):
    text, ours = text_of(ROOT / name), repository()
    for kind, pattern in LINKS.items():
        found = re.findall(pattern, text)
        if kind in needed:
            assert found, f"{name} has no {kind}"
        wrong = sorted({owner_name for owner_name in found if owner_name != ours})
        assert not wrong, (f"{name}: the {kind} points at {wrong}, not {ours} (pyproject.toml's Repository): "
                           "change it there and here")


def install_cell():
    """Return the source of the notebook's first code cell, the one that installs the lab on Colab or Kaggle."""
    nb = nbformat.read(ROOT / STUDENT_NAME, as_version=4)
    cell = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert "pip" in cell.source and "git+https://github.com/" in cell.source, "the first code cell installs the lab"
    return cell.source


@pytest.mark.parametrize("hosted, installed, runs_pip", [
    ({}, False, False),  # a laptop or a hub: set up as the README says, never pip from a notebook
    ({"env": "KAGGLE_KERNEL_RUN_TYPE"}, False, True),
    ({"module": "google.colab"}, False, True),
    ({"module": "google.colab"}, True, False),  # installed already (a second run of the cell)
])
def test_the_install_cell_installs_only_on_colab_or_kaggle_and_only_once(monkeypatch, hosted, installed, runs_pip):
    import importlib.util
    import subprocess

    calls = []
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if "env" in hosted:
        monkeypatch.setenv(hosted["env"], "Interactive")
    if "module" in hosted:
        monkeypatch.setitem(sys.modules, hosted["module"], object())
    real_find_spec = importlib.util.find_spec
    def find_spec(name, *args):
        if name == "imdb_lab":
            return object() if installed else None
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)))
    exec(compile(install_cell(), "install cell", "exec"), {})
    if not runs_pip:
        assert calls == []
        return
    (command, kwargs), = calls
    assert command[:4] == [sys.executable, "-m", "pip", "install"] and kwargs == {"check": True}
    # the package alone: no extra, so no backend beside the runtime's own TensorFlow (tests/test_install.py)
    assert command[-1] == f"imdb-lab @ git+https://github.com/{repository()}"


def test_binder_builds_a_lab_image_ci_tests_without_test_tools():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.1[0-4]", runtime), runtime
    assert "python3" in (ROOT / ".ci" / "run").read_text() and runtime == "python-3.11", (
        "Binder's Python must be the one CI tests the lab on (a fresh CI machine has Python 3.11)")
    lines = [line.split("#")[0].strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines == ["-e .[jax]"], "the lab and one backend; nothing for the tests (pytest, nbval)"


def dockerfile_instructions(path):
    """Return ``[(INSTRUCTION, arguments), ...]`` of a Dockerfile, comments dropped, continued lines joined."""
    instructions, parts = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not parts and (not line.strip() or line.lstrip().startswith("#")):
            continue
        continued = line.rstrip().endswith("\\")
        parts.append(line.strip().removesuffix("\\").strip())
        if not continued:
            keyword, _, arguments = " ".join(parts).partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            parts = []
    assert not parts, f"{path.name} ends in a continued line"
    return instructions


def test_the_hub_image_holds_one_small_backend_the_lab_nbgitpuller_and_the_data_outside_home():
    instructions = dockerfile_instructions(ROOT / "hub" / "Dockerfile")
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("quay.io/jupyter/"), instructions[0]
    args = dict(value.split("=", 1) for keyword, value in instructions if keyword == "ARG" and "=" in value)
    env = dict(pair.split("=", 1) for keyword, value in instructions if keyword == "ENV" for pair in value.split())
    runs = " && ".join(value for keyword, value in instructions if keyword == "RUN")
    # one backend, of the two whose kernels fit a 1 GB hub; PyTorch from its CPU index; Keras told which
    assert args["BACKEND"] in ("jax", "torch") and env["KERAS_BACKEND"] == "${BACKEND}"
    assert f'"imdb-lab[${{BACKEND}}] @ git+https://github.com/{repository()}@${{LAB_REF}}"' in runs
    assert "torch) index=\"--extra-index-url https://download.pytorch.org/whl/cpu\"" in runs
    installed = runs.split("pip install")[1].split("nbgitpuller")[0]
    assert not re.search(r"\b(tensorflow|jupyterlab|notebook)\b", installed), (
        "the image installs no second backend, and keeps the base image's Jupyter")
    assert re.search(r"pip install [^&]*\bnbgitpuller\b", runs), "the README's pull link needs nbgitpuller in the image"
    # the data and its cache outside the home folders a hub mounts over, named where the lab looks, built at once
    for name in ("IMDB_LAB_DATA", "IMDB_LAB_CACHE"):
        assert env[name].startswith("/opt/imdb-lab/") and not env[name].startswith("/home"), (name, env[name])
    # aclImdb_v1.tar.gz's published SHA-256, and the two spaces sha256sum --check needs before the file name
    assert ('"${IMDB_LAB_DATA}" && echo "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe  '
            '${IMDB_LAB_DATA}" | sha256sum --check') in runs
    assert "imdb-lab prepare" in runs and "chmod -R a+rX /opt/imdb-lab" in runs
    # the learner's kernel does not run as root
    users = [value for keyword, value in instructions if keyword == "USER"]
    assert users and users[-1] == "${NB_UID}", users
