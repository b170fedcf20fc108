"""Tests of imdb_lab.word_ids: the word-id twin computes the Dense model exactly, at the cost of the words present."""

import numpy as np
import pytest

from imdb_lab.encoding import multi_hot_encode
from imdb_lab.feeds import MultiHotSequence
from imdb_lab.model import build_model
from imdb_lab.reviews import as_flat
from imdb_lab.word_ids import (WIDTH_MULTIPLE, can_twin, distinct_word_ids, pack_word_ids, packed_width,
                               sum_by_review, twin_of, word_id_feed, word_id_twin)

NUM_WORDS = 40


def random_reviews(n, seed, longest=60):
    rng = np.random.default_rng(seed)
    return ([rng.integers(0, NUM_WORDS, size=rng.integers(0, longest)).tolist() for _ in range(n)],
            rng.integers(0, 2, n))


def varied_reviews(n, seed):
    """Reviews of 1 to 300 distinct words (of 1,000), so that batches hold different numbers of ids."""
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


@pytest.mark.parametrize("num_reviews", [1, 3, 512])
def test_packed_width_is_the_narrowest_multiple_that_leaves_room_for_padding(num_reviews):
    for num_ids in [0, 1, 31, 32, 95, 96, 97, 130 * num_reviews, 16383, 16384, 66560]:
        # reference: a plain search for the narrowest multiple of 32 with more slots than ids
        width = WIDTH_MULTIPLE
        while width * num_reviews <= num_ids:
            width += WIDTH_MULTIPLE
        assert packed_width(num_ids, num_reviews) == width


@pytest.mark.parametrize("num_ids, num_reviews", [(-1, 1), (0, 0)])
def test_packed_width_rejects_negative_ids_and_no_reviews(num_ids, num_reviews):
    with pytest.raises(ValueError, match="num_ids|num_reviews"):
        packed_width(num_ids, num_reviews)


def test_pack_word_ids_lays_the_ids_end_to_end_then_pads():
    batch = as_flat([[4, 7], [], [1, 2, 3], []])
    word_ids, review_of = pack_word_ids(batch, 2)
    assert word_ids.tolist() == [[4, 7], [1, 2], [3, 0], [0, 0]]
    assert review_of.tolist() == [[0, 0], [2, 2], [2, 4], [4, 4]]  # 4: padding, no review
    assert word_ids.dtype == review_of.dtype == np.int32
    with pytest.raises(ValueError, match="needs a width of at least 32, got 1"):
        pack_word_ids(batch, 1)  # 4 slots for 5 ids, and none left for padding


def test_sum_by_review_adds_each_reviews_rows_and_drops_the_padding():
    from keras import ops

    rows = np.random.default_rng(0).normal(size=(9, 3)).astype("float32")
    review_of = np.array([0, 0, 2, 2, 2, 3, 5, 5, 5], dtype=np.int32)  # reviews 1 and 4 empty; 5: padding
    sums = ops.convert_to_numpy(sum_by_review(ops.convert_to_tensor(rows), ops.convert_to_tensor(review_of), 5))
    expected = np.zeros((5, 3), dtype=np.float32)
    for row, review in zip(rows, review_of):  # reference: a plain loop
        if review < 5:
            expected[review] += row
    np.testing.assert_allclose(sums, expected, rtol=1e-6, atol=1e-7)


def test_training_batches_are_the_multi_hot_batches_packed():
    import keras

    reviews, labels = varied_reviews(1000, 4)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=7)
    # the same seed batches the reviews as MultiHotSequence does: the twin sees the very batches the model would
    multi_hot = MultiHotSequence(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=7)
    for _ in range(2):  # two epochs, each drawn anew
        np.testing.assert_array_equal(feed._order, multi_hot._order)
        seen = []
        for number, ((word_ids, review_of), y, rows) in enumerate(epoch(feed)):
            needed = packed_width(sum(len(set(reviews[r])) for r in rows), len(rows))
            assert word_ids.shape == review_of.shape == (len(rows), word_ids.shape[1])
            # the second batch may be padded wider on TensorFlow (see test_feeds)
            assert word_ids.shape[1] == needed or number == 1 and word_ids.shape[1] > needed
            assert word_ids.shape[1] % WIDTH_MULTIPLE == 0
            flat_ids, flat_reviews = word_ids.ravel(), review_of.ravel()
            for k, review in enumerate(rows):  # reference: a set per review
                assert flat_ids[flat_reviews == k].tolist() == sorted(set(reviews[review]))
            padding = flat_reviews == len(rows)
            # sorted, with padding at the end: TensorFlow's sorted segment sum then returns len(rows) + 1 sums
            assert padding.any() and (np.diff(flat_reviews) >= 0).all() and not flat_ids[padding].any()
            assert padding.sum() <= WIDTH_MULTIPLE * len(rows) or number == 1  # a few ids a review, not a longest
            assert y.tolist() == labels[rows].tolist()
            seen.extend(rows.tolist())
        assert sorted(seen) == list(range(1000))
        feed.on_epoch_end()
        multi_hot.on_epoch_end()
    widths = [x[0].shape[1] for x, _, _ in epoch(feed)]
    if keras.backend.backend() == "tensorflow":
        assert widths[0] != widths[1]  # TensorFlow takes the feed's shape from its first two batches


def test_same_seed_same_batches():
    reviews, labels = varied_reviews(300, 5)
    first, second = (word_id_feed(reviews, labels, num_words=1000, batch_size=32, shuffle=True, seed=1)
                     for _ in range(2))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(epoch(first), epoch(second)))


def test_evaluation_and_prediction_batches_keep_the_reviews_order():
    reviews, labels = varied_reviews(200, 6)
    feed = word_id_feed(reviews, labels, num_words=1000, batch_size=32)
    assert feed._order is None
    word_ids, review_of = feed[1][0]
    ids = word_ids.ravel()[review_of.ravel() == 0]  # the first review of the second batch: review 32
    assert ids.tolist() == sorted(set(reviews[32]))


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
