"""Tests of imdb_lab.models.explaining: each word's contribution, against a NumPy forward pass one review at a time."""

import sys

import numpy as np
import pytest

from imdb_lab.models import explaining
from imdb_lab.models.explaining import KNOWN, OUT_OF_VOCABULARY, UNKNOWN, explain

# ranks: "the" 1 (index 4), "great" 2 (5), "awful" 3 (6), "plot" 4 (7), "rare" 20 (23)
WORD_INDEX = {"the": 1, "great": 2, "awful": 3, "plot": 4, "rare": 20}
NUM_WORDS = 10


def single_dense(units, activation, seed=0):
    """Return an uncompiled Dense model of NUM_WORDS inputs with random weights, and those weights."""
    import keras

    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(NUM_WORDS, units)).astype("float32")
    bias = rng.normal(size=units).astype("float32")
    model = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(units, activation=activation)])
    model.set_weights([kernel, bias])
    return model, kernel, bias


def reference_probability(indices, kernel, bias, units, activation):
    """P(positive) of one review (a set of indices), by a NumPy forward pass of the Dense layer."""
    x = np.zeros(NUM_WORDS)
    x[list(indices)] = 1
    z = x @ kernel.astype(np.float64) + bias
    if units == 1:
        return 1 / (1 + np.exp(-z[0]))  # a sigmoid, or a logit read through one
    e = np.exp(z - z.max())
    return (e / e.sum())[1]  # a softmax, or two logits read through one


@pytest.mark.parametrize("units, activation", [(1, "sigmoid"), (1, None), (2, "softmax"), (2, None)])
def test_contributions_match_switching_each_word_off_one_review_at_a_time(units, activation):
    model, kernel, bias = single_dense(units, activation)
    text = "The GREAT plot, the awful plot... rare zzyzx!"
    result = explain(model, text, WORD_INDEX, NUM_WORDS)
    review = {1, 4, 5, 6, 7, 2}  # [START], the, great, awful, plot, and [OOV] for "rare"
    probability = reference_probability(review, kernel, bias, units, activation)
    assert result.probability == pytest.approx(probability, abs=1e-5)
    for word in result.words:
        if word.status == KNOWN:
            without = reference_probability(review - {word.index}, kernel, bias, units, activation)
            assert word.contribution == pytest.approx(probability - without, abs=1e-5), word
    # every occurrence of a word has the one contribution of its column
    plots = [w.contribution for w in result.words if w.word == "plot"]
    assert len(plots) == 2 and plots[0] == plots[1]


def test_words_the_model_does_not_see_are_marked_not_zero():
    model, _, _ = single_dense(1, "sigmoid")
    result = explain(model, "great rare zzyzx", WORD_INDEX, NUM_WORDS)
    assert [(w.word, w.status, w.index, w.contribution) for w in result.words] == [
        ("great", KNOWN, 5, result.words[0].contribution),
        ("rare", OUT_OF_VOCABULARY, 23, None),  # index 23 >= num_words: the [OOV] mark
        ("zzyzx", UNKNOWN, None, None),  # not in the word index: dropped
    ]
    assert result.words[0].contribution != 0
    skipped = explain(model, "great the", WORD_INDEX, NUM_WORDS, skip_top=5)  # "the" is index 4 < skip_top
    assert [w.status for w in skipped.words] == [KNOWN, OUT_OF_VOCABULARY]


def test_each_word_is_located_in_the_text_as_written():
    model, _, _ = single_dense(1, "sigmoid")
    text = "The GREAT plot, (awful)!"
    result = explain(model, text, WORD_INDEX, NUM_WORDS)
    assert [text[w.start:w.end] for w in result.words] == ["The", "GREAT", "plot", "awful"]
    assert [w.word for w in result.words] == ["the", "great", "plot", "awful"]


def test_a_text_of_unknown_words_only_is_the_empty_review():
    model, kernel, bias = single_dense(1, "sigmoid")
    result = explain(model, "zzyzx qwerty", WORD_INDEX, NUM_WORDS)
    assert [w.status for w in result.words] == [UNKNOWN, UNKNOWN]
    assert result.probability == pytest.approx(reference_probability({1}, kernel, bias, 1, "sigmoid"), abs=1e-6)
    assert explain(model, "", WORD_INDEX, NUM_WORDS).words == ()


def test_word_contributions_of_a_review_given_as_indices():
    model, kernel, bias = single_dense(1, "sigmoid")
    probability, contributions = explaining.word_contributions(model, [1, 5, 5, 7, 2])
    assert sorted(contributions) == [5, 7]  # the marks [START] and [OOV] are no words
    full = reference_probability({1, 2, 5, 7}, kernel, bias, 1, "sigmoid")
    assert contributions[7] == pytest.approx(full - reference_probability({1, 2, 5}, kernel, bias, 1, "sigmoid"),
                                             abs=1e-6)
    with pytest.raises(ValueError, match=r"word index 10 does not fit num_words=10 \(in the review\)"):
        explaining.word_contributions(model, [1, 10])


def test_a_long_review_is_run_in_batches():
    import keras

    model = keras.Sequential([keras.Input((600,)), keras.layers.Dense(1, activation="sigmoid")])
    word_index = {f"w{rank}": rank for rank in range(1, 597)}
    text = " ".join(word_index)
    result = explain(model, text, word_index)  # 596 words: three batches of copies
    kernel = model.get_weights()[0][:, 0].astype(np.float64)
    z = kernel[[1, *range(4, 600)]].sum()
    for word in result.words[::97]:
        without = 1 / (1 + np.exp(-(z - kernel[word.index])))
        assert word.contribution == pytest.approx(1 / (1 + np.exp(-z)) - without, abs=1e-5)


@pytest.mark.parametrize("arguments, error, message", [
    ({"text": 3}, TypeError, "text must be a str"),
    ({"text": "x" * (explaining.MAX_TEXT_CHARS + 1)}, ValueError, "more than a review"),
    ({"word_index": ["great"]}, TypeError, "word_index must be a dict"),
    ({"num_words": 11}, ValueError, "num_words=11 does not fit the model's 10 inputs"),
    ({"skip_top": 10}, ValueError, "skip_top=10 must be smaller than num_words=10"),
])
def test_bad_arguments_say_what_to_give(arguments, error, message):
    model, _, _ = single_dense(1, "sigmoid")
    call = {"model": model, "text": "great", "word_index": WORD_INDEX, "num_words": NUM_WORDS, **arguments}
    with pytest.raises(error, match=message):
        explain(**call)


def test_a_model_that_does_not_read_multi_hot_reviews_is_refused():
    import keras

    sequence_model = keras.Sequential([keras.Input((20,), dtype="int32"), keras.layers.Embedding(10, 4),
                                       keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="explain works for the lab's models.*an Embedding: it reads 20 word indices"):
        explain(sequence_model, "great", WORD_INDEX)
    three = keras.Sequential([keras.Input((NUM_WORDS,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="explain works for the lab's models.*3 unit"):
        explain(three, "great", WORD_INDEX)


def test_an_untrained_model_is_refused():
    from imdb_lab.models.dense import build_model

    with pytest.raises(ValueError, match="has not been trained yet"):
        explain(build_model(NUM_WORDS, hidden_units=(2,)), "great", WORD_INDEX)


def test_the_html_colours_each_word_and_escapes_the_text():
    model, _, _ = single_dense(1, "sigmoid", seed=3)
    result = explain(model, "great <b>awful</b> zzyzx", WORD_INDEX, NUM_WORDS)
    html = explaining.explanation_html(result)
    assert "&lt;" in html and "&gt;" in html and "<b>awful" not in html  # the text is escaped, tags and all
    great, awful = result.words[0], result.words[2]
    for word in (great, awful):
        rgb = explaining.POSITIVE_RGB if word.contribution >= 0 else explaining.NEGATIVE_RGB
        share = min(1.0, abs(word.contribution) / explaining.FULL_COLOUR_AT) * explaining.FULL_COLOUR
        background, text = explaining.word_colours(rgb, share)
        assert f"background-color: rgb{background}; color: rgb{text}" in html
        assert f"{word.word}: {explaining.format_contribution(word.contribution)}" in html
    assert "zzyzx: unknown, the model does not see it" in html and "dotted" in html
    assert f"{'positive' if result.probability > 0.5 else 'negative'} {result.probability:.2f}" in html
    assert "pulls towards positive" in explaining.legend_html()


@pytest.mark.parametrize("first, second, ratio", [
    ((255, 255, 255), (0, 0, 0), 21.0),  # WCAG's extremes
    ((119, 119, 119), (255, 255, 255), 4.48),  # #777 on white: the classic grey just below AA
    ((0, 0, 255), (255, 255, 255), 8.59),
    ((200, 200, 200), (200, 200, 200), 1.0),
])
def test_contrast_ratio_is_wcags(first, second, ratio):
    assert explaining.contrast_ratio(first, second) == pytest.approx(ratio, abs=0.005)
    assert explaining.contrast_ratio(second, first) == pytest.approx(ratio, abs=0.005)


@pytest.mark.parametrize("rgb", [explaining.POSITIVE_RGB, explaining.NEGATIVE_RGB])
def test_every_words_colours_keep_wcag_aa_contrast(rgb):
    # every share a word's background can get, the full colour of the legend included
    for share in [i / 200 * explaining.FULL_COLOUR for i in range(201)]:
        background, text = explaining.word_colours(rgb, share)
        assert explaining.contrast_ratio(background, text) >= explaining.MIN_CONTRAST, (rgb, share, background)
    assert explaining.word_colours(rgb, 0.0) == ((255, 255, 255), (0, 0, 0))  # no contribution: plain text


def test_the_live_box_explains_what_is_typed():
    pytest.importorskip("ipywidgets")
    model, _, _ = single_dense(1, "sigmoid", seed=3)
    box = explaining.explain_box(model, WORD_INDEX, NUM_WORDS, value="great")
    text, shown = box.children
    assert "great: " in shown.value
    text.value = "the awful plot"  # the callback runs as the value changes
    assert "awful: " in shown.value and "great: " not in shown.value
    text.value = "x" * (explaining.MAX_TEXT_CHARS + 1)
    assert "Cannot explain this text" in shown.value and "more than a review" in shown.value
    text.value = "   "
    assert shown.value == explaining.legend_html()


def test_without_ipywidgets_the_box_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    model, _, _ = single_dense(1, "sigmoid")
    assert explaining.explain_box(model, WORD_INDEX, NUM_WORDS) is None
    assert "pip install ipywidgets" in capsys.readouterr().out
