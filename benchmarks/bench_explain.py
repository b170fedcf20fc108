"""How faithful and how fast ``imdb_lab.explain`` is: deleting the words it ranks first moves the prediction most.

    IMDB_LAB_DATA=/path/to/aclImdb_v1.tar.gz python benchmarks/bench_explain.py [--reviews 1000] [--lime 50]

Trains the lab's model (10,000 words, seed 42, as ``imdb-lab train``), then,
for each of the first ``--reviews`` test reviews, explains its prediction and
deletes from the review (switches off the columns of) the k = 1, 3, 5 words
that pushed it most towards the class the model predicts, and separately k
random words of the review. "Comprehensiveness" (ERASER, DeYoung et al.
2020) is how far the probability of the predicted class falls: the deletion
of the top words should move it far more than a random deletion. Reported:
the mean fall for both, the share of reviews where the top-k deletion moves
it more than the random one, and the seconds per explanation.

``--lime N`` also explains the first N reviews with LIME's text explainer
(``pip install lime``; 5,000 samples, its default) and deletes its top words
the same way, as a side-by-side. The backend is ``KERAS_BACKEND``'s.
"""

import argparse
import statistics
import sys
import time

import numpy as np

KS = (1, 3, 5)


def train_model(num_words, seed):
    """Return the lab's model trained as ``imdb-lab train`` trains it, and the test reviews."""
    from imdb_lab.data.loading import load_flat
    from imdb_lab.models.dense import build_model
    from imdb_lab.models.training import evaluate, set_seed, train

    train_reviews, test_reviews = load_flat(num_words=num_words)
    set_seed(seed)
    model = build_model(num_words)
    train(model, train_reviews, train_reviews.labels, num_words=num_words, seed=seed, verbose=0)
    _, accuracy = evaluate(model, test_reviews, test_reviews.labels, num_words=num_words)
    return model, test_reviews, accuracy


def deletions(model, review, width, ranked, rng):
    """Return {k: (fall with the top k of ``ranked`` deleted, fall with k random words of it deleted)}."""
    from imdb_lab.models.explaining import probabilities_of_rows

    base = np.zeros(width, dtype="float32")
    base[review] = 1.0
    words = list(ranked)
    every = sorted(set(review) - {1, 2})  # the review's words, without the marks [START] and [OOV]
    rows, keys = [base], []
    for k in KS:
        if len(words) < k:
            continue
        for kind, chosen in (("top", words[:k]), ("random", rng.choice(every, size=k, replace=False))):
            row = base.copy()
            row[list(chosen)] = 0.0
            rows.append(row)
            keys.append((k, kind))
    p = probabilities_of_rows(model, np.stack(rows))
    sign = 1.0 if p[0] > 0.5 else -1.0  # the fall of the predicted class's probability
    falls = {key: sign * (p[0] - value) for key, value in zip(keys, p[1:], strict=True)}
    return {k: (falls[(k, "top")], falls[(k, "random")]) for k in KS if (k, "top") in falls}


def ours(model, reviews, width, rng):
    """Return (per-k falls, seconds per explanation) of imdb_lab's explanations."""
    from imdb_lab.models.explaining import word_contributions

    results, seconds = {k: [] for k in KS}, []
    for review in reviews:
        start = time.perf_counter()
        probability, contributions = word_contributions(model, review)
        seconds.append(time.perf_counter() - start)
        sign = 1.0 if probability > 0.5 else -1.0
        ranked = sorted(contributions, key=lambda index: -sign * contributions[index])
        for k, pair in deletions(model, review, width, ranked, rng).items():
            results[k].append(pair)
    return results, seconds


def lime(model, reviews, width, rng, word_index, num_words):
    """Return (per-k falls, seconds per explanation) of LIME's text explanations, or None without lime."""
    try:
        from lime.lime_text import LimeTextExplainer
    except ImportError:
        print("lime is not installed: the LIME side-by-side is skipped (pip install lime)", file=sys.stderr)
        return None
    from imdb_lab.data.text import decode_review, encode_review
    from imdb_lab.features.multi_hot import multi_hot_encode
    from imdb_lab.models.outputs import positive_probability

    def classify(texts):
        rows = multi_hot_encode([encode_review(t, word_index, num_words=num_words) for t in texts], width)
        positive = positive_probability(model, model.predict(rows, batch_size=1024, verbose=0))
        return np.stack([1 - positive, positive], axis=1)

    explainer = LimeTextExplainer(class_names=["negative", "positive"], random_state=0)
    results, seconds = {k: [] for k in KS}, []
    for review in reviews:
        # the review as words, without the marks (LIME perturbs words of a text)
        text = " ".join(w for w in decode_review(review, word_index).split() if not w.startswith("["))
        start = time.perf_counter()
        explanation = explainer.explain_instance(text, classify, num_features=max(KS), labels=(1,))
        seconds.append(time.perf_counter() - start)
        sign = 1.0 if classify([text])[0, 1] > 0.5 else -1.0
        weights = sorted(explanation.as_list(label=1), key=lambda pair: -sign * pair[1])
        ranked = [index for word, _ in weights for index in encode_review(word, word_index, num_words=num_words,
                                                                          start_char=None, oov_char=None)]
        for k, pair in deletions(model, review, width, ranked, rng).items():
            results[k].append(pair)
    return results, seconds


def report(name, results, seconds):
    """Print one method's rows: per k, the mean falls, how often top beats random; then its time."""
    for k in KS:
        pairs = np.asarray(results[k])
        top, random = pairs[:, 0], pairs[:, 1]
        print(f"{name:<8} {k:>2} {len(pairs):>8} {top.mean():>10.4f} {random.mean():>11.4f} "
              f"{(top > random).mean():>11.1%}")
    per_review = [s * 1000 for s in seconds]
    print(f"{name:<8} time per explanation: mean {statistics.mean(per_review):.1f} ms, median "
          f"{statistics.median(per_review):.1f} ms, slowest {max(per_review):.1f} ms ({len(per_review)} reviews)")


def main(argv=None):
    """Train, explain, delete, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=1000, help="test reviews to explain (default: 1000)")
    parser.add_argument("--lime", type=int, default=0, metavar="N", help="also explain N reviews with LIME")
    parser.add_argument("--num-words", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    from imdb_lab.backend import choose_backend

    backend = choose_backend()
    from imdb_lab.data.sources import get_word_index

    started = time.perf_counter()
    model, test, accuracy = train_model(args.num_words, args.seed)
    print(f"trained on {backend} in {time.perf_counter() - started:.1f} s: test accuracy {accuracy:.4f}",
          file=sys.stderr)
    reviews = [review for review in test.take(np.arange(args.reviews)).sequences()]
    rng = np.random.default_rng(0)
    print(f"{'method':<8} {'k':>2} {'reviews':>8} {'top-k fall':>10} {'random fall':>10} {'top > random':>11}")
    report("explain", *ours(model, reviews, args.num_words, rng))
    if args.lime:
        found = lime(model, reviews[:args.lime], args.num_words, rng, get_word_index(), args.num_words)
        if found is not None:
            report("LIME", *found)
            report(f"explain, the same {args.lime}", *ours(model, reviews[:args.lime], args.num_words, rng))
    return 0


if __name__ == "__main__":
    sys.exit(main())
