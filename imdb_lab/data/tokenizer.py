"""The tokenizer rule behind Keras's IMDB data: lower case, punctuation to spaces, split on white space."""

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
