"""Benchmark: our training against the naive dense float64 recipe and scikit-learn, on each Keras backend.

Run (about 5 minutes a backend on 2 cores; the data cache is built first, ~10 s cold):

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_training.py --repeat \\
        --backend tensorflow --backend jax=/path/to/jax-venv/bin/python --backend torch=/path/to/torch-venv/bin/python

Every configuration trains the default model (imdb_lab.models.dense.build_model, seed 42,
early stopping on a validation split of the training reviews) in its own
subprocess, so that each peak RSS (getrusage ru_maxrss of the child) is its own:

- ours:  load_flat + imdb_lab.models.training.train, at 10,000 words (MultiHotSequence: one batch of multi-hot rows
  at a time) and at 88,000 (the word-id twin: batches of each review's distinct word ids, packed end to end),
  on each backend asked for;
- nb:    the going-further unigram variant (``imdb-lab train --nb``): naive-Bayes log-count ratios on the
  10,000 words, logistic regression (imdb_lab.models.ngram with ngrams=1 and UNIGRAM_SETTINGS: early stopping
  on the validation split chooses the epoch count, then a refit on every training review), on each backend;
- naive: load_data lists + Deep Learning with Python's ``vectorize_sequences``
  (np.zeros((n, num_words)) float64 for train, validation and test) + model.fit on
  the arrays, with the same validation split, model, seed and early stopping (on
  the first backend);
- tfidf: scikit-learn's TF-IDF (sublinear tf) + logistic regression on the same
  10,000-word sequences, the practitioner's peer (benchmarks/requirements.txt); its C is chosen on the same
  validation split, then it is fitted on every training review, as the nb variant is.

At 88,000 words the naive recipe is not run but reported as the memory its
matrices alone would need. ``--repeat`` runs ours at 10,000 words a second time,
after the large vocabulary, with the same seed to show that the test accuracy
repeats; the time ratios then take the mean of the two. Wall time is the
time from loaded data to evaluated model (vectorizing, training, testing), with
Keras and its backend already imported.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

RESULT_PREFIX = "RESULT "
# the TF-IDF peer's inverse regularization strengths, one chosen on the validation split (sklearn's default: 1)
TFIDF_CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def peak_rss_mb():
    """Return this process's peak resident set size in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vectorize_sequences(sequences, dimension):
    """The classic recipe (Deep Learning with Python, 1st edition): a dense float64 0/1 matrix."""
    import numpy as np

    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


def run_ours(args):
    """Train with load_flat + MultiHotSequence; return the measurements."""
    from imdb_lab.data.loading import load_flat
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.training import best_epoch, evaluate, set_seed, train

    train_reviews, test_reviews = load_flat(num_words=args.num_words)
    start = time.perf_counter()
    set_seed(args.seed)
    model = build_model(args.num_words)
    history = train(model, train_reviews, train_reviews.labels, num_words=args.num_words,
                    num_epochs=args.num_epochs, batch_size=args.batch_size, seed=args.seed, verbose=0)
    _, test_accuracy = evaluate(model, test_reviews, test_reviews.labels, num_words=args.num_words,
                                batch_size=args.batch_size)
    return history, best_epoch(history), test_accuracy, time.perf_counter() - start


def run_naive(args):
    """Train with load_data lists + dense float64 matrices; return the measurements."""
    import keras

    from imdb_lab.data.loading import load_data
    from imdb_lab.data.reviews import split_validation
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.training import best_epoch, set_seed

    (x_train, y_train), (x_test, y_test) = load_data(num_words=args.num_words)
    start = time.perf_counter()
    set_seed(args.seed)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, 0.2, seed=args.seed)
    x_fit, x_val = vectorize_sequences(x_fit, args.num_words), vectorize_sequences(x_val, args.num_words)
    x_test = vectorize_sequences(x_test, args.num_words)
    model = build_model(args.num_words)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=args.num_epochs,
                        batch_size=args.batch_size, callbacks=[stop], verbose=0)
    test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0, return_dict=True)["accuracy"]
    return history, best_epoch(history), test_accuracy, time.perf_counter() - start


def run_nb(args):
    """The going-further unigram variant: naive-Bayes-weighted words, logistic regression (``imdb-lab train --nb``)."""
    from imdb_lab.data.loading import load_flat
    from imdb_lab.models.ngram import UNIGRAM_SETTINGS, train_ngram_model
    from imdb_lab.models.training import best_epoch

    train_reviews, test_reviews = load_flat(num_words=args.num_words)
    start = time.perf_counter()
    _, history, test_accuracy, _ = train_ngram_model(train_reviews, test_reviews, num_words=args.num_words,
                                                     ngrams=1, seed=args.seed, verbose=0, **UNIGRAM_SETTINGS)
    return history, best_epoch(history), test_accuracy, time.perf_counter() - start


def run_tfidf(args):
    """The practitioner's peer: scikit-learn TF-IDF (sublinear) + logistic regression on the same sequences.

    Its C is chosen as ours are, on the same validation split of the training reviews (seed ``args.seed``),
    then the peer is fitted on every training review: a fair peer, not a weak one.
    """
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    from imdb_lab.data.loading import load_flat
    from imdb_lab.data.reviews import split_validation

    train_reviews, test_reviews = load_flat(num_words=args.num_words)
    start = time.perf_counter()

    def counts(reviews):
        rows = np.repeat(np.arange(len(reviews)), np.diff(reviews.offsets))
        return csr_matrix((np.ones(len(reviews.tokens)), (rows, reviews.tokens)),
                          shape=(len(reviews), args.num_words))

    (fit, y_fit), (val, y_val) = split_validation(train_reviews, train_reviews.labels, 0.2, seed=args.seed)
    tfidf = TfidfTransformer(sublinear_tf=True)
    x_fit, x_val = tfidf.fit_transform(counts(fit)), tfidf.transform(counts(val))
    scores = {c: LogisticRegression(C=c, max_iter=1000).fit(x_fit, y_fit).score(x_val, y_val) for c in TFIDF_CS}
    best_c = max(TFIDF_CS, key=lambda c: (scores[c], -c))  # ties: the stronger regularization
    x_train = tfidf.fit_transform(counts(train_reviews))
    classifier = LogisticRegression(C=best_c, max_iter=1000).fit(x_train, train_reviews.labels)
    test_accuracy = float(classifier.score(tfidf.transform(counts(test_reviews)), test_reviews.labels))
    args.tfidf_c = best_c
    return None, None, test_accuracy, time.perf_counter() - start


def child(args):
    """Run one configuration in this process and print its result as one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run = {"ours": run_ours, "naive": run_naive, "tfidf": run_tfidf, "nb": run_nb}[args.child]
    backend = "-"
    if args.child != "tfidf":
        # Keras and its backend are imported before any clock starts: no pipeline's time holds their import
        import keras

        backend = keras.backend.backend()
    history, best, test_accuracy, seconds = run(args)
    print(RESULT_PREFIX + json.dumps({
        "pipeline": args.child, "backend": backend, "num_words": args.num_words, "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(), "test_accuracy": test_accuracy,
        "epochs": len(history.history["loss"]) if history else None, "best_epoch": best + 1 if history else None,
        "val_accuracy": history.history["val_accuracy"][best] if history else None,
        "C": getattr(args, "tfidf_c", None),
    }), flush=True)
    return 0


def spawn(pipeline, num_words, args, python=None, backend=None):
    """Run one configuration in a fresh Python process (``python``, with KERAS_BACKEND=``backend``); return its row."""
    command = [python or sys.executable, os.path.abspath(__file__), "--child", pipeline, "--num-words",
               str(num_words), "--num-epochs", str(args.num_epochs), "--batch-size", str(args.batch_size),
               "--seed", str(args.seed)]
    env = dict(os.environ, **({"KERAS_BACKEND": backend} if backend else {}))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in result.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise RuntimeError(f"{pipeline} at {num_words} words failed:\n{result.stderr[-3000:]}")


def naive_gb(num_reviews, num_words):
    """Return the GB that float64 matrices of ``num_reviews`` x ``num_words`` need (train + test)."""
    return num_reviews * num_words * 8 / 1e9


def backend_pythons(specs):
    """Return ``[(backend, python), ...]`` from ``--backend NAME[=PYTHON]`` options (default: this Python's backend)."""
    if not specs:
        from imdb_lab.backend import choose_backend

        return [(choose_backend(), sys.executable)]
    out = []
    for spec in specs:
        name, _, python = spec.partition("=")
        out.append((name, python or sys.executable))
    return out


def sklearn_available():
    """Return True when scikit-learn can be imported (benchmarks/requirements.txt)."""
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


def main(argv=None):
    """Run every configuration in its own subprocess and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", action="store_true", help="run ours at 10,000 words twice with the same seed")
    parser.add_argument("--large-words", type=int, default=88000, help="the large vocabulary (default: 88000)")
    parser.add_argument("--backend", action="append", metavar="NAME[=PYTHON]",
                        help="run ours on this Keras backend, with this Python (a venv that has it); repeat for "
                             "several, e.g. --backend tensorflow --backend jax=/path/to/jax-venv/bin/python "
                             "(default: this Python's backend). The naive recipe runs on the first one.")
    parser.add_argument("--child", choices=["ours", "naive", "tfidf", "nb"], help=argparse.SUPPRESS)
    parser.add_argument("--num-words", type=int, default=10000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    from imdb_lab.data.loading import load_flat
    from imdb_lab.data.sources import prepare

    prepare()  # build the encoded cache once, outside the timed children
    train_reviews, test_reviews = load_flat(num_words=10)
    num_reviews = len(train_reviews) + len(test_reviews)
    backends = backend_pythons(args.backend)
    first_backend, first_python = backends[0]
    runs = [("naive", 10000, first_backend, first_python)]
    for backend, python in backends:
        # the repeat after the large vocabulary, so that a drift of the machine's speed weighs on both sides
        runs += [("ours", 10000, backend, python), ("ours", args.large_words, backend, python)]
        runs += ([("ours", 10000, backend, python)] if args.repeat else []) + [("nb", 10000, backend, python)]
    if sklearn_available():
        runs.append(("tfidf", 10000, None, sys.executable))
    else:
        print("scikit-learn is not installed: the TF-IDF + logistic regression peer is skipped "
              "(pip install -r benchmarks/requirements.txt)", file=sys.stderr)
    rows = []
    for pipeline, num_words, backend, python in runs:
        print(f"running {pipeline} at {num_words} words on {backend or 'scikit-learn'} ...", file=sys.stderr, flush=True)
        rows.append(spawn(pipeline, num_words, args, python, backend))
    header = (f"{'pipeline':<8} {'backend':<10} {'num_words':>9} {'wall s':>8} {'peak RSS MB':>12} {'epochs':>6} "
              f"{'best':>4} {'val acc':>8} {'test acc':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        epochs = "-" if row["epochs"] is None else row["epochs"]
        best = "-" if row["best_epoch"] is None else row["best_epoch"]
        val = "-" if row["val_accuracy"] is None else f"{row['val_accuracy']:.4f}"
        print(f"{row['pipeline']:<8} {row['backend']:<10} {row['num_words']:>9} {row['seconds']:>8.1f} "
              f"{row['peak_rss_mb']:>12.0f} {epochs:>6} {best:>4} {val:>8} {row['test_accuracy']:>8.4f}")
    gb = naive_gb(num_reviews, args.large_words)
    print(f"{'naive':<8} {first_backend:<10} {args.large_words:>9}   skipped: needs {gb:.1f} GB for its float64 train + "
          f"test matrices ({gb / 2:.1f} GB per split)")
    naive = rows[0]
    tfidf = [r for r in rows if r["pipeline"] == "tfidf"]
    for backend, _ in backends:
        nb = next(r for r in rows if r["pipeline"] == "nb" and r["backend"] == backend)
        if tfidf:
            verdict = "above" if nb["test_accuracy"] > tfidf[0]["test_accuracy"] else "NOT above"
            print(f"{backend}: the NB-weighted unigram model {nb['test_accuracy']:.4f} in {nb['seconds']:.1f} s, "
                  f"{verdict} TF-IDF + logistic regression {tfidf[0]['test_accuracy']:.4f} "
                  f"(C={tfidf[0]['C']:g}, chosen on the validation split)")
        ours = [r for r in rows if r["pipeline"] == "ours" and r["backend"] == backend]
        small = [r for r in ours if r["num_words"] == 10000]
        large = next(r for r in ours if r["num_words"] == args.large_words)
        seconds = sum(r["seconds"] for r in small) / len(small)  # the mean of the 10,000-word runs
        print(f"{backend}: ours/naive wall time at 10000 words {seconds / naive['seconds']:.2f}; "
              f"{args.large_words} / 10000 words {large['seconds'] / seconds:.2f}"
              + (" (10000: the mean of its two runs)" if len(small) > 1 else ""))
        if args.repeat:
            first, second = small[0]["test_accuracy"], small[1]["test_accuracy"]
            verdict = "repeats" if f"{first:.4f}" == f"{second:.4f}" else "DIFFERS"
            print(f"{backend}: same seed twice: test accuracy {first:.4f} and {second:.4f} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
