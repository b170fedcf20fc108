"""imdb-lab: helpers for a Keras 3 lab that classifies IMDB movie reviews.

Importing the package is cheap: each public name is loaded from its module
the first time it is used, so ``import imdb_lab`` does not import TensorFlow.
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "choose_backend": "backend",
    "check": None,  # the answer checks: a module, imdb_lab.check
    "load_data": "data",
    "get_word_index": "sources",
    "load_flat": "data",
    "FlatReviews": "reviews",
    "tokenize": "text",
    "decode_review": "text",
    "encode_review": "text",
    "multi_hot_encode": "encoding",
    "MultiHotSequence": "feeds",
    "build_model": "model",
    "set_seed": "training",
    "train": "training",
    "split_validation": "reviews",
    "save_trained_model": "saving",
    "load_trained_model": "saving",
    "plot_history": "plotting",
    "predict_proba": "predicting",
    "positive_probability": "outputs",
    "grade_notebook": "grading",
    "grade_notebooks": "grading",
    "ngram_vocabulary": "ngram_features",
    "bigram_vocabulary": "ngram_features",
    "ngram_features": "ngram_features",
    "NgramVocabulary": "ngram_features",
    "build_ngram_model": "ngram_model",
    "train_ngram_model": "ngram_model",
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
