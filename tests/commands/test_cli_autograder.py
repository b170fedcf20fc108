"""Tests of ``imdb-lab autograder``: the zip, and a run of it in a folder laid out as Gradescope lays it out."""

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest

from conftest import GRADER_NOTEBOOKS, assert_gradescope_format
from imdb_lab.cli import main
from imdb_lab.commands import autograder


def test_the_zip_holds_setup_run_autograder_the_lab_and_its_settings(tmp_path, tiny_archive):
    (tmp_path / "rubric.toml").write_text("[points]\naccuracy = 4\n")
    assert main(["autograder", str(tmp_path / "autograder.zip"), "--data", str(tiny_archive),
                 "--rubric", str(tmp_path / "rubric.toml"), "--backend", "jax", "--timeout", "300"]) == 0
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        names = archive.namelist()
        # Gradescope wants both scripts at the root of the zip, executable
        for name in ("setup.sh", "run_autograder"):
            assert name in names and stat.S_IMODE(archive.getinfo(name).external_attr >> 16) == 0o755
        assert {"imdb-lab/pyproject.toml", "imdb-lab/imdb_lab/__init__.py", "imdb-lab/imdb_lab/grader/scorer.py",
                "rubric.toml", f"data/{tiny_archive.name}", "settings.json"} <= set(names)
        assert not [name for name in names if "__pycache__" in name]
        settings = json.loads(archive.read("settings.json"))
        requirements = archive.read("requirements.txt").decode()
        scripts = {name: archive.read(name) for name in ("setup.sh", "run_autograder")}
    assert settings["data"] == tiny_archive.name and settings["rubric"] is True
    assert settings["options"][:2] == ["--timeout", "300"]
    assert requirements == "${AUTOGRADER}/source/imdb-lab[jax]\n"  # pip reads ${AUTOGRADER} from setup.sh
    # the scripts are shipped as they are, and call the package's own module
    for name, content in scripts.items():
        assert content == (autograder.SCRIPTS / name).read_bytes()
        assert b"-m imdb_lab.commands.on_gradescope" in content
    assert b"bubblewrap" in scripts["setup.sh"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # written atomically


def test_without_data_the_zip_installs_tensorflow_and_fetches_nothing_itself(tmp_path):
    autograder.write_autograder(tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.read("requirements.txt").decode().endswith("[tensorflow]\n")
        assert json.loads(archive.read("settings.json"))["data"] is None
        assert not [name for name in archive.namelist() if name.startswith("data/")]


@pytest.mark.parametrize("args, message", [
    (["--data", "nowhere.tar.gz"], "no such data archive: nowhere.tar.gz"),
    (["--rubric", "nowhere.toml"], "cannot read the rubric"),
])
def test_bad_inputs_stop_before_a_zip_is_written(tmp_path, capsys, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["autograder", "out.zip", *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_outside_a_clone_of_the_repository_it_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(autograder, "PACKAGE_FILES", ("no-such-file.toml",))
    with pytest.raises(Exception, match="run imdb-lab autograder from a clone of the lab's repository"):
        autograder.write_autograder(tmp_path / "a.zip")


def install_autograder(tmp_path, small_archive, **env):
    """Write the autograder's zip, unpack it as Gradescope does and run its setup.sh; return ``(root, env)``."""
    zip_path = tmp_path / "autograder.zip"
    autograder.write_autograder(zip_path, data=small_archive,
                                options=["--timeout", "120", "--memory", "2G", "--target", "0.8"])
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # zipfile does not restore modes; Gradescope does
        (root / "source" / name).chmod(0o755)
    # the setup's steps but apt and downloads (offline): the new venv sees this one's packages; the grader's
    # caches in a folder of its own (root's home on Gradescope)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    here = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "AUTOGRADER": str(root), "IMDB_LAB_SKIP_APT": "1", "PYTHONPATH": here,
           "IMDB_LAB_PIP_OPTIONS": "--no-deps --no-build-isolation --no-index", "KERAS_HOME": str(private / "keras"),
           "IMDB_LAB_CACHE": str(private / "cache"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           **env}
    env.pop("IMDB_LAB_DATA", None)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=600, check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does, mode included
    return root, env


def run_submission(root, env, notebook, *extra):
    """Hand in ``notebook`` (a fixture) with ``extra`` files, run ``run_autograder``; return its results.json."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    shutil.copy(GRADER_NOTEBOOKS / notebook, root / "submission" / notebook)
    for name, content in extra:
        (root / "submission" / name).write_text(content)
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_format(results)
    return results


@pytest.fixture(scope="module")
def installed(tmp_path_factory, small_archive):
    """The autograder installed once, as Gradescope lays it out: ``(root, env)``. Its folder and those above it are
    searchable by every account (as Gradescope's /autograder is) while this module's tests run."""
    folder = tmp_path_factory.mktemp("gradescope")
    system_tmp = Path(tempfile.gettempdir())
    folders = [folder, *(parent for parent in folder.parents if parent.is_relative_to(system_tmp)
                         and parent != system_tmp)]
    modes = {path: stat.S_IMODE(os.stat(path).st_mode) for path in folders}
    for path, mode in modes.items():
        path.chmod(mode | 0o111)
    try:
        yield install_autograder(folder, small_archive)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@pytest.mark.slow
def test_the_autograder_runs_in_gradescopes_layout_on_an_honest_and_a_failing_submission(installed):
    root, env = installed
    for notebook, points in (("full_marks.ipynb", 10.0), ("below_target.ipynb", 0.0)):
        results = run_submission(root, env, notebook)
        assert results["score"] == points, results
        assert len(results["tests"]) == 5
    # writes a full score where Gradescope reads it, then kills every process it can see: in the sandbox, neither
    results = run_submission(root, env, "forges_gradescope_results.ipynb",
                             ("hints.json", json.dumps({"results": str(root / "results" / "results.json")})))
    assert results["score"] == 0.0, results
    # a submission without a notebook: a result that says so, not a crash
    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    (root / "submission" / "notes.txt").write_text("forgot the notebook")
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_format(results)
    assert results["score"] == 0.0 and "No notebook (.ipynb)" in results["output"]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not sys.platform.startswith("linux"),
                    reason="a container's grader runs as root on Linux: the setup makes the notebooks' account")
def test_in_a_container_without_user_namespaces_notebooks_run_as_their_own_account(installed):
    # bubblewrap installed but unable to make its namespaces, as in Gradescope's containers
    root, env = installed
    fake = root.parent / "no-namespaces" / "bwrap"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {**env, "PATH": f"{fake.parent}:{env['PATH']}"}
    reason = subprocess.run([str(root / "venv" / "bin" / "python"), "-c", "from imdb_lab.grader import sandbox; "
                             "print(sandbox.unavailable(), '|', sandbox.user_unavailable())"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert reason.startswith("bubblewrap cannot make its namespaces here"), reason
    if "cannot reach" in reason:  # a Python in a private folder (pyenv's in root's home): .ci/run opens it
        pytest.skip(reason.split("| ")[1])
    assert reason.strip().endswith("| None"), reason
    results = run_submission(root, env, "full_marks.ipynb")
    assert results["score"] == 10.0 and not [test for test in results["tests"] if test["visibility"] == "hidden"]
    # writes a full score where Gradescope reads it, then kills every process it can signal: the grader is root's
    results = run_submission(root, env, "forges_gradescope_results.ipynb",
                             ("hints.json", json.dumps({"results": str(root / "results" / "results.json")})))
    assert results["score"] == 0.0, results
    assert results["output"] == "Your notebook was not scored: the notebook killed the process running it."
    assert subprocess.run(["pgrep", "-u", "imdb-lab-notebook"], capture_output=True, check=False).stdout == b""
