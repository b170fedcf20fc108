"""``imdb-lab explain``: why the model says what it says about a review, word by word.

For each review: its prediction, as ``imdb-lab predict`` prints it, then the
review with each word the model sees as ``[+0.21 wonderful]``: how much that
word moved the probability of "positive" (``imdb_lab.models.explaining``).
A word the model does not see is ``[? word]`` (unknown) or ``[oov word]``
(outside ``num_words``). On a terminal the words are coloured (blue: towards
positive, orange: towards negative) unless ``NO_COLOR`` is set; ``--json``
prints one JSON object per review instead.
"""

import json
import os
import sys

from imdb_lab.commands.inputs import add_review_arguments, read_inputs
from imdb_lab.data.reviews import IndexConventions
from imdb_lab.errors import CommandError
from imdb_lab.models.explaining import KNOWN, UNKNOWN, explain, format_contribution
from imdb_lab.models.predicting import feature_kind, format_prediction, is_blank

HELP = "show how much each word of a review moved the model's prediction"
# 256-colour terminal codes of the blue and the orange the notebook uses
_COLOURS = {"positive": "\033[1;38;5;25m", "negative": "\033[1;38;5;166m", "unseen": "\033[2m"}
_RESET = "\033[0m"


def add_arguments(parser):
    """Register explain's arguments on ``parser``."""
    add_review_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per review")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the words: auto (on a terminal, unless NO_COLOR is set), always or never")


def use_colour(choice, stream):
    """Return True when the output should be coloured: asked for, or a terminal without ``NO_COLOR``."""
    if choice != "auto":
        return choice == "always"
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def _token(word, shown, colour):
    """Return one word, ``shown`` as written, as the explanation shows it: ``[+0.21 wonderful]``, ``[? word]``..."""
    if word.status == KNOWN:
        text, kind = f"[{format_contribution(word.contribution)} {shown}]", (
            "positive" if word.contribution >= 0 else "negative")
    else:
        text, kind = f"[{'?' if word.status == UNKNOWN else 'oov'} {shown}]", "unseen"
    return f"{_COLOURS[kind]}{text}{_RESET}" if colour else text


def format_explanation(explanation, colour=False):
    """Return the review with each word replaced by its ``[contribution word]`` token, punctuation kept."""
    return explanation.render(lambda word, shown: _token(word, shown, colour))


def run(args):
    """Print each review's prediction and its words' contributions; return the exit code."""
    inputs = read_inputs(args, "explain")
    if inputs is None:
        return 0
    texts, model, metadata = inputs
    if feature_kind(metadata) != "multi_hot":
        raise CommandError(f"{args.model} holds an n-gram model: explain shows the words of the lab's multi-hot "
                           "models (imdb-lab train without --nb or --ngrams)")
    if any(metadata.get(name, default) != default for name, default in IndexConventions()._asdict().items()):
        raise CommandError(f"{args.model} was saved with other index conventions than load_data's defaults: "
                           "explain reads models trained on load_data's defaults")
    if metadata.get("trained_steps") == 0:
        raise CommandError(f"{args.model} holds a model that was saved before any training: its predictions mean "
                           "nothing; train it first (imdb-lab train)")
    colour = use_colour(args.color, sys.stdout)
    for number, text in enumerate(texts, start=1):
        if is_blank(text):
            print(f"imdb-lab explain: review {number} is empty: nothing to explain", file=sys.stderr)
            print(json.dumps({"text": text, "probability": None, "words": []}) if args.json
                  else format_prediction(None))
            continue
        explanation = explain(model, text, metadata["word_index"], num_words=metadata.get("num_words"),
                              skip_top=metadata.get("skip_top", 0))
        if args.json:
            print(json.dumps(explanation.as_dict(), ensure_ascii=False))
        else:
            print(f"{format_prediction(explanation.probability)}: {format_explanation(explanation, colour)}")
    return 0
