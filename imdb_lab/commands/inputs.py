"""What ``imdb-lab predict`` and ``explain`` read: reviews (arguments, a UTF-8 file, standard input) and a model."""

import os
import sys
from pathlib import Path

from imdb_lab.errors import CommandError, first_line
from imdb_lab.models.predicting import feature_kind
from imdb_lab.models.saving import load_trained_model, read_metadata


def add_review_arguments(parser):
    """Register the reviews and the model a command reads on ``parser``: TEXT..., --file, --model."""
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="a review (quote it); several are allowed")
    parser.add_argument("--model", required=True, metavar="PATH", help="a .keras file saved by imdb-lab train")
    parser.add_argument(
        "--file", metavar="PATH",
        help="a UTF-8 file with one review per line ('-' reads standard input)",
    )


def split_reviews(data, name):
    """Return the reviews in UTF-8 ``data`` (bytes), one per line, split on '\\n' only."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{name} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}): "
            "save it as UTF-8"
        ) from None
    # split on '\n' only: U+0085 and other Unicode line breaks occur inside real reviews
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_reviews(path):
    """Return the reviews of the file at ``path`` ('-' for standard input), one per line."""
    if path == "-":
        return split_reviews(sys.stdin.buffer.read(), "standard input")
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such file: {path}")
    return split_reviews(file.read_bytes(), path)


def review_texts(args):
    """Return the reviews the command was given: its TEXT arguments, then the lines of --file."""
    texts = list(args.texts)
    if args.file is not None:
        texts += read_reviews(args.file)
    elif not texts:
        raise CommandError("give at least one review TEXT, or --file PATH ('-' for standard input)")
    return texts


def read_inputs(args, command):
    """Return ``(texts, model, metadata)`` the ``command`` was given, or None (with a note) when --file is empty."""
    texts = review_texts(args)
    if args.file is not None and not texts:
        print(f"imdb-lab {command}: {args.file} holds no reviews", file=sys.stderr)
        return None
    # TensorFlow's C++ start-up chatter on stderr would hide the notes about empty reviews
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return (texts, *load_model(args.model))


def load_model(path):
    """Return (model, metadata) from ``path``, or raise an error that fits in one line."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such model file: {path}")
    # the metadata says whether we can use the model at all, before the slow load
    feature_kind(read_metadata(file))
    try:
        return load_trained_model(file)
    except Exception as error:  # noqa: BLE001 - whatever Keras raises, the file is unusable
        detail = first_line(error, limit=None) or type(error).__name__
        raise CommandError(f"{path}: the model inside cannot be loaded ({detail})") from None
