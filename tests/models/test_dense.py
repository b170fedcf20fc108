"""Tests of imdb_lab.models.dense.build_model."""

import numpy as np
import pytest

from imdb_lab.models.dense import build_model, steps_per_epoch


def test_model_shapes_layers_and_compilation():
    import keras

    model = build_model(50, hidden_units=(8, 4), dropout=0.5, l2=1e-3)
    assert model.input_shape == (None, 50) and model.output_shape == (None, 1)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    dropout = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.units for layer in dense] == [8, 4, 1]
    assert [layer.rate for layer in dropout] == [0.5, 0.5]
    assert all(isinstance(layer.kernel_regularizer, keras.regularizers.L2) for layer in dense[:-1])
    assert dense[-1].activation is keras.activations.sigmoid
    assert all(layer.activation is keras.activations.relu for layer in dense[:-1])
    # the kernel penalties join the loss
    model(np.ones((2, 50), dtype="float32"))
    assert len(model.losses) == 2
    assert model.loss == "binary_crossentropy"
    x, y = np.eye(50, dtype="float32")[:4], np.array([0, 1, 0, 1])
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(results) == {"loss", "accuracy"}


def test_defaults_and_no_regularization():
    import keras

    model = build_model(20, dropout=0, l2=None)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert all(layer.kernel_regularizer is None for layer in model.layers)
    default = build_model(20)
    assert [layer.units for layer in default.layers if isinstance(layer, keras.layers.Dense)] == [16, 16, 1]
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in default.layers) == 2
    # the notebook's L2(1e-4) on the hidden layers, none on the output
    penalties = [layer.kernel_regularizer for layer in default.layers if isinstance(layer, keras.layers.Dense)]
    assert [p.l2 if p else None for p in penalties] == [pytest.approx(1e-4), pytest.approx(1e-4), None]


def test_the_learning_rate_decays_once_an_epoch():
    """RMSprop's rate after k epochs is 2e-3 * 0.7**k (staircase), read from the optimizer as fit left it."""
    import keras

    model = build_model(20, hidden_units=(4,), steps_per_epoch=3)
    x, y = np.eye(20, dtype="float32")[:12], np.array([0, 1] * 6)
    for epoch in range(3):
        assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(2e-3 * 0.7 ** epoch)
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # 3 steps: one epoch
    constant = build_model(20, learning_rate=5e-4, decay_rate=1)
    assert isinstance(constant.optimizer.learning_rate, keras.Variable)
    assert float(keras.ops.convert_to_numpy(constant.optimizer.learning_rate)) == pytest.approx(5e-4)


@pytest.mark.parametrize("num_reviews, batch_size, fraction", [(25000, 512, 0.2), (120, 16, 0.2), (7, 4, 0.5),
                                                               (1, 512, 0.2)])
def test_steps_per_epoch_are_the_batches_of_the_training_part_of_the_split(num_reviews, batch_size, fraction):
    """The reference: the batches train's feed makes of the reviews split_validation leaves for fitting."""
    from imdb_lab.data.reviews import split_validation
    from imdb_lab.features.feeds import MultiHotSequence

    sequences = [[1, 2]] * num_reviews
    labels = np.zeros(num_reviews, dtype=int)
    if num_reviews > 1:
        (x_fit, y_fit), _ = split_validation(sequences, labels, fraction, seed=0)
        expected = len(MultiHotSequence(x_fit, y_fit, num_words=3, batch_size=batch_size))
    else:
        expected = 1
    assert steps_per_epoch(num_reviews, batch_size, fraction) == expected
    assert steps_per_epoch(25000, 512) == 40  # the notebook's decay_steps


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_words": 0}, ValueError, "num_words must be >= 1, got 0"),
    ({"num_words": 2.0}, TypeError, r"num_words must be an int, not 2.0 \(float\)"),
    ({"num_words": True}, TypeError, r"num_words must be an int, not True \(bool\)"),
    ({"hidden_units": ()}, ValueError, "hidden_units must name at least one hidden layer"),
    ({"hidden_units": (16, 0)}, ValueError, "each of hidden_units must be >= 1, got 0"),
    ({"hidden_units": 16}, TypeError, "hidden_units must be a sequence of positive integers .* got 16"),
    ({"hidden_units": "16"}, TypeError, "hidden_units must be a sequence of positive integers .* got '16'"),
    ({"dropout": 1.0}, ValueError, "dropout must be >= 0 and < 1, got 1"),
    ({"dropout": -0.1}, ValueError, "dropout must be >= 0 and < 1, got -0.1"),
    ({"dropout": float("nan")}, ValueError, "dropout must be a finite number, got nan"),
    ({"l2": -1e-4}, ValueError, "l2 must be >= 0"),
    ({"l2": "1e-4"}, TypeError, r"l2 must be a number \(or None for no weight penalty\), not '1e-4'"),
    ({"learning_rate": 0}, ValueError, "learning_rate must be > 0, got 0"),
    ({"learning_rate": "fast"}, TypeError, r"learning_rate must be a number, not 'fast' \(str\)"),
    ({"decay_rate": 0}, ValueError, "decay_rate must be > 0 and <= 1, got 0"),
    ({"decay_rate": 1.5}, ValueError, "decay_rate must be > 0 and <= 1, got 1.5"),
    ({"decay_rate": None}, TypeError, r"decay_rate must be a number \(1 for a constant learning rate\)"),
    ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be >= 1, got 0"),
])
def test_bad_arguments_are_rejected(kwargs, error, message):
    arguments = {"num_words": 10, **kwargs}
    with pytest.raises(error, match=message):
        build_model(**arguments)


def test_input_width_refuses_a_model_that_reads_word_indices():
    import keras

    from imdb_lab.models.dense import input_width

    assert input_width(build_model(12)) == 12
    embedding = keras.Sequential([keras.Input((12,), dtype="int32"), keras.layers.Embedding(100, 4),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="starts with an Embedding: it reads 12 word indices, not the num_words"):
        input_width(embedding)
