"""Benchmark: ``imdb-lab train`` against the naive dense float64 recipe, as a user waits for each, on each backend.

Run (about 5 minutes a backend on 2 cores; the data cache is built first, ~10 s cold):

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_training.py --repeat \\
        --backend tensorflow --backend jax=/path/to/jax-venv/bin/python --backend torch=/path/to/torch-venv/bin/python
    IMDB_LAB_DATA=... python benchmarks/bench_training.py --phases        # where the time of ours goes
    IMDB_LAB_DATA=... python benchmarks/bench_training.py --seeds 0,1,2,3,4 --skip-peers   # steadiness over seeds

Every row is its own process; its wall time is measured here, from the
process's start to its exit (importing Keras and loading the reviews
included, as a user waits for them), and its peak RSS is the child's own
(``os.wait4``):

- ours:  ``python -m imdb_lab train --seed S`` at 10,000 words (multi-hot batches) and at 88,000 (the word-id
  twin), on each backend asked for; with ``--seeds``, also at 10,000 words for each of those seeds;
- nb:    the going-further unigram variant, ``imdb-lab train --nb``, on each backend;
- naive: the recipe a learner copies from Deep Learning with Python: ``import keras`` with its backend's defaults,
  ``load_data`` lists, ``vectorize_sequences`` (np.zeros((n, num_words)) float64 for train, validation and test),
  ``model.fit`` on the arrays, ``model.evaluate``; the same model (``build_model``), validation split, seed and
  early stopping as ours, so that the ratio measures the pipeline, not the model (on the first backend);
- tfidf: scikit-learn's TF-IDF (sublinear tf) + logistic regression on the same 10,000-word sequences, the
  practitioner's peer (benchmarks/requirements.txt); its C is chosen on the same validation split, then it is
  fitted on every training review, as the nb variant is.

At 88,000 words the naive recipe is not run but reported as the memory its
matrices alone would need. ``--repeat`` runs ours at 10,000 words a second time,
after the large vocabulary, with the same seed, to show that the test accuracy
repeats; the ratios then take the mean of the two. ``--phases`` instead runs
ours in one process on each backend and prints where its time goes: importing
Keras, loading, each epoch's training steps and validation, the evaluation on
the test reviews, saving.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

RESULT_PREFIX = "RESULT "
# the TF-IDF peer's inverse regularization strengths, one chosen on the validation split (sklearn's default: 1)
TFIDF_CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SMALL_WORDS = 10000


def vectorize_sequences(sequences, dimension):
    """The classic recipe (Deep Learning with Python, 1st edition): a dense float64 0/1 matrix."""
    import numpy as np

    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


def run_naive(args):
    """Train with load_data lists + dense float64 matrices, as the recipe does; return the measurements."""
    import keras  # first, with the backend's defaults: the recipe knows nothing of imdb_lab.choose_backend

    from imdb_lab.data.loading import load_data
    from imdb_lab.data.reviews import split_validation
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.training import MIN_DELTA, PATIENCE, best_epoch, set_seed

    (x_train, y_train), (x_test, y_test) = load_data(num_words=args.num_words)
    set_seed(args.seed)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, 0.2, seed=args.seed)
    x_fit, x_val = vectorize_sequences(x_fit, args.num_words), vectorize_sequences(x_val, args.num_words)
    x_test = vectorize_sequences(x_test, args.num_words)
    model = build_model(args.num_words)
    # early stopping as train() stops
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, min_delta=MIN_DELTA,
                                         restore_best_weights=True)
    history = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=args.num_epochs,
                        batch_size=args.batch_size, callbacks=[stop], verbose=0)
    test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0, return_dict=True)["accuracy"]
    best = best_epoch(history, min_delta=MIN_DELTA)
    return {"epochs": len(history.history["loss"]), "val_accuracy": history.history["val_accuracy"][best],
            "test_accuracy": test_accuracy}


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
    return {"epochs": None, "val_accuracy": scores[best_c], "test_accuracy": test_accuracy, "C": best_c}


def run_phases(args):
    """Run ours as ``imdb-lab train`` does, in this process, timing each phase; return the measurements."""
    started = time.perf_counter()
    from imdb_lab.backend import choose_backend
    from imdb_lab.cli import build_parser
    from imdb_lab.commands import train as command

    options = build_parser().parse_args(["train", "--seed", str(args.seed), "--num-words", str(args.num_words),
                                         "--output", os.path.join(args.folder, "model.keras")])
    command.check_arguments(options)
    choose_backend(low_memory=False)  # as the command line does
    import keras

    from imdb_lab.models import training

    imported = time.perf_counter()
    train, test = command.load_reviews(options)
    loaded = time.perf_counter()
    epochs, evaluation = [], []

    class EpochTimes(keras.callbacks.Callback):
        """Record each epoch's training steps and validation, in seconds."""

        def on_epoch_begin(self, epoch, logs=None):
            self.begun = time.perf_counter()

        def on_test_begin(self, logs=None):
            self.validating = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            epochs.append((self.validating - self.begun, now - self.validating))

    def timed(function):
        def call(*arguments, **keywords):
            begun = time.perf_counter()
            try:
                return function(*arguments, **keywords)
            finally:
                evaluation.append(time.perf_counter() - begun)
        return call

    # the command's own evaluation, timed where fit_model calls it
    training.evaluate_accuracy = timed(training.evaluate_accuracy)
    model, val_accuracy, test_accuracy, _ = command.fit_model(options, train, test, callbacks=[EpochTimes()])
    fitted = time.perf_counter()
    command.save(options, model)
    saved = time.perf_counter()
    steps, validation = sum(s for s, _ in epochs), sum(v for _, v in epochs)
    return {"epochs": len(epochs), "val_accuracy": val_accuracy, "test_accuracy": test_accuracy,
            "phases": {"import Keras": imported - started, "load the reviews": loaded - imported,
                       "training steps": steps, "validation": validation,
                       "evaluate on the test reviews": sum(evaluation),
                       "seed, build, restore the best weights": fitted - loaded - sum(evaluation) - steps - validation,
                       "save": saved - fitted},
            "per_epoch": epochs}


def child(args):
    """Run one in-process configuration and print its result as one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run = {"naive": run_naive, "tfidf": run_tfidf, "phases": run_phases}[args.child]
    result = run(args)
    backend = sys.modules["keras"].backend.backend() if "keras" in sys.modules else "-"
    print(RESULT_PREFIX + json.dumps({"backend": backend, **result}), flush=True)
    return 0


def run_process(command, env):
    """Run ``command`` to its end; return ``(wall seconds, peak RSS MB, exit code, stdout, stderr)``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage: its peak RSS, not the largest child's
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return seconds, usage.ru_maxrss / 1024, process.returncode, out.read(), err.read()


def parse_train_output(stdout):
    """Return the epochs, validation and test accuracy that ``imdb-lab train`` printed."""
    found = {name: re.search(rf"^{name} accuracy: ([0-9.]+)", stdout, re.MULTILINE) for name in ("validation", "test")}
    if not all(found.values()):
        return None
    return {"epochs": len(re.findall(r"^Epoch \d+/\d+", stdout, re.MULTILINE)) or None,
            "val_accuracy": float(found["validation"].group(1)), "test_accuracy": float(found["test"].group(1))}


def spawn(pipeline, num_words, seed, args, python, backend, folder):
    """Run one row in a fresh process (``python``, with KERAS_BACKEND=``backend``); return its measurements."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **({"KERAS_BACKEND": backend} if backend else {}))
    common = ["--num-words", str(num_words), "--seed", str(seed)]
    if pipeline in ("ours", "nb"):
        command = [python, "-m", "imdb_lab", "train", *common, "--output", os.path.join(folder, "model.keras"),
                   *(["--nb"] if pipeline == "nb" else [])]
    else:
        command = [python, os.path.abspath(__file__), "--child", pipeline, *common, "--num-epochs",
                   str(args.num_epochs), "--batch-size", str(args.batch_size), "--folder", folder]
    seconds, peak_mb, code, stdout, stderr = run_process(command, env)
    if pipeline in ("ours", "nb"):
        result = parse_train_output(stdout) if code == 0 else None
    else:
        lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        result = json.loads(lines[-1][len(RESULT_PREFIX):]) if code == 0 and lines else None
    if result is None:
        raise RuntimeError(f"{pipeline} at {num_words} words on {backend or 'scikit-learn'} failed (exit {code}):\n"
                           f"{stdout[-2000:]}\n{stderr[-3000:]}")
    return {"pipeline": pipeline, "backend": backend or "-", "num_words": num_words, "seed": seed,
            "seconds": seconds, "peak_rss_mb": peak_mb, "C": None, **result}


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


def planned_runs(args, backends):
    """Return the rows to run, in order: ``[(pipeline, num_words, seed, backend, python), ...]``."""
    first_backend, first_python = backends[0]
    runs = [] if args.skip_peers else [("naive", SMALL_WORDS, args.seed, first_backend, first_python)]
    for backend, python in backends:
        # the repeat after the large vocabulary, so that a drift of the machine's speed weighs on both sides
        runs += [("ours", SMALL_WORDS, args.seed, backend, python)]
        runs += [] if args.skip_peers else [("ours", args.large_words, args.seed, backend, python)]
        runs += [("ours", SMALL_WORDS, args.seed, backend, python)] if args.repeat else []
        runs += [("ours", SMALL_WORDS, seed, backend, python) for seed in args.seeds if seed != args.seed]
        runs += [] if args.skip_peers else [("nb", SMALL_WORDS, args.seed, backend, python)]
    if not args.skip_peers and sklearn_available():
        runs.append(("tfidf", SMALL_WORDS, args.seed, None, sys.executable))
    elif not args.skip_peers:
        print("scikit-learn is not installed: the TF-IDF + logistic regression peer is skipped "
              "(pip install -r benchmarks/requirements.txt)", file=sys.stderr)
    return runs


def print_table(rows):
    """Print one line per row."""
    header = (f"{'pipeline':<8} {'backend':<10} {'num_words':>9} {'seed':>4} {'wall s':>7} {'peak RSS MB':>11} "
              f"{'epochs':>6} {'val acc':>8} {'test acc':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        epochs = "-" if row["epochs"] is None else row["epochs"]
        print(f"{row['pipeline']:<8} {row['backend']:<10} {row['num_words']:>9} {row['seed']:>4} "
              f"{row['seconds']:>7.1f} {row['peak_rss_mb']:>11.0f} {epochs:>6} {row['val_accuracy']:>8.4f} "
              f"{row['test_accuracy']:>8.4f}")


def print_summary(rows, args, backends, num_reviews):
    """Print the ratios: ours against the naive recipe, 88,000 words against 10,000, and the seeds' accuracies."""
    if not args.skip_peers:
        gb = naive_gb(num_reviews, args.large_words)
        print(f"{'naive':<8} {backends[0][0]:<10} {args.large_words:>9}   skipped: needs {gb:.1f} GB for its float64 "
              f"train + test matrices ({gb / 2:.1f} GB per split)")
    naive = next((r for r in rows if r["pipeline"] == "naive"), None)
    tfidf = next((r for r in rows if r["pipeline"] == "tfidf"), None)
    for backend, _ in backends:
        ours = [r for r in rows if r["pipeline"] == "ours" and r["backend"] == backend]
        small = [r for r in ours if r["num_words"] == SMALL_WORDS and r["seed"] == args.seed]
        seconds = sum(r["seconds"] for r in small) / len(small)  # the mean of the 10,000-word runs
        mean = " (the mean of its two runs)" if len(small) > 1 else ""
        if naive:
            print(f"{backend}: ours / naive wall time at {SMALL_WORDS} words: {seconds / naive['seconds']:.2f} "
                  f"({seconds:.1f} s{mean} against {naive['seconds']:.1f} s on {naive['backend']})")
        large = next((r for r in ours if r["num_words"] == args.large_words), None)
        if large:
            print(f"{backend}: {args.large_words} / {SMALL_WORDS} words wall time: {large['seconds'] / seconds:.2f}")
        if len(small) > 1:
            first, second = small[0]["test_accuracy"], small[1]["test_accuracy"]
            verdict = "repeats" if f"{first:.4f}" == f"{second:.4f}" else "DIFFERS"
            print(f"{backend}: same seed twice: test accuracy {first:.4f} and {second:.4f} ({verdict})")
        by_seed = {r["seed"]: r["test_accuracy"] for r in ours if r["num_words"] == SMALL_WORDS}
        if len(by_seed) > 1:
            print(f"{backend}: test accuracy by seed: "
                  + ", ".join(f"{seed}: {accuracy:.4f}" for seed, accuracy in sorted(by_seed.items()))
                  + f" (min {min(by_seed.values()):.4f})")
        nb = next((r for r in rows if r["pipeline"] == "nb" and r["backend"] == backend), None)
        if nb and tfidf:
            verdict = "above" if nb["test_accuracy"] > tfidf["test_accuracy"] else "NOT above"
            print(f"{backend}: the NB-weighted unigram model {nb['test_accuracy']:.4f} in {nb['seconds']:.1f} s, "
                  f"{verdict} TF-IDF + logistic regression {tfidf['test_accuracy']:.4f} "
                  f"(C={tfidf['C']:g}, chosen on the validation split)")


def print_phases(args, backends, folder):
    """Run ours in one process per backend and print where its time goes."""
    for backend, python in backends:
        row = spawn("phases", args.num_words, args.seed, args, python, backend, folder)
        total = row["seconds"]
        print(f"{backend}: imdb-lab train --seed {args.seed} --num-words {args.num_words}: {total:.1f} s, "
              f"{row['epochs']} epochs, test accuracy {row['test_accuracy']:.4f}, peak RSS {row['peak_rss_mb']:.0f} MB")
        for phase, seconds in row["phases"].items():
            print(f"  {phase:<36} {seconds:>6.1f} s")
        print(f"  {'Python start-up and the rest':<36} {total - sum(row['phases'].values()):>6.1f} s")
        steps = [s for s, _ in row["per_epoch"]]
        validation = [v for _, v in row["per_epoch"]]
        print(f"  per epoch: training steps {min(steps):.2f}-{max(steps):.2f} s, validation "
              f"{min(validation):.2f}-{max(validation):.2f} s")


def main(argv=None):
    """Run every row in its own process and print a table and the ratios (or, with --phases, where time goes)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=42, help="the seed of every row (default: 42)")
    parser.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",") if s], default=[],
                        help="also run ours at 10,000 words with each of these seeds, e.g. 0,1,2,3,4")
    parser.add_argument("--repeat", action="store_true", help="run ours at 10,000 words twice with the same seed")
    parser.add_argument("--skip-peers", action="store_true",
                        help="run ours at 10,000 words only (with --seeds, --repeat): no naive, 88,000, nb, tfidf")
    parser.add_argument("--phases", action="store_true", help="where the time of ours goes, on each backend")
    parser.add_argument("--large-words", type=int, default=88000, help="the large vocabulary (default: 88000)")
    parser.add_argument("--backend", action="append", metavar="NAME[=PYTHON]",
                        help="run ours on this Keras backend, with this Python (a venv that has it); repeat for "
                             "several, e.g. --backend tensorflow --backend jax=/path/to/jax-venv/bin/python "
                             "(default: this Python's backend). The naive recipe runs on the first one.")
    parser.add_argument("--child", choices=["naive", "tfidf", "phases"], help=argparse.SUPPRESS)
    parser.add_argument("--num-words", type=int, default=SMALL_WORDS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    from imdb_lab.data.loading import load_flat
    from imdb_lab.data.sources import prepare

    prepare()  # build the encoded cache once, outside the timed children
    backends = backend_pythons(args.backend)
    with tempfile.TemporaryDirectory(prefix="bench_training-") as folder:
        if args.phases:
            print_phases(args, backends, folder)
            return 0
        rows = []
        for pipeline, num_words, seed, backend, python in planned_runs(args, backends):
            print(f"running {pipeline} at {num_words} words, seed {seed}, on {backend or 'scikit-learn'} ...",
                  file=sys.stderr, flush=True)
            rows.append(spawn(pipeline, num_words, seed, args, python, backend, folder))
    train_reviews, test_reviews = load_flat(num_words=10)
    print_table(rows)
    print_summary(rows, args, backends, len(train_reviews) + len(test_reviews))
    return 0


if __name__ == "__main__":
    sys.exit(main())
