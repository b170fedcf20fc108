"""Tests of imdb_lab/data/text.py: the tokenizer rule and the encode/decode helpers."""

import pytest

from imdb_lab.data.text import decode_review, encode_review, tokenize

WORD_INDEX = {"the": 1, "movie": 2, "was": 3, "great": 4, "br": 5, "don't": 6}


# Keras 2's keras.preprocessing.text.text_to_word_sequence default, written out here (not imported from the package)
KERAS2_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def naive_tokenize(text):
    """Reference: the classic keras Tokenizer's text_to_word_sequence, one character at a time."""
    text = text.lower()
    for char in KERAS2_FILTERS:
        text = text.replace(char, " ")
    return [word for word in text.split() if word]


@pytest.mark.parametrize("text", [
    "The movie was GREAT!<br /><br />Really.",
    "don't stop--me\tnow\nplease (ok)?",
    "  spaces\r\nand\u00a0nbsp  ",
    "",
    "C'est l'été: très bien… 10/10",
])
def test_tokenize_matches_the_classic_keras_rule(text):
    assert tokenize(text) == naive_tokenize(text)


def test_tokenize_keeps_apostrophes_and_makes_br_a_word():
    assert tokenize("It's great<br />") == ["it's", "great", "br"]


def test_tokenize_rejects_non_text():
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(b"bytes")


def test_encode_review_uses_load_data_conventions():
    # ranks shifted by index_from, start mark in front, unknown words dropped
    assert encode_review("The movie was great, wow!", WORD_INDEX) == [1, 4, 5, 6, 7]
    assert encode_review("the movie", WORD_INDEX, index_from=0, start_char=None) == [1, 2]


def test_encode_review_applies_num_words_and_skip_top_to_the_shifted_index():
    # "great" is rank 4 -> index 7, outside num_words=7; the start mark 1 is below skip_top=2
    assert encode_review("the great movie", WORD_INDEX, num_words=7, skip_top=2) == [2, 4, 2, 5]
    assert encode_review("the great movie", WORD_INDEX, num_words=7, skip_top=2, oov_char=None) == [4, 5]


def test_encode_review_rejects_bad_arguments():
    with pytest.raises(TypeError, match="word_index"):
        encode_review("text", ["the"])
    with pytest.raises(ValueError, match="num_words"):
        encode_review("text", WORD_INDEX, num_words=0)
    with pytest.raises(TypeError, match="skip_top"):
        encode_review("text", WORD_INDEX, skip_top=1.5)


def test_decode_review_marks_start_oov_pad_and_unknown():
    assert decode_review([1, 4, 5, 2, 0, 99], WORD_INDEX) == "[START] the movie [OOV] [PAD] [UNK]"


def test_decode_inverts_encode():
    sequence = encode_review("The movie was great", WORD_INDEX)
    assert decode_review(sequence, WORD_INDEX) == "[START] the movie was great"


def test_decode_review_rejects_non_integers():
    with pytest.raises(TypeError, match="ints"):
        decode_review([1, "the"], WORD_INDEX)


def test_word_spans_are_the_tokenizers_words_where_they_stand():
    import random

    from imdb_lab.data.tokenizer import word_spans

    rng = random.Random(0)
    alphabet = list("abcAB é,.!<>/()'\t\n\r\x1c\u00a0\u2028\u3000") + ["İ"]  # "İ".lower() is two characters long
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        spans = word_spans(text)
        assert [word for word, _, _ in spans] == tokenize(text), text
        located = len(text.lower()) == len(text)
        for word, start, end in spans:
            assert (text[start:end].lower() == word) if located else (start is None and end is None)
    assert word_spans("The GREAT plot, (awful)!") == [("the", 0, 3), ("great", 4, 9), ("plot", 10, 14),
                                                      ("awful", 17, 22)]
