"""imdb-lab: helpers for a Keras 3 lab that classifies IMDB movie reviews.

The layers, each a subpackage that imports only the ones before it:
``data`` (the reviews) -> ``features`` (what a model reads) -> ``models``
(build, train, evaluate, save, predict) -> ``check`` (the notebook's answer
checks) -> ``grader`` (grading notebooks), over a thin base (``errors``,
``arguments``, ``files``, ``progress``, ``backend``); ``cli`` and ``commands``
make the ``imdb-lab`` command. Importing the package is cheap: each public
name is loaded from its module the first time it is used, so ``import
imdb_lab`` does not import Keras.
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (None: a subpackage of that name)
_EXPORTS = {
    "choose_backend": "backend",
    "check": None,  # the answer checks: imdb_lab.check
    "load_data": "data.loading",
    "load_flat": "data.loading",
    "get_word_index": "data.sources",
    "FlatReviews": "data.reviews",
    "split_validation": "data.reviews",
    "tokenize": "data.text",
    "decode_review": "data.text",
    "encode_review": "data.text",
    "multi_hot_encode": "features.multi_hot",
    "MultiHotSequence": "features.feeds",
    "ngram_vocabulary": "features.ngrams",
    "bigram_vocabulary": "features.ngrams",
    "ngram_features": "features.ngrams",
    "NgramVocabulary": "features.ngrams",
    "build_model": "models.dense",
    "set_seed": "models.training",
    "train": "models.training",
    "save_trained_model": "models.saving",
    "load_trained_model": "models.saving",
    "plot_history": "models.plotting",
    "predict_proba": "models.predicting",
    "explain": "models.explaining",
    "show_explanations": "models.explaining",
    "explain_box": "models.explaining",
    "positive_probability": "models.outputs",
    "build_ngram_model": "models.ngram",
    "train_ngram_model": "models.ngram",
    "grade_notebook": "grader.grading",
    "grade_notebooks": "grader.grading",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    """Import the module that defines ``name`` on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'imdb_lab' has no attribute {name!r}")
    module = _EXPORTS[name]
    if module is None:  # a submodule
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    """List the public names next to the module's own."""
    return sorted(set(globals()) | set(_EXPORTS))
