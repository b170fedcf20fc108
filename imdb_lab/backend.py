"""Choose the Keras backend before Keras is imported: the one asked for, else one that is installed.

Keras 3 reads ``KERAS_BACKEND`` once, when it is first imported, and defaults to
TensorFlow: where TensorFlow is not installed (Python 3.14, or a JAX-only
install), a bare ``import keras`` fails. ``choose_backend()`` picks an installed
backend first, so the lab starts on any of them.
"""

import contextlib
import importlib.util
import json
import os
import sys
from pathlib import Path

from imdb_lab.errors import BackendError
from imdb_lab.memory import keep_tensorflow_from_hoarding, return_freed_memory

# Keras's name -> the module that must be importable for it, in the order we prefer them
BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
ENV_BACKEND = "KERAS_BACKEND"
_INSTALL = {"tensorflow": "pip install tensorflow", "jax": 'pip install "jax[cpu]"', "torch": "pip install torch"}


def keras_home():
    """Return Keras's home folder (``$KERAS_HOME`` or ``~/.keras``) without importing Keras."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def installed_backends():
    """Return the names of the Keras backends whose library is installed, in order of preference."""
    return [name for name, module in BACKENDS.items() if importlib.util.find_spec(module) is not None]


def _how_to_choose(installed):
    if not installed:
        return ("no Keras backend is installed: install one, e.g. `pip install -r requirements.txt`, "
                f"or {', '.join(_INSTALL.values())}")
    return (f"installed: {', '.join(installed)}; set {ENV_BACKEND} to one of them (e.g. {ENV_BACKEND}={installed[0]}) "
            f"or unset it to use {installed[0]}")


def _keras_json_backend():
    """Return the backend named in Keras's ``keras.json``, or None."""
    try:
        backend = json.loads((keras_home() / "keras.json").read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None


def choose_backend(*, low_memory=True):
    """Make sure Keras will run on an installed backend (the one asked for, else the first installed); return it.

    The backend asked for is ``$KERAS_BACKEND``; without it, the one in Keras's
    ``keras.json`` if it is installed, else the first installed of TensorFlow,
    JAX and PyTorch. Sets ``KERAS_BACKEND``, so call it before ``import keras``.
    Raises BackendError, with one line saying what to do, when the backend asked
    for is unknown or not installed, or when Keras already runs another one.
    Also has this process hand large freed buffers back to the system
    (``memory.return_freed_memory``), and with ``low_memory`` (the default: a
    notebook kernel that must fit a 1 GB JupyterHub) has TensorFlow run without
    its oneDNN kernels, which keep ``fit``'s buffers for the rest of the session
    (``memory.keep_tensorflow_from_hoarding``) but train about twice as fast on a
    CPU: the command line, whose processes end after one job, passes
    ``low_memory=False`` (README, "Measured choices").
    """
    installed = installed_backends()
    asked = os.environ.get(ENV_BACKEND, "").strip()
    if "keras" in sys.modules and not asked:
        return sys.modules["keras"].backend.backend()  # too late to choose: Keras chose already
    if asked:
        if asked not in BACKENDS:
            raise BackendError(f"{ENV_BACKEND}={asked} is not a Keras backend this lab supports "
                               f"({', '.join(BACKENDS)}); {_how_to_choose(installed)}")
        if asked not in installed:
            raise BackendError(f"{ENV_BACKEND}={asked} but {asked} is not installed ({_INSTALL[asked]}); "
                               f"{_how_to_choose(installed)}")
        name = asked
    elif not installed:
        raise BackendError(_how_to_choose(installed))
    else:
        # Keras writes keras.json with its default (tensorflow) on first import: a hint, not an order
        configured = _keras_json_backend()
        name = configured if configured in installed else installed[0]
    if "keras" in sys.modules:
        running = sys.modules["keras"].backend.backend()
        if running != name:
            raise BackendError(f"Keras was imported already and runs on {running}, not {name}: restart the kernel "
                               f"(or Python) and call imdb_lab.choose_backend() before `import keras`")
    os.environ[ENV_BACKEND] = name
    return_freed_memory()
    if name == "tensorflow" and low_memory:
        keep_tensorflow_from_hoarding()
    return name


@contextlib.contextmanager
def tensorflow_left_alone():
    """Within the block, Keras takes TensorFlow for not installed, unless Keras runs on it or it is imported already.

    Keras asks its lazy ``tensorflow`` module whether TensorFlow is
    ``available`` (in ``keras.utils.set_random_seed``, and when it serializes
    a compile configuration or saves a model), and asking imports it: 0.45 GB
    in a kernel that runs on JAX or PyTorch, a third of a 1 GB hub. A
    TensorFlow that is not imported holds nothing those calls need. The
    answer is put back after the block, so that a learner who imports
    TensorFlow later (``tf.data`` on JAX) still has it. Where Keras is not
    imported yet, or has no such module, nothing changes.
    """
    keras = sys.modules.get("keras")
    # Keras's lazy modules, imported with Keras itself (none before it: then nothing asks about TensorFlow yet)
    lazy = getattr(sys.modules.get("keras.src.utils.module_utils"), "tensorflow", None)
    if (keras is None or "tensorflow" in sys.modules or getattr(lazy, "_available", True) is not None
            or keras.backend.backend() == "tensorflow"):
        yield
        return
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = None
