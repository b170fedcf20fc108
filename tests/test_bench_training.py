"""The training benchmark's own logic: what it reads from ``imdb-lab train`` and which rows it runs."""

from types import SimpleNamespace

import pytest

from conftest import benchmark_module

# what `imdb-lab train --seed 42` prints (verbose=2), shortened
TRAIN_OUTPUT = """training the multi-hot model on 25000 reviews (10000 words), testing on 25000
Epoch 1/20
40/40 - 2s - 39ms/step - accuracy: 0.7034 - loss: 0.5702 - val_accuracy: 0.8152 - val_loss: 0.4207
Epoch 2/20
40/40 - 1s - 14ms/step - accuracy: 0.8409 - loss: 0.3988 - val_accuracy: 0.8822 - val_loss: 0.3087
Epoch 3/20
40/40 - 1s - 15ms/step - accuracy: 0.8764 - loss: 0.3300 - val_accuracy: 0.8814 - val_loss: 0.2910
saved the model to model.keras
validation accuracy: 0.8870
test accuracy: 0.8880
"""


def test_the_epochs_and_accuracies_of_imdb_lab_train_are_read_from_its_output():
    bench = benchmark_module("bench_training")
    assert bench.parse_train_output(TRAIN_OUTPUT) == {"epochs": 3, "val_accuracy": 0.887, "test_accuracy": 0.888}
    assert bench.parse_train_output(TRAIN_OUTPUT.replace("test accuracy", "test acc")) is None  # a failed run


@pytest.mark.parametrize("skip_peers, repeat, seeds, expected", [
    (False, False, [], [("naive", 10000, 42, "tensorflow"), ("ours", 10000, 42, "tensorflow"),
                        ("ours", 88000, 42, "tensorflow"), ("nb", 10000, 42, "tensorflow"),
                        ("ours", 10000, 42, "jax"), ("ours", 88000, 42, "jax"), ("nb", 10000, 42, "jax")]),
    (True, True, [0, 42, 1], [("ours", 10000, 42, "tensorflow"), ("ours", 10000, 42, "tensorflow"),
                              ("ours", 10000, 0, "tensorflow"), ("ours", 10000, 1, "tensorflow"),
                              ("ours", 10000, 42, "jax"), ("ours", 10000, 42, "jax"), ("ours", 10000, 0, "jax"),
                              ("ours", 10000, 1, "jax")]),
])
def test_the_naive_recipe_runs_once_and_ours_on_every_backend(monkeypatch, skip_peers, repeat, seeds, expected):
    bench = benchmark_module("bench_training")
    monkeypatch.setattr(bench, "sklearn_available", lambda: False)
    args = SimpleNamespace(skip_peers=skip_peers, repeat=repeat, seeds=seeds, seed=42, large_words=88000)
    runs = bench.planned_runs(args, [("tensorflow", "python-tf"), ("jax", "python-jax")])
    assert [run[:4] for run in runs] == expected
