"""The tokenizer rule behind Keras's IMDB data: lower case, punctuation to spaces, split on white space."""

import re

from imdb_lab.errors import LabTypeError

# The classic keras.preprocessing.text.Tokenizer's default filters (removed in
# Keras 3): each becomes a space, so "<br />" is the word "br", as in Keras's data.
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATION = str.maketrans({char: " " for char in FILTERS})


def tokenize(text):
    """Split ``text`` into lower-case words with the classic Keras ``Tokenizer`` rule."""
    if not isinstance(text, str):
        raise LabTypeError(f"text must be a str, not {type(text).__name__}")
    # str.split() splits on any white space (also \r and non-breaking spaces);
    # that gives the 88,075 train words of the shared archive.
    return text.lower().translate(_TRANSLATION).split()


def word_spans(text):
    """Return ``(word, start, end)`` for each word of ``tokenize(text)``, with where it stands: ``text[start:end]``.

    Lower-casing keeps each character in its place, and punctuation becomes a
    space, so each word stands where it stood; where lower-casing changes the
    text's length (a few Unicode letters), ``start`` and ``end`` are None.
    """
    if not isinstance(text, str):
        raise LabTypeError(f"text must be a str, not {type(text).__name__}")
    lowered = text.lower()
    located = len(lowered) == len(text)
    # \S+ over str.isspace()'s white space: the words str.split() finds
    return [(match.group(), match.start() if located else None, match.end() if located else None)
            for match in re.finditer(r"[^\s]+", lowered.translate(_TRANSLATION))]
