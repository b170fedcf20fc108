"""Tests of imdb_lab.backend: which Keras backend the lab picks, and the one-line errors when it can't."""

import json
import os
import subprocess
import sys

import pytest

from imdb_lab import backend
from imdb_lab.backend import BackendError, choose_backend, tensorflow_left_alone


@pytest.fixture
def installed(monkeypatch):
    """Pretend that only the given backends are installed; return a setter."""
    def pretend(*names):
        monkeypatch.setattr(backend, "installed_backends", lambda: [n for n in backend.BACKENDS if n in names])
    return pretend


@pytest.fixture
def fresh(monkeypatch):
    """No KERAS_BACKEND, and Keras not imported yet (as in a new kernel); both restored afterwards."""
    # setenv first, so that the variable choose_backend sets is undone even where it was unset before
    for name in ("KERAS_BACKEND", "TF_ENABLE_ONEDNN_OPTS"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.delitem(sys.modules, "keras")


def test_without_a_choice_the_first_installed_backend_is_chosen_and_set(fresh, installed):
    installed("jax", "torch")
    assert choose_backend() == "jax"
    assert os.environ["KERAS_BACKEND"] == "jax"


def test_tensorflow_comes_first_when_installed(fresh, installed):
    installed("torch", "tensorflow", "jax")
    assert choose_backend() == "tensorflow"


def test_tensorflow_keeps_its_onednn_kernels_only_where_memory_is_not_asked_for(fresh, installed, monkeypatch):
    installed("tensorflow")
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)  # as in a new process, where it is not imported
    assert choose_backend(low_memory=False) == "tensorflow"
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ  # the command line: TensorFlow's default, oneDNN on
    assert choose_backend() == "tensorflow"
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"  # a notebook kernel: the buffers of fit handed back


def test_keras_json_is_followed_only_when_its_backend_is_installed(fresh, installed, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    installed("jax", "torch")
    assert choose_backend() == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    # Keras writes "tensorflow" there on its first import: not a reason to fail without TensorFlow
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    assert choose_backend() == "jax"


def test_keras_backend_variable_wins(fresh, installed, monkeypatch):
    installed("tensorflow", "jax")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert choose_backend() == "jax"


def test_an_unknown_backend_is_one_line_naming_the_installed_ones(fresh, installed, monkeypatch):
    installed("jax")
    monkeypatch.setenv("KERAS_BACKEND", "nonsense")
    with pytest.raises(BackendError, match=r"KERAS_BACKEND=nonsense is not a Keras backend .*installed: jax; "
                                           r"set KERAS_BACKEND to one of them \(e.g. KERAS_BACKEND=jax\)") as error:
        choose_backend()
    assert "\n" not in str(error.value)


def test_a_backend_that_is_not_installed_says_how_to_install_it(fresh, installed, monkeypatch):
    installed("torch")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(BackendError, match=r"tensorflow is not installed \(pip install tensorflow\); installed: torch"):
        choose_backend()


def test_no_backend_at_all_says_what_to_install(fresh, installed):
    installed()
    with pytest.raises(BackendError, match=r"no Keras backend is installed: install one, e\.g\. `pip install -r"):
        choose_backend()


def test_once_keras_runs_another_backend_a_restart_is_asked_for(monkeypatch):
    import keras

    running = keras.backend.backend()
    others = [name for name in backend.installed_backends() if name != running]
    monkeypatch.setenv("KERAS_BACKEND", running)
    assert choose_backend() == running
    monkeypatch.delenv("KERAS_BACKEND")
    assert choose_backend() == running  # no choice made: the one Keras runs
    if not others:
        pytest.skip("only one backend installed")
    monkeypatch.setenv("KERAS_BACKEND", others[0])
    with pytest.raises(BackendError, match=f"Keras was imported already and runs on {running}, not {others[0]}"):
        choose_backend()


def test_the_installed_backends_are_what_python_can_import():
    import importlib.util

    assert backend.installed_backends() == [name for name, module in backend.BACKENDS.items()
                                            if importlib.util.find_spec(module) is not None]


@pytest.mark.slow
def test_the_cli_reports_a_bad_backend_in_one_line():
    result = subprocess.run([sys.executable, "-m", "imdb_lab", "train", "--epochs", "1"], capture_output=True,
                            text=True, env={**os.environ, "KERAS_BACKEND": "nonsense"})
    assert result.returncode == 2
    assert result.stderr.startswith("imdb-lab train: error: KERAS_BACKEND=nonsense is not a Keras backend")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


class _LazyTensorFlow:
    """Keras's lazy ``tensorflow`` module as far as the lab touches it: ``_available`` is None until asked."""

    _available = None


@pytest.fixture
def keras_on(monkeypatch):
    """Return a setter of a stand-in Keras running on a given backend, with its lazy TensorFlow, TF not imported."""
    import types

    lazy = _LazyTensorFlow()
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setitem(sys.modules, "keras.src.utils.module_utils", types.SimpleNamespace(tensorflow=lazy))

    def on(name):
        keras = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: name))
        monkeypatch.setitem(sys.modules, "keras", keras)
        return lazy

    return on


def test_tensorflow_is_left_alone_in_the_block_only_on_another_backend(keras_on):
    lazy = keras_on("jax")
    with tensorflow_left_alone():
        assert lazy._available is False  # what Keras reads instead of importing TensorFlow
    assert lazy._available is None  # asked afterwards (tf.data on JAX), Keras imports it as ever
    with pytest.raises(RuntimeError), tensorflow_left_alone():
        raise RuntimeError("the block failed")
    assert lazy._available is None


@pytest.mark.parametrize("state", ["runs on tensorflow", "tensorflow imported", "answered before"])
def test_tensorflow_is_not_hidden_where_it_is_needed_or_known(keras_on, monkeypatch, state):
    lazy = keras_on("tensorflow" if state == "runs on tensorflow" else "torch")
    if state == "tensorflow imported":
        monkeypatch.setitem(sys.modules, "tensorflow", object())
    if state == "answered before":
        lazy._available = True
    before = lazy._available
    with tensorflow_left_alone():
        assert lazy._available is before
    assert lazy._available is before


def test_nothing_changes_before_keras_is_imported(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.delitem(sys.modules, "keras.src.utils.module_utils", raising=False)
    with tensorflow_left_alone():
        assert "keras" not in sys.modules
