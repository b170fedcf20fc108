"""Explain one prediction: how much each word of a review moved the model, measured exactly by switching it off.

A multi-hot model sees a review as the set of its word indices. The
contribution of a word is ``P(positive | review) - P(positive | review without
that word)``: the model is run on the review and on one copy of it per word
with that word's column switched off, all at once. For these models this
is exact, not an approximation: it is what the prediction would be had the
word not been written (every occurrence of it, since a bag of words counts a
word once). A positive contribution pulled the review towards positive.

Words the model cannot see are marked, not given 0: ``UNKNOWN`` (not in the
word index: ``encode_review`` drops it, as ``load_data`` drops words never seen
in training) and ``OUT_OF_VOCABULARY`` (its index is ``num_words`` or more, or
below ``skip_top``: it becomes the ``[OOV]`` mark, shared by all such words).
"""

import html
import math
from typing import NamedTuple, Optional

import numpy as np

from imdb_lab.data.reviews import INDEX_FROM, OOV_CHAR, START_CHAR, valid_indices, valid_vocabulary
from imdb_lab.data.text import encode_review
from imdb_lab.data.tokenizer import word_spans
from imdb_lab.errors import LabTypeError, LabValueError
from imdb_lab.models.dense import input_width
from imdb_lab.models.outputs import output_kind, positive_probability
from imdb_lab.models.predicting import format_prediction
from imdb_lab.models.saving import was_trained

__all__ = ["explain", "word_contributions", "probabilities_of_rows", "Explanation", "WordContribution",
           "explanation_html", "legend_html", "show_explanations", "explain_box", "KNOWN", "UNKNOWN",
           "OUT_OF_VOCABULARY", "MAX_TEXT_CHARS"]

KNOWN, UNKNOWN, OUT_OF_VOCABULARY = "known", "unknown", "out of vocabulary"
# the longest review of the data set has 14,000 characters; a text far longer is not a review
MAX_TEXT_CHARS = 100_000
# copies of the review run at once: memory stays at BATCH_ROWS x num_words floats
BATCH_ROWS = 256


class WordContribution(NamedTuple):
    """One word of the text: where it stands, its word index, whether the model sees it, and its contribution."""

    word: str  # as the tokenizer reads it (lower case)
    start: Optional[int]  # its span in the text, text[start:end] (None where it cannot be located)
    end: Optional[int]
    index: Optional[int]  # its word index (None: unknown)
    status: str  # KNOWN, UNKNOWN or OUT_OF_VOCABULARY
    contribution: Optional[float]  # P(positive) with it minus without it; None unless KNOWN

    def as_dict(self):
        """Return the word as a JSON-ready dict."""
        return self._asdict()


class Explanation(NamedTuple):
    """A text, the model's probability that it is positive, and every word's ``WordContribution`` in order."""

    text: str
    probability: float
    words: tuple

    def as_dict(self):
        """Return the explanation as a JSON-ready dict."""
        return {"text": self.text, "probability": self.probability, "words": [w.as_dict() for w in self.words]}

    def render(self, mark, plain=str):
        """Return the text with each word as ``mark(word, as written)`` and the text between as ``plain(text)``.

        Where the words could not be located in the text, they are marked one
        after the other, joined by spaces.
        """
        if not all(word.start is not None for word in self.words):
            return " ".join(mark(word, word.word) for word in self.words)
        parts, position = [], 0
        for word in self.words:
            parts += [plain(self.text[position:word.start]), mark(word, self.text[word.start:word.end])]
            position = word.end
        return "".join(parts + [plain(self.text[position:])])


def probabilities_of_rows(model, rows):
    """Return P(positive) of each multi-hot row of ``rows``, run through the model in batches of BATCH_ROWS."""
    import keras  # the model exists, so Keras is loaded

    out = []
    for start in range(0, len(rows), BATCH_ROWS):
        # a direct call, not predict(): one small batch, without predict's per-call set-up
        outputs = keras.ops.convert_to_numpy(model(rows[start:start + BATCH_ROWS], training=False))
        out.append(positive_probability(model, outputs))
    return np.concatenate(out)


def _checked_width(model, num_words):
    """Return the model's input width, checking that it is a model of the lab that explain can read."""
    try:
        width = input_width(model)
        output_kind(model)
    except LabValueError as error:
        raise LabValueError(f"explain works for the lab's models, which read num_words multi-hot values and end in "
                            f"a sigmoid, a logit or a two-unit softmax: {error}") from None
    if num_words is not None and num_words > width:
        raise LabValueError(f"num_words={num_words} does not fit the model's {width} inputs: give the num_words "
                            "the model was trained with")
    if was_trained(model) is False:
        raise LabValueError("the model has not been trained yet (it was never fitted): its predictions "
                            "mean nothing; train it with model.fit first")
    return width


def word_contributions(model, review):
    """Return ``(P(positive), {word index: contribution})`` for a review given as word indices (as load_data gives).

    Every index of the review but the marks (``[START]``, ``[OOV]``) gets a
    contribution: P(positive) of the review minus P(positive) with that
    index's column switched off.
    """
    return _contributions(model, review, _checked_width(model, None))


def _contributions(model, review, width):
    """Return ``word_contributions`` of a model already checked to read ``width`` multi-hot values."""
    review = valid_indices(np.asarray(review, dtype=np.int64), width, "the review")
    columns = sorted(set(review.tolist()) - {START_CHAR, OOV_CHAR})
    rows = np.zeros((len(columns) + 1, width), dtype="float32")
    rows[:, review] = 1.0
    rows[np.arange(1, len(columns) + 1), columns] = 0.0  # row k + 1: the review without word columns[k]
    probability, *without = probabilities_of_rows(model, rows).tolist()
    return probability, {column: probability - p for column, p in zip(columns, without, strict=True)}


def explain(model, text, word_index, num_words=None, skip_top=0):
    """Return the ``Explanation`` of ``model``'s prediction for ``text``: each word's exact contribution.

    ``model`` is a model of the lab (it reads ``num_words`` multi-hot values;
    it may end in a sigmoid, a logit or a two-unit softmax); ``word_index`` and
    ``num_words`` / ``skip_top`` are those its training reviews were loaded
    with (``num_words`` defaults to the model's input width). A word's
    contribution is the change in the probability of "positive" when its
    column is switched off (see the module's docstring); words the model does
    not see are marked UNKNOWN or OUT_OF_VOCABULARY, with no contribution.

    Args:
        model: a model of the lab.
        text: the review to explain.
        word_index: ``{word: rank}`` of its training reviews.
        num_words, skip_top: those it was trained with (default: its input width, and 0).
    """
    if not isinstance(text, str):
        raise LabTypeError(f"text must be a str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise LabValueError(f"the text has {len(text):,} characters, more than a review ({MAX_TEXT_CHARS:,} at most): "
                            "explain one review at a time")
    if not isinstance(word_index, dict):
        raise LabTypeError("word_index must be a dict word -> rank, e.g. imdb_lab.get_word_index()")
    width = _checked_width(model, num_words)
    num_words, skip_top = valid_vocabulary(width if num_words is None else num_words, skip_top)
    probability, contributions = _contributions(
        model, encode_review(text, word_index, num_words=num_words, skip_top=skip_top), width)
    words = []
    for word, start, end in word_spans(text):
        # a known word keeps its index in the encoded review (it has a contribution) or became the [OOV] mark
        index = word_index[word] + INDEX_FROM if word in word_index else None
        status = UNKNOWN if index is None else KNOWN if index in contributions else OUT_OF_VOCABULARY
        words.append(WordContribution(word, start, end, index, status, contributions.get(index)))
    return Explanation(text, probability, tuple(words))


def format_contribution(contribution):
    """Return a contribution as ``+0.21`` / ``-0.05``, or ``?`` for a word without one."""
    return "?" if contribution is None or math.isnan(contribution) else f"{contribution:+.2f}"


# blue pulls towards positive, orange towards negative: a pair that red-green colour-blind readers tell apart
POSITIVE_RGB, NEGATIVE_RGB = (33, 102, 172), (230, 97, 1)
# a contribution this large (or larger) gets the full colour; smaller ones fade with their size
FULL_COLOUR_AT = 0.2
# the most of a colour a word's background gets (the rest is white), and WCAG AA's least contrast for text
FULL_COLOUR, MIN_CONTRAST = 0.85, 4.5
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def relative_luminance(rgb):
    """Return the WCAG 2 relative luminance of an sRGB colour ``(r, g, b)`` of 0-255 channels (0 black, 1 white)."""
    def linear(channel):
        channel /= 255
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first, second):
    """Return the WCAG 2 contrast ratio of two sRGB colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def word_colours(rgb, share):
    """Return ``(background, text)``: ``share`` of ``rgb`` mixed into white, and the text colour read best on it.

    The background is opaque, so that it looks the same on a light or a dark
    Jupyter theme; of black and white text, the one of higher contrast, which
    is at least 4.6:1 on any background (WCAG AA asks 4.5:1).
    """
    background = tuple(round(255 - share * (255 - channel)) for channel in rgb)
    text = max((BLACK, WHITE), key=lambda colour: contrast_ratio(background, colour))
    return background, text


def _css_colours(rgb, share):
    background, text = word_colours(rgb, share)
    return f"background-color: rgb{background}; color: rgb{text}"


def _word_style(word):
    """Return the inline CSS of one word: its colour, or a dotted underline for a word the model does not see."""
    if word.status != KNOWN:
        return "border-bottom: 1px dotted #888; color: #666"
    rgb = POSITIVE_RGB if word.contribution >= 0 else NEGATIVE_RGB
    share = min(1.0, abs(word.contribution) / FULL_COLOUR_AT) * FULL_COLOUR
    return f"{_css_colours(rgb, share)}; border-radius: 3px"


def _word_title(word):
    if word.status == KNOWN:
        return f"{word.word}: {format_contribution(word.contribution)}"
    return f"{word.word}: {word.status}, the model does not see it"


def explanation_html(explanation):
    """Return HTML of the text with each word coloured by its contribution, its prediction first."""
    def mark(word, shown):
        return f'<span style="{_word_style(word)}" title="{html.escape(_word_title(word))}">{html.escape(shown)}</span>'

    return (f'<div style="line-height: 1.8"><b>{format_prediction(explanation.probability)}</b>: '
            f'{explanation.render(mark, html.escape)}</div>')


def legend_html():
    """Return the HTML legend of ``explanation_html``'s colours."""
    def swatch(rgb, text):
        return f'<span style="{_css_colours(rgb, FULL_COLOUR)}; border-radius: 3px; padding: 0 4px">{text}</span>'

    return (f'<div style="font-size: 90%">{swatch(POSITIVE_RGB, "blue: pulls towards positive")} '
            f'{swatch(NEGATIVE_RGB, "orange: pulls towards negative")} (the paler, the less) '
            '<span style="border-bottom: 1px dotted #888; color: #666">not seen by the model</span> '
            "(unknown, or outside num_words). Hover over a word for its contribution.</div>")


def show_explanations(model, texts, word_index, num_words=None, skip_top=0):
    """Return an HTML object (for Jupyter to display) of each text coloured by ``explain``, under a legend.

    Args:
        model: a model of the lab.
        texts: the reviews to explain.
        word_index: ``{word: rank}`` of its training reviews.
        num_words, skip_top: those it was trained with.
    """
    from IPython.display import HTML  # only in a notebook, where IPython is

    rows = [explanation_html(explain(model, text, word_index, num_words, skip_top)) for text in texts]
    return HTML(legend_html() + "".join(rows))


INSTALL_WIDGETS = ("the live box needs ipywidgets, which Colab and Kaggle have: elsewhere `pip install ipywidgets`, "
                   "then restart the kernel. Everything else in the notebook works without it.")


def explain_box(model, word_index, num_words=None, skip_top=0, value=""):
    """Return a live box (ipywidgets): type a review, see its probability and its words coloured by ``explain``.

    Without ipywidgets, prints how to get it and returns None.

    Args:
        model: a model of the lab.
        word_index: ``{word: rank}`` of its training reviews.
        num_words, skip_top: those it was trained with.
        value: the review the box starts with.
    """
    try:
        import ipywidgets  # optional: the rest of the lab runs without it
    except ImportError:
        print(INSTALL_WIDGETS)
        return None
    box = ipywidgets.Textarea(value=value, placeholder="Type a review...", layout={"width": "100%"})
    shown = ipywidgets.HTML(legend_html())

    def show(change=None):
        text = box.value
        if not text.strip():
            shown.value = legend_html()
            return
        try:
            shown.value = legend_html() + explanation_html(explain(model, text, word_index, num_words, skip_top))
        except (LabValueError, LabTypeError) as error:
            shown.value = f"<div><b>Cannot explain this text:</b> {error}</div>"

    box.observe(show, names="value")
    show()
    return ipywidgets.VBox([box, shown])
