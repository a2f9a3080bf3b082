"""The export's lean LSTM computes what Keras' (and tfmtl's fused) LSTM layers compute."""

import keras
import numpy as np
import pytest

from tfmtl.export.inference_lstm import InferenceLSTM, install, replaced_variables, supported
from tfmtl.ops import FusedLSTM


def _inputs(holes: bool):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 5)).astype("float32") * 3  # Large: cell states beyond +-3.
    mask = np.ones((4, 6), bool)
    mask[1, 4:] = False  # Right padding.
    mask[2, :] = False  # An empty row.
    if holes:
        mask[3, 2] = False  # A hole, as a literal "<pad>" token makes.
    return x, mask


@pytest.mark.parametrize("masking", ["right_padded", "holes", "none"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("lstm", [keras.layers.LSTM, FusedLSTM])
def test_same_outputs_as_the_layer(masking, bidirectional, return_sequences, lstm):
    layer = lstm(7, return_sequences=return_sequences)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    x, mask = _inputs(holes=masking == "holes")
    if masking == "none":
        mask = None
    want = layer(x, mask=mask, training=False).numpy()
    assert supported(layer)
    got = InferenceLSTM(layer)(x, mask).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_an_empty_batch():
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
    layer.build((None, None, 2))
    module = InferenceLSTM(layer)
    assert module(np.zeros((0, 1, 2), "float32"), np.zeros((0, 1), bool)).shape == (0, 1, 6)


def test_install_reroutes_a_models_lstms_and_keeps_its_predictions():
    import tensorflow as tf

    x, mask = _inputs(holes=False)
    inputs = keras.Input((None, 5))
    masks = keras.Input((None,), dtype="bool")
    bidirectional = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))
    h = bidirectional(inputs, mask=masks)
    h = keras.layers.LSTM(3, activation="relu", return_sequences=True)(h, mask=masks)
    model = keras.Model([inputs, masks], keras.layers.Dense(2)(h))
    want = model([x, mask]).numpy()
    modules = install(model)
    assert len(modules) == 1  # The relu LSTM is not supported: it keeps its own call.
    assert replaced_variables(model) == {id(v) for v in bidirectional.variables}
    got = tf.function(lambda a, b: model([a, b], training=False))(x, mask).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_install_reaches_lstms_inside_layers():
    import tensorflow as tf

    from tfmtl.layers.char_bilstm import CharBiLSTM

    chars = keras.Input((None, None), dtype="int32")
    model = keras.Model(chars, CharBiLSTM(12, 4, 5)(chars))
    ids = np.random.default_rng(1).integers(1, 12, size=(2, 3, 6)).astype("int32")
    ids[0, 1, 3:] = 0
    ids[1, 2, :] = 0
    want = model(ids).numpy()
    assert len(install(model)) == 1
    got = tf.function(lambda x: model(x, training=False))(ids).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_unsupported_layers_are_left_alone():
    assert not supported(keras.layers.LSTM(3, use_bias=False))
    assert not supported(keras.layers.LSTM(3, return_state=True))
    assert not supported(keras.layers.GRU(3))
    assert not supported(keras.layers.LSTM(3, go_backwards=True))
    assert not supported(keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode="sum"))
