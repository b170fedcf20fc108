"""Tests of imdb_lab.models.dense.build_model."""

import numpy as np
import pytest

from imdb_lab.models.dense import build_model


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
