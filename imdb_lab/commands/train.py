"""``imdb-lab train``: train the reference multi-hot Dense model (or, with ``--nb`` or ``--ngrams 2``, the
naive-Bayes-weighted n-gram model of the lab's "Going further"), report test accuracy, save a .keras file.

The last line printed is ``test accuracy: 0.xxxx``.
"""

import os
import sys
from pathlib import Path

from imdb_lab.commands.options import non_negative_int, positive_int
from imdb_lab.data.loading import load_flat
from imdb_lab.data.reviews import valid_vocabulary
from imdb_lab.data.sources import get_word_index
from imdb_lab.errors import CommandError
from imdb_lab.models.dense import build_model, steps_per_epoch
from imdb_lab.models.saving import save_trained_model

HELP = "train the reference model on the IMDB reviews, print its test accuracy and save it"


def add_arguments(parser):
    """Register train's arguments on ``parser``."""
    parser.add_argument("--num-words", type=positive_int, default=None, metavar="N",
                        help="keep the words of index below N, about the N most frequent "
                             "(default: 10000, or 30000 with --ngrams 2 or 3)")
    parser.add_argument("--skip-top", type=non_negative_int, default=0, metavar="K",
                        help="also map the K most frequent words to the out-of-vocabulary index (default: 0)")
    parser.add_argument("--epochs", type=positive_int, default=20, metavar="E", dest="num_epochs",
                        help="at most E epochs; early stopping on validation loss ends sooner (default: 20)")
    parser.add_argument("--batch-size", type=positive_int, default=None, metavar="B",
                        help="default: 512, or 128 with --nb, 64 with --ngrams 2 or 3")
    parser.add_argument("--seed", type=non_negative_int, default=42, metavar="S",
                        help="random seed; the same seed gives the same model on the same backend (default: 42, "
                             "the notebook's)")
    parser.add_argument("--output", default="model.keras", metavar="PATH",
                        help="where to save the trained model, a .keras file (default: model.keras)")
    parser.add_argument("--ngrams", type=positive_int, default=1, metavar="N",
                        help="1: the lab's multi-hot Dense model (default); 2 or 3: the NBSVM-style n-gram "
                             "model on word n-grams up to length N")
    parser.add_argument("--nb", action="store_true",
                        help="the NBSVM-style model (naive-Bayes-weighted inputs, logistic regression) on words "
                             "alone, or on n-grams up to --ngrams, which implies it; on words alone it is trained "
                             "again on all the training reviews for the best epoch count")
    parser.add_argument("--source", default=None, metavar="PATH",
                        help="aclImdb_v1.tar.gz or an extracted aclImdb/ folder (default: $IMDB_LAB_DATA)")


def check_arguments(args):
    """Raise CommandError for argument combinations argparse cannot check alone."""
    if args.ngrams > 3:
        raise CommandError(f"--ngrams must be 1, 2 or 3, got {args.ngrams}")
    args.nb = args.nb or args.ngrams > 1
    # the n-gram model learns best from small batches and gains from a larger vocabulary (bigrams: 30,000
    # words); the Dense model is fast with large batches, and 10,000 words are enough for it and for unigrams
    if args.batch_size is None and not (args.nb and args.ngrams == 1):  # --nb alone: its own settings
        args.batch_size = 64 if args.nb else 512
    if args.num_words is None:
        args.num_words = 30000 if args.ngrams > 1 else 10000
    valid_vocabulary(args.num_words, args.skip_top, names=("--num-words", "--skip-top"))
    output = Path(args.output)
    if output.suffix != ".keras":
        raise CommandError(f"--output must end in .keras, got {args.output!r}")
    folder = output.parent
    if not folder.is_dir():
        raise CommandError(f"--output folder {str(folder)!r} does not exist: create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"--output folder {str(folder)!r} is not writable: choose another --output")
    if output.is_dir():
        raise CommandError(f"--output {args.output!r} is a folder: give a file name ending in .keras")
    if args.source is not None and not Path(args.source).exists():
        raise CommandError(f"--source {args.source!r} does not exist: give aclImdb_v1.tar.gz or an aclImdb/ folder")


def load_reviews(args):
    """Return ``(train, test)`` FlatReviews for ``args`` (no Python lists: memory stays low)."""
    return load_flat(num_words=args.num_words, skip_top=args.skip_top, source=args.source)


def fit_model(args, train, test, callbacks=()):
    """Build and train the model; return ``(model, validation accuracy, test accuracy, features metadata)``.

    ``callbacks``: more Keras callbacks for the Dense model's ``fit`` (the benchmarks time its epochs).
    """
    if args.nb:
        return fit_ngram_model(args, train, test)
    # Keras is imported here, after the CLI chose the backend
    from imdb_lab.models import training  # (Keras)

    training.set_seed(args.seed)
    # the learning rate decays once an epoch, whatever --batch-size makes an epoch's steps
    model = build_model(args.num_words, steps_per_epoch=steps_per_epoch(len(train), args.batch_size))
    history = training.train(model, train, train.labels, num_words=args.num_words, num_epochs=args.num_epochs,
                             batch_size=args.batch_size, seed=args.seed, verbose=2, callbacks=callbacks)
    # early stopping restored the best epoch's weights, so its validation accuracy is the model's
    val_accuracy = history.history["val_accuracy"][training.best_epoch(history, min_delta=training.MIN_DELTA)]
    test_accuracy = training.evaluate_accuracy(model, test, test.labels, num_words=args.num_words,
                                               batch_size=args.batch_size)
    return model, val_accuracy, test_accuracy, None


def fit_ngram_model(args, train, test):
    """Train the n-gram model; return what ``fit_model`` returns."""
    from imdb_lab.models.ngram import UNIGRAM_SETTINGS, train_ngram_model  # Keras, after the backend is chosen
    from imdb_lab.models.training import best_epoch  # (Keras)

    settings = dict(UNIGRAM_SETTINGS) if args.ngrams == 1 else {}
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    model, history, test_accuracy, features = train_ngram_model(
        train, test, num_words=args.num_words, ngrams=args.ngrams, num_epochs=args.num_epochs, seed=args.seed,
        verbose=2, **settings)
    val_accuracy = history.history["val_accuracy"][best_epoch(history)]
    return model, val_accuracy, test_accuracy, features


def save(args, model, features=None):
    """Save ``model`` with the word index, encoding settings and features ``imdb-lab predict`` needs."""
    return save_trained_model(model, args.output, num_words=args.num_words, skip_top=args.skip_top,
                              word_index=get_word_index(args.source), features=features)


def run(args):
    """Train, save, then print validation and test accuracy (test last); return 0."""
    check_arguments(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    train, test = load_reviews(args)
    kind = f"{args.ngrams}-gram NBSVM" if args.nb else "multi-hot"
    print(f"training the {kind} model on {len(train)} reviews ({args.num_words} words), testing on {len(test)}",
          flush=True)
    model, val_accuracy, test_accuracy, features = fit_model(args, train, test)
    path = save(args, model, features)
    print(f"saved the model to {path}")
    refit = " (the run that chose the epoch count; the saved model was then refit on every training review)"
    print(f"validation accuracy: {val_accuracy:.4f}{refit if args.nb and args.ngrams == 1 else ''}")
    print(f"test accuracy: {test_accuracy:.4f}")
    sys.stdout.flush()
    return 0
