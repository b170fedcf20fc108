"""``imdb-lab predict``: say whether reviews are positive, with a model saved by ``imdb-lab train``.

Output: one line per review, in input order: ``positive 0.93`` or ``negative 0.12``
(the probability that the review is positive, threshold 0.5), or ``empty -`` for an
empty or blank review (with a note on stderr).
"""

import sys

from imdb_lab.commands.inputs import add_review_arguments, read_inputs
from imdb_lab.models.predicting import format_prediction, is_blank, predict_proba

HELP = "print positive/negative and the probability of positive for each review"


def add_arguments(parser):
    """Register predict's arguments on ``parser``."""
    add_review_arguments(parser)


def run(args):
    """Print one prediction line per review; return the exit code."""
    inputs = read_inputs(args, "predict")
    if inputs is None:
        return 0
    texts, model, metadata = inputs
    for number, text in enumerate(texts, start=1):
        if is_blank(text):
            print(f"imdb-lab predict: review {number} is empty: printed '{format_prediction(None)}'",
                  file=sys.stderr)
    for probability in predict_proba(model, metadata, texts):
        print(format_prediction(float(probability)))
    return 0
