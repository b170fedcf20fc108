"""Tests of imdb_lab.models.twin: the word-id twin computes the Dense model exactly, at the cost of its words."""

import numpy as np
import pytest

from conftest import epoch, random_word_reviews, varied_reviews
from imdb_lab.features.feeds import word_id_feed
from imdb_lab.features.multi_hot import multi_hot_encode
from imdb_lab.models.dense import build_model
from imdb_lab.models.twin import can_twin, sum_by_review, twin_of, word_id_twin

NUM_WORDS = 40


def test_the_twin_computes_the_dense_model_and_its_loss():
    import keras

    keras.utils.set_random_seed(3)
    model = build_model(NUM_WORDS, hidden_units=(8, 4), dropout=0.5, l2=1e-3)
    # non-zero biases, so that a forgotten bias would show
    model.set_weights([w + 0.1 for w in model.get_weights()])
    reviews, labels = random_word_reviews(100, 1)
    reviews[31] = reviews[-1] = []  # empty reviews ending a batch and the data: a zero multi-hot row
    twin = word_id_twin(model)
    feed = word_id_feed(reviews, num_words=NUM_WORDS, batch_size=32)
    expected = model.predict(multi_hot_encode(reviews, NUM_WORDS), verbose=0)
    np.testing.assert_allclose(twin.predict(feed, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # the loss, L2 penalty included, is the model's
    labelled = word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=32)
    twin_loss = twin.evaluate(labelled, verbose=0, return_dict=True)["loss"]
    model_loss = model.evaluate(multi_hot_encode(reviews, NUM_WORDS), labels, batch_size=32, verbose=0,
                                return_dict=True)["loss"]
    assert twin_loss == pytest.approx(model_loss, rel=1e-5)
    assert sum(float(keras.ops.convert_to_numpy(loss)) for loss in twin.losses) > 0  # the penalty is there


@pytest.mark.slow
def test_training_the_twin_trains_the_model_itself():
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(NUM_WORDS, hidden_units=(4,))
    before = [w.copy() for w in model.get_weights()]
    reviews, labels = random_word_reviews(64, 2)
    word_id_twin(model).fit(word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=16), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_only_a_sequential_starting_with_dense_has_a_twin():
    import keras

    assert can_twin(build_model(NUM_WORDS))
    inputs = keras.Input((NUM_WORDS,))
    functional = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    assert not can_twin(functional)
    with pytest.raises(ValueError, match="the word-id twin needs a keras.Sequential whose first layer is Dense"):
        word_id_twin(functional)


def test_sum_by_review_adds_each_reviews_rows_and_drops_the_padding():
    from keras import ops

    rows = np.random.default_rng(0).normal(size=(9, 3)).astype("float32")
    review_of = np.array([0, 0, 2, 2, 2, 3, 5, 5, 5], dtype=np.int32)  # reviews 1 and 4 empty; 5: padding
    sums = ops.convert_to_numpy(sum_by_review(ops.convert_to_tensor(rows), ops.convert_to_tensor(review_of), 5))
    expected = np.zeros((5, 3), dtype=np.float32)
    for row, review in zip(rows, review_of, strict=True):  # reference: a plain loop
        if review < 5:
            expected[review] += row
    np.testing.assert_allclose(sums, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_a_step_on_word_ids_is_a_step_on_multi_hot_rows():
    import keras

    reviews, labels = varied_reviews(256, 8)
    keras.utils.set_random_seed(0)
    dense = build_model(1000, hidden_units=(8,), dropout=0.0, l2=1e-3)
    reference = keras.models.clone_model(dense)
    reference.set_weights(dense.get_weights())
    for model in (dense, reference):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    twin = word_id_twin(dense)
    for x, y, rows in epoch(word_id_feed(reviews, labels, num_words=1000, batch_size=64, shuffle=True, seed=2)):
        twin.train_on_batch(x, y)
        reference.train_on_batch(multi_hot_encode([reviews[r] for r in rows], 1000), y)
    for ours, theirs in zip(dense.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_weights_set_on_the_twin_are_the_models():
    model = build_model(NUM_WORDS, hidden_units=(4,))
    twin = word_id_twin(model)
    twin.set_weights([np.full_like(w, 0.5) for w in twin.get_weights()])  # what EarlyStopping's restore does
    assert all((w == 0.5).all() for w in model.get_weights())


def test_a_model_keeps_its_twin_until_its_layers_or_compile_settings_change():
    import gc
    import weakref

    import keras

    model = build_model(NUM_WORDS, hidden_units=(4,))
    twin = twin_of(model)
    assert twin_of(model) is twin  # evaluate after train reuses the twin that train compiled
    assert twin_of(build_model(NUM_WORDS, hidden_units=(4,))) is not twin
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    recompiled = twin_of(model)
    assert recompiled is not twin and isinstance(recompiled.optimizer, keras.optimizers.SGD)
    model.pop()
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    assert twin_of(model) is not recompiled
    assert twin_of(model).layers[-1] is model.layers[-1]
    # the cache does not keep a model alive
    model_ref = weakref.ref(model)
    del model, twin, recompiled
    gc.collect()
    assert model_ref() is None


def test_the_twin_trains_with_the_models_own_optimizer():
    import keras

    model = build_model(NUM_WORDS, hidden_units=(4,))
    twin = word_id_twin(model)
    assert twin.optimizer is model.optimizer
    reviews, labels = random_word_reviews(64, 3)
    twin.fit(word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=32), epochs=1, verbose=0)
    # two steps of the twin are two steps of the model: it is seen to be trained
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2
    # compiled again with the same settings: a new optimizer, so a new twin that uses it
    model.compile(**keras.saving.deserialize_keras_object(model.get_compile_config()))
    assert twin_of(model).optimizer is model.optimizer
