"""Text <-> integer sequences: a review encoded as Keras's IMDB data encodes it, and decoded back to words."""

from imdb_lab.arguments import is_whole
from imdb_lab.data.reviews import INDEX_FROM, OOV_CHAR, START_CHAR, IndexConventions, valid_vocabulary
from imdb_lab.data.sources import get_word_index
from imdb_lab.data.tokenizer import FILTERS, tokenize  # noqa: F401 - part of this module's interface
from imdb_lab.errors import LabTypeError

PAD, START, OOV, UNKNOWN = "[PAD]", "[START]", "[OOV]", "[UNK]"


def encode_review(text, word_index, num_words=None, skip_top=0, start_char=START_CHAR, oov_char=OOV_CHAR,
                  index_from=INDEX_FROM):
    """Return the integer sequence a model trained on ``load_data`` sees for new ``text``.

    The conventions are those of ``load_data``: word ``w`` of rank ``r`` becomes
    ``r + index_from``; the review starts with ``start_char``; an index outside
    ``skip_top <= i < num_words`` becomes ``oov_char`` (dropped if it is None);
    words the word index has never seen are dropped, as Keras drops test words
    that never occur in the training reviews. ``num_words=None`` keeps every word.

    Args:
        text: the review.
        word_index: ``{word: rank}``, as ``get_word_index`` gives it.
        num_words, skip_top: the vocabulary the model was trained with (``load_data``'s).
        start_char, oov_char, index_from: the index conventions (``load_data``'s).
    """
    if not isinstance(word_index, dict):
        raise LabTypeError("word_index must be a dict word -> rank, e.g. imdb_lab.get_word_index()")
    num_words, skip_top = valid_vocabulary(num_words, skip_top)
    start_char, oov_char, index_from = IndexConventions(start_char, oov_char, index_from).validated()
    sequence = [] if start_char is None else [start_char]
    sequence += [word_index[word] + index_from for word in tokenize(text) if word in word_index]
    limit = float("inf") if num_words is None else num_words
    if oov_char is None:
        return [i for i in sequence if skip_top <= i < limit]
    return [i if skip_top <= i < limit else oov_char for i in sequence]


def decode_review(sequence, word_index=None, index_from=INDEX_FROM, start_char=START_CHAR, oov_char=OOV_CHAR,
                  pad_char=0):
    """Return ``sequence`` as text, with ``[START]``, ``[OOV]``, ``[PAD]`` (and ``[UNK]`` for unused indices).

    ``word_index`` defaults to ``imdb_lab.get_word_index()`` of the default data source.

    Args:
        sequence: the word indices.
        word_index: ``{word: rank}`` (default: ``get_word_index()``).
        index_from, start_char, oov_char: the index conventions the sequence was made with.
        pad_char: the padding index (``[PAD]``).
    """
    if word_index is None:
        word_index = get_word_index()
    if not isinstance(word_index, dict):
        raise LabTypeError("word_index must be a dict word -> rank, e.g. imdb_lab.get_word_index()")
    start_char, oov_char, index_from = IndexConventions(start_char, oov_char, index_from).validated()
    marks = {pad_char: PAD, start_char: START, oov_char: OOV}
    words = {rank + index_from: word for word, rank in word_index.items()}
    out = []
    for i in sequence:
        if not is_whole(i):
            raise LabTypeError(f"sequence must hold ints, found {i!r} ({type(i).__name__})")
        # below index_from only the marks mean something; above it, words do
        out.append(marks.get(i, UNKNOWN) if i < index_from else words.get(i, UNKNOWN))
    return " ".join(out)
