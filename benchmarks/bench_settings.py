"""Benchmark: what each setting of the notebook's model changes, one at a time (section 8's table of the notebook).

Run (about 15 s a row and seed on 2 cores, with the data cache built):

    IMDB_LAB_DATA=../shared/data/aclImdb_v1_labeled.tar.gz python benchmarks/bench_settings.py
    IMDB_LAB_DATA=... python benchmarks/bench_settings.py --row none --row "constant 5e-4" --seed 42 --seed 1 --seed 2

Every row changes one thing from the notebook's settings (10,000 words,
``skip_top=0``, the network of ``imdb_lab.build_model``: two Dense(16) layers
with Dropout(0.5) and L2(1e-4), RMSprop from 2e-3, times 0.7 after each
epoch; batches of 512, early stopping on the validation loss with patience 2
and ``min_delta=1e-3``) and trains as section 8 says:
``build_model``, then ``train`` (a seeded random 20 % validation split of the
training reviews, multi-hot batches from a ``MultiHotSequence``, at most 20
epochs), then one ``evaluate`` on the test reviews; with ``--as-notebook``, as
sections 5 and 6 do instead (``model.fit`` on the rows with
``validation_split=0.2``, then ``evaluate`` from a feed). Each row and seed prints
the epochs run, the last epoch's training accuracy, the best validation
accuracy and the test accuracy, on the backend Keras runs on
(``KERAS_BACKEND``).
"""

import argparse
import os
import time

NUM_WORDS, SKIP_TOP, DROPOUT, L2, MIN_DELTA = 10000, 0, 0.5, 1e-4, 1e-3  # the notebook's (and train's) settings
# one change at a time from the notebook's settings: {row name: build_model/load_data arguments, and early
# stopping's min_delta}; the learning-rate rows are the ones "Measured choices" (README) chose among
ROWS = {
    "none": {},
    "skip_top=20": {"skip_top": 20},
    "skip_top=104": {"skip_top": 104},
    "num_words=1000": {"num_words": 1000},
    "num_words=5000": {"num_words": 5000},
    "num_words=30000": {"num_words": 30000},
    "Dropout(0.3)": {"dropout": 0.3},
    "no dropout": {"dropout": 0.0},
    "L2(1e-3)": {"l2": 1e-3},
    "no L2": {"l2": None},
    "neither dropout nor L2": {"dropout": 0.0, "l2": None},
    "constant 5e-4": {"learning_rate": 5e-4, "decay_rate": 1.0},
    "constant 1e-3": {"learning_rate": 1e-3, "decay_rate": 1.0},
    "constant 2e-3": {"learning_rate": 2e-3, "decay_rate": 1.0},
    "constant 5e-4, min_delta 0": {"learning_rate": 5e-4, "decay_rate": 1.0, "min_delta": 0.0},
    "constant 1e-3, min_delta 0": {"learning_rate": 1e-3, "decay_rate": 1.0, "min_delta": 0.0},
    "min_delta 0": {"min_delta": 0.0},
    "2e-3 x 0.6 an epoch": {"decay_rate": 0.6},
    "3e-3 x 0.6 an epoch": {"learning_rate": 3e-3, "decay_rate": 0.6},
}


def fit_as_the_notebook_does(model, x_train, y_train, x_test, y_test, num_words, num_epochs, min_delta):
    """Train as sections 5 and 6 do (``fit`` on the training rows, the last 20 % validating); return the History
    and the test accuracy."""
    import keras

    from imdb_lab import MultiHotSequence, multi_hot_encode

    x_train_hot = multi_hot_encode(x_train, num_words, dtype="uint8")
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=min_delta, patience=2,
                                                   restore_best_weights=True)
    history = model.fit(x_train_hot, y_train, validation_split=0.2, epochs=num_epochs, batch_size=512,
                        callbacks=[early_stopping, keras.callbacks.TerminateOnNaN()], verbose=0)
    del x_train_hot
    test_feed = MultiHotSequence(x_test, y_test, num_words=num_words, batch_size=512)
    return history, model.evaluate(test_feed, verbose=0)[1]


def run(row, seed, num_epochs, as_notebook=False):
    """Train and evaluate one row with one seed (``train``, or as the notebook does); return its figures."""
    from imdb_lab import build_model, load_data, set_seed, train
    from imdb_lab.models.training import evaluate

    settings = {"num_words": NUM_WORDS, "skip_top": SKIP_TOP, "dropout": DROPOUT, "l2": L2, **ROWS[row]}
    num_words, min_delta = settings.pop("num_words"), settings.pop("min_delta", MIN_DELTA)
    (x_train, y_train), (x_test, y_test) = load_data(num_words=num_words, skip_top=settings.pop("skip_top"))
    started = time.perf_counter()
    set_seed(seed)
    model = build_model(num_words, **settings)
    if as_notebook:
        history, test_accuracy = fit_as_the_notebook_does(model, x_train, y_train, x_test, y_test, num_words,
                                                          num_epochs, min_delta)
    else:
        history = train(model, x_train, y_train, num_words=num_words, num_epochs=num_epochs, batch_size=512,
                        seed=seed, min_delta=min_delta, verbose=0)
        _, test_accuracy = evaluate(model, x_test, y_test, num_words=num_words)
    logs = history.history
    return {"epochs": len(logs["loss"]), "train": logs["accuracy"][-1], "validation": max(logs["val_accuracy"]),
            "val_loss": min(logs["val_loss"]),
            "test": test_accuracy, "seconds": time.perf_counter() - started}


def main(argv=None):
    """Run the rows asked for (default: all) with each seed, and print one line per run, then the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", action="append", choices=list(ROWS), help="a row to run (repeat; default: all)")
    parser.add_argument("--seed", action="append", type=int, help="a seed (repeat; default: 42)")
    parser.add_argument("--num-epochs", type=int, default=20, help="the most epochs a run trains (default 20)")
    parser.add_argument("--as-notebook", action="store_true",
                        help="train as sections 5 and 6 do: model.fit on the multi-hot rows with validation_split=0.2 "
                             "(the last 20 %%), then evaluate from a feed of the test reviews")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from imdb_lab import choose_backend

    backend = choose_backend()
    seeds = args.seed or [42]
    print(f"backend {backend}; seeds {seeds}; trained {'as the notebook does' if args.as_notebook else 'by train()'}")
    print(f"{'change (one at a time)':<28}{'seed':>6}{'epochs':>8}{'training':>10}{'best val':>10}{'val loss':>10}"
          f"{'test':>9}{'seconds':>9}")
    for row in args.row or list(ROWS):
        results = []
        for seed in seeds:
            result = run(row, seed, args.num_epochs, args.as_notebook)
            results.append(result)
            print(f"{row:<28}{seed:>6}{result['epochs']:>8}{result['train']:>10.3f}{result['validation']:>10.4f}"
                  f"{result['val_loss']:>10.4f}{result['test']:>9.4f}{result['seconds']:>9.1f}", flush=True)
        if len(results) > 1:
            def mean(key, results=results):
                return sum(result[key] for result in results) / len(results)

            test = [result["test"] for result in results]
            # choose on the validation columns; the test column is reported, never chosen on
            print(f"{row:<28}{'mean':>6}{mean('epochs'):>8.1f}{'':>10}{mean('validation'):>10.4f}"
                  f"{mean('val_loss'):>10.4f}{mean('test'):>9.4f}{mean('seconds'):>9.1f}  (test min "
                  f"{min(test):.4f}, max {max(test):.4f})", flush=True)

if __name__ == "__main__":
    main()
