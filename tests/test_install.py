"""The install: pyproject's dependencies bring no backend, requirements.txt picks one, and installing the lab on
Google Colab changes none of the runtime's packages (.ci/check_wheels.py's --host check).

The Colab check asks the package registry (pip's resolver, installing nothing) and
reads Colab's ``pip freeze`` from ``$IMDB_LAB_HOSTS/colab-pip-freeze.txt``
(``.ci/run`` sets it to ``../shared/hosts``); it is skipped without them.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check_wheels():
    """Return .ci/check_wheels.py as a module."""
    if sys.version_info < (3, 11):
        pytest.skip("check_wheels.py reads pyproject.toml with tomllib (Python 3.11+)")
    spec = importlib.util.spec_from_file_location("check_wheels", ROOT / ".ci" / "check_wheels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_alone_brings_no_backend_and_requirements_pick_one(check_wheels):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {check_wheels.normalized(check_wheels.Requirement(r).name) for r in project["dependencies"]}
    assert not names & {"tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch"}
    for machine in check_wheels.MACHINES:  # every learner machine gets exactly one backend from requirements.txt
        wanted = check_wheels.requirements_for(check_wheels.project_requirements(), machine["environment"])
        backends = [r for r in wanted if check_wheels.Requirement(r).name in check_wheels.BACKENDS]
        assert len(backends) == 1, (machine["name"], wanted)


def test_freeze_pins_and_host_changes(check_wheels, tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("# a runtime, Python 3.13.15\nKeras==3.13.2\njupyter_client==7.4.9\ngoogle-colab\n"
                      "torch==2.11.0+cpu\n")
    pins = check_wheels.freeze_pins(freeze)
    assert pins == {"keras": "3.13.2", "jupyter-client": "7.4.9", "torch": "2.11.0+cpu"}
    assert check_wheels.host_python(freeze) == "3.13"
    # what a wrong dependency floor would do there: jupyter_client upgraded, and a backend added
    wanted = {"keras": "3.13.2", "jupyter-client": "8.6.3", "tensorflow-cpu": "2.21.0", "jedi": "0.19.2"}
    changed, added = check_wheels.host_changes(wanted, pins)
    assert changed == [("jupyter-client", "7.4.9", "8.6.3")]
    assert added == [("jedi", "0.19.2"), ("tensorflow-cpu", "2.21.0")]
    assert check_wheels.host_changes({"keras": "3.13.2"}, pins) == ([], [])


@pytest.mark.slow
def test_installing_the_lab_on_colab_changes_none_of_its_packages(check_wheels):
    hosts = os.environ.get("IMDB_LAB_HOSTS")
    if not hosts or not (Path(hosts) / "colab-pip-freeze.txt").is_file():
        pytest.skip("set IMDB_LAB_HOSTS to the folder of colab-pip-freeze.txt (.ci/run sets it)")
    pip = [sys.executable, "-m", "pip"]
    if not check_wheels.registry_reachable(pip):
        pytest.skip("the package registry cannot be reached (pip's resolver asks it)")
    ok, message = check_wheels.resolve_on_host(Path(hosts) / "colab-pip-freeze.txt", pip)
    assert ok, message
