"""Tests of imdb_lab.word_ids: the word-id twin computes the Dense model exactly, at the cost of the words present."""

import numpy as np
import pytest

from imdb_lab.encoding import multi_hot_encode
from imdb_lab.model import build_model
from imdb_lab.word_ids import (BUCKET_WIDTHS, bucket_width, can_twin, distinct_word_ids, twin_of, word_id_feed,
                               word_id_twin)

NUM_WORDS = 40


def random_reviews(n, seed, longest=60):
    rng = np.random.default_rng(seed)
    return ([rng.integers(0, NUM_WORDS, size=rng.integers(0, longest)).tolist() for _ in range(n)],
            rng.integers(0, 2, n))


def varied_reviews(n, seed):
    """Reviews of 1 to 300 distinct words (of 1,000), so that batches fall in several length buckets."""
    rng = np.random.default_rng(seed)
    return ([rng.choice(1000, size=rng.integers(1, 300), replace=False).tolist() for _ in range(n)],
            rng.integers(0, 2, n))


def epoch(feed):
    """Return the batches of one epoch as (x, y, the reviews' rows)."""
    size = feed.batch_size
    return [(*feed[i], feed._order[i * size:(i + 1) * size]) for i in range(len(feed))]


def test_distinct_word_ids_are_the_multi_hot_columns():
    reviews, labels = random_reviews(50, 0)
    ids = distinct_word_ids(reviews, NUM_WORDS)
    for i, review in enumerate(reviews):  # reference: a plain set per review
        assert ids.tokens[ids.offsets[i]:ids.offsets[i + 1]].tolist() == sorted(set(review))
    with pytest.raises(ValueError, match="word index 40 does not fit num_words=40"):
        distinct_word_ids([[1, 40]], NUM_WORDS)


def test_the_twin_computes_the_dense_model_and_its_loss():
    import keras

    keras.utils.set_random_seed(3)
    model = build_model(NUM_WORDS, hidden_units=(8, 4), dropout=0.5, l2=1e-3)
    # non-zero biases, so that a forgotten bias would show
    model.set_weights([w + 0.1 for w in model.get_weights()])
    reviews, labels = random_reviews(100, 1)
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
    reviews, labels = random_reviews(64, 2)
    word_id_twin(model).fit(word_id_feed(reviews, labels, num_words=NUM_WORDS, batch_size=16), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_only_a_sequential_starting_with_dense_has_a_twin():
    import keras

    assert can_twin(build_model(NUM_WORDS))
    inputs = keras.Input((NUM_WORDS,))
    functional = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    assert not can_twin(functional)
    with pytest.raises(ValueError, match="the word-id twin needs a keras.Sequential whose first layer is Dense"):
        word_id_twin(functional)


@pytest.mark.parametrize("length, width", [(0, 256), (1, 256), (256, 256), (257, 1024), (4096, 4096), (5000, 8192)])
def test_bucket_width(length, width):
    assert bucket_width(length) == width


@pytest.mark.parametrize("length, width", [(0, 8), (1, 8), (8, 8), (9, 16), (130, 136), (5000, 5000)])
def test_tight_width(length, width):
    assert bucket_width(length, few_shapes=False) == width


@pytest.mark.parametrize("few_shapes", [True, False])
def test_training_batches_hold_every_review_once_as_its_distinct_ids_padded_to_a_bucket(few_shapes):
    reviews, labels = varied_reviews(1000, 4)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=7, few_shapes=few_shapes)
    for _ in range(2):  # two epochs, each drawn anew
        seen = []
        for number, (x, y, rows) in enumerate(epoch(feed)):
            needed = bucket_width(max(len(set(reviews[r])) for r in rows), few_shapes)
            # the second batch may be padded wider (see the next assertion)
            assert x.shape[1] == needed or number == 1 and x.shape[1] > needed
            assert x.shape[1] in BUCKET_WIDTHS if few_shapes else x.shape[1] % 8 == 0
            for row, review in zip(x, rows):  # reference: a set per review, then zeros
                ids = sorted(set(reviews[review]))
                assert row[:len(ids)].tolist() == [i + 1 for i in ids] and not row[len(ids):].any()
            assert y.tolist() == labels[rows].tolist()
            seen.extend(rows.tolist())
        assert sorted(seen) == list(range(1000))
        feed.on_epoch_end()
    widths = [x.shape[1] for x, _, _ in epoch(feed)]
    assert widths[0] != widths[1]  # TensorFlow takes the feed's shape from its first two batches
    # padded to buckets of similar reviews: far fewer ids than padding every batch to the longest review
    assert sum(widths) < 0.6 * len(widths) * max(widths)
    if not few_shapes:  # and tightly: batches of similar lengths, padded by at most 7 more than the longest
        assert sum(widths) < 1.1 * sum(bucket_width(max(len(set(reviews[r])) for r in rows), False)
                                       for _, _, rows in epoch(feed))


def test_the_feed_pads_to_few_shapes_on_jax_only():
    import keras

    reviews, labels = varied_reviews(200, 6)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=1)
    assert feed.few_shapes == (keras.backend.backend() == "jax")


def test_same_seed_same_batches():
    reviews, labels = varied_reviews(300, 5)
    first, second = (word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=1)
                     for _ in range(2))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(epoch(first), epoch(second)))


def test_evaluation_batches_are_sorted_and_prediction_keeps_the_order():
    reviews, labels = varied_reviews(200, 6)
    lengths = [len(set(review)) for review in reviews]
    evaluation = word_id_feed(reviews, labels, num_words=1000, batch_size=32, sort=True)
    rows = np.concatenate([r for _, _, r in epoch(evaluation)])
    assert sorted(rows.tolist()) == list(range(200))
    longest = bucket_width(max(lengths), evaluation.few_shapes)
    assert {x.shape[1] for x, _, _ in epoch(evaluation)} != {longest}
    prediction = word_id_feed(reviews, num_words=1000, batch_size=32)
    assert prediction._order is None
    assert {prediction[i][0].shape[1] for i in range(len(prediction))} == {longest}


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
    for ours, theirs in zip(dense.get_weights(), reference.get_weights()):
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
