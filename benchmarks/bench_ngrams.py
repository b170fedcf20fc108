"""Benchmark: the NBSVM-style bag-of-n-grams Keras model against the lab's unigram model and published NBSVM.

Run (about 2-3 minutes on 2 cores with a warm data cache; add --trigrams for one more row):

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz \\
        python benchmarks/bench_ngrams.py

Each model runs in its own subprocess, so its seconds are end to end (Python
start, imports, loading the data from the warm cache, featurizing, training,
evaluating on the test split) and its peak RSS (getrusage ru_maxrss of the
child) is its own. The n-gram model's vocabulary, naive-Bayes ratios and
early stopping use the training reviews only (20 % held out for validation;
the model keeps the best epoch's weights, trained without those 20 %).
Timings on a shared machine are noisy.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

RESULT_PREFIX = "RESULT "
PUBLISHED = [("NBSVM-bigram (Wang & Manning 2012, published)", 0.9122)]


def peak_rss_mb():
    """Return this process's peak resident set size in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_unigram(args):
    """Train the lab's reference model (10,000-word multi-hot, Dense 16-16); return its test accuracy."""
    from imdb_lab.data.loading import load_flat
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.training import evaluate, set_seed, train

    train_reviews, test_reviews = load_flat(num_words=10000)
    set_seed(args.seed)
    model = build_model(10000)
    train(model, train_reviews, train_reviews.labels, num_words=10000, num_epochs=20, batch_size=512,
          seed=args.seed, verbose=0)
    return evaluate(model, test_reviews, test_reviews.labels, num_words=10000)[1]


def run_ngrams(args):
    """Train the n-gram model (``args.ngrams``); return its test accuracy."""
    from imdb_lab.data.loading import load_flat
    from imdb_lab.models.ngram import train_ngram_model

    train_reviews, test_reviews = load_flat(num_words=args.num_words)
    _, _, accuracy, _ = train_ngram_model(train_reviews, test_reviews, num_words=args.num_words,
                                          ngrams=args.ngrams, seed=args.seed, verbose=0)
    return accuracy


def child(args):
    """Run one model in this process and print its RESULT line."""
    start = float(os.environ.get("BENCH_START", time.time()))
    try:
        accuracy = run_unigram(args) if args.model == "unigram" else run_ngrams(args)
    except ImportError as error:  # the unigram pipeline may not be there yet
        print(RESULT_PREFIX + json.dumps({"skipped": str(error)}), flush=True)
        return
    print(RESULT_PREFIX + json.dumps({"accuracy": accuracy, "seconds": time.time() - start,
                                      "peak_rss_mb": peak_rss_mb()}), flush=True)


def measure(model, args, ngrams=2):
    """Run ``model`` in a subprocess; return its RESULT dict (or an error)."""
    command = [sys.executable, __file__, "--child", model, "--ngrams", str(ngrams),
               "--num-words", str(args.num_words), "--seed", str(args.seed)]
    env = dict(os.environ, BENCH_START=repr(time.time()), TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    return {"skipped": f"failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}


def main(argv=None):
    """Parse the arguments, run the models, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-words", type=int, default=30000, help="unigram vocabulary of the n-gram model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trigrams", action="store_true", help="also run the uni+bi+trigram model")
    parser.add_argument("--skip-unigram", action="store_true", help="do not run the lab's unigram model")
    parser.add_argument("--child", choices=["unigram", "ngrams"], help=argparse.SUPPRESS)
    parser.add_argument("--ngrams", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.model = args.child
        child(args)
        return 0
    if not os.environ.get("IMDB_LAB_DATA"):
        parser.error("set IMDB_LAB_DATA to aclImdb_v1.tar.gz (see the command at the top of this file)")
    rows = []
    if args.skip_unigram:
        rows.append(("lab unigram model (10,000 words, Dense 16-16)", {"skipped": "not run (--skip-unigram)"}))
    else:
        rows.append(("lab unigram model (10,000 words, Dense 16-16)", measure("unigram", args)))
    rows.append((f"NBSVM-style Keras, uni+bigrams ({args.num_words:,} words)", measure("ngrams", args, 2)))
    if args.trigrams:
        rows.append((f"NBSVM-style Keras, uni+bi+trigrams ({args.num_words:,} words)", measure("ngrams", args, 3)))
    print(f"{'model':<58} {'test acc':>8} {'seconds':>8} {'peak RSS':>10}")
    for name, result in rows:
        if "accuracy" in result:
            print(f"{name:<58} {result['accuracy']:>8.4f} {result['seconds']:>8.1f} "
                  f"{result['peak_rss_mb']:>7.0f} MB")
        else:
            print(f"{name:<58} {'-':>8} {'-':>8} {'-':>10}  {result['skipped']}")
    for name, accuracy in PUBLISHED:
        print(f"{name:<58} {accuracy:>8.4f} {'-':>8} {'-':>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
