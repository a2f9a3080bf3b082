"""The export LSTM computes what Keras' (and tfmtl's fused) LSTM computes, with stock ops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfmtl.layers.lstm import LSTMS, make_lstm
from tfmtl.layers.lstm.export_lstm import ExportLSTM
from tfmtl.ops import FusedLSTM


def _inputs(masking: str):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 5)).astype("float32") * 3  # Large: cell states beyond +-3.
    mask = np.ones((4, 6), bool)
    mask[1, 4:] = False  # Right padding.
    mask[2, :] = False  # An empty row.
    if masking == "holes":
        mask[3, 2] = False  # A hole, as a literal "<pad>" token makes.
    return x, (None if masking == "none" else mask)


def _pair(source, units: int = 7, **kwargs):
    """A built `source` LSTM layer and an ExportLSTM of the same config holding its weights."""
    layer = source(units, **kwargs)
    layer.build((None, None, 5))
    export = ExportLSTM(units, **kwargs)
    export.build((None, None, 5))
    export.set_weights(layer.get_weights())
    return layer, export


def _assert_same(got, want):
    got, want = tf.nest.flatten(got), tf.nest.flatten(want)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=1e-5)


@pytest.mark.parametrize("initial_state", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("masking", ["right_padded", "holes", "none"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_outputs_and_states_equal_keras(return_sequences, go_backwards, masking, zero_output,
                                        initial_state):
    layer, export = _pair(keras.layers.LSTM, return_sequences=return_sequences,
                          go_backwards=go_backwards, return_state=True)
    layer.zero_output_for_mask = export.zero_output_for_mask = zero_output
    x, mask = _inputs(masking)
    states = None
    if initial_state:
        rng = np.random.default_rng(1)
        states = [rng.normal(size=(4, 7)).astype("float32") for _ in range(2)]
    want = layer(x, mask=mask, initial_state=states, training=False)
    _assert_same(export(x, mask=mask, initial_state=states, training=False), want)


@pytest.mark.parametrize("masking", ["right_padded", "holes", "none"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("source", [keras.layers.LSTM, FusedLSTM])
def test_a_bidirectional_layer_equals_keras_and_fused_ones_in_a_graph(source, return_sequences,
                                                                      masking):
    layer = keras.layers.Bidirectional(source(7, return_sequences=return_sequences))
    export = keras.layers.Bidirectional(make_lstm("export", 7, return_sequences=return_sequences))
    assert isinstance(export.backward_layer, ExportLSTM) and export.backward_layer.go_backwards
    layer.build((None, None, 5))
    export.build((None, None, 5))
    export.set_weights(layer.get_weights())
    x, mask = _inputs(masking)
    want = layer(x, mask=mask, training=False)
    if mask is None:
        got = tf.function(lambda a: export(a, training=False))(x)
    else:
        got = tf.function(lambda a, m: export(a, mask=m, training=False))(x, mask)
    _assert_same(got, want)


def test_the_graph_holds_the_fused_kernel_and_stock_ops_only():
    export = keras.layers.Bidirectional(ExportLSTM(3, return_sequences=True))
    function = tf.function(lambda x, m: export(x, mask=m, training=False)).get_concrete_function(
        tf.TensorSpec([None, None, 2]), tf.TensorSpec([None, None], tf.bool))
    graph = function.graph.as_graph_def()
    ops = {node.op for node in graph.node}
    for f in graph.library.function:
        ops.update(node.op for node in f.node_def)
    assert "BlockLSTMV2" in ops and "ReverseSequence" in ops
    registered = tf.raw_ops.__dict__
    assert all(op in registered for op in ops), sorted(op for op in ops if op not in registered)


def test_training_is_the_keras_layer():
    layer, export = _pair(keras.layers.LSTM, return_sequences=True)
    x, mask = _inputs("right_padded")
    with tf.GradientTape(persistent=True) as tape:
        want = layer(x, mask=mask, training=True)
        got = export(x, mask=mask, training=True)
        loss_want, loss_got = tf.reduce_sum(want ** 2), tf.reduce_sum(got ** 2)
    _assert_same(got, want)
    _assert_same(tape.gradient(loss_got, export.trainable_weights),
                 tape.gradient(loss_want, layer.trainable_weights))


def test_a_keras_checkpoint_restores_into_an_export_model(tmp_path):
    def model(lstm):
        inputs = keras.Input((None, 5))
        masks = keras.Input((None,), dtype="bool")
        h = keras.layers.Bidirectional(make_lstm(lstm, 6), name="encoder")(inputs, mask=masks)
        return keras.Model([inputs, masks], keras.layers.Dense(2, name="head")(h))

    keras.utils.set_random_seed(0)
    trained = model("keras")
    path = tf.train.Checkpoint(model=trained).save(str(tmp_path / "ckpt"))
    exported = model("export")
    tf.train.Checkpoint(model=exported).restore(path).assert_existing_objects_matched()
    x, mask = _inputs("right_padded")
    _assert_same(exported([x, mask], training=False), trained([x, mask], training=False))


def test_an_empty_batch():
    export = keras.layers.Bidirectional(ExportLSTM(3, return_sequences=True))
    export.build((None, None, 2))
    out = export(np.zeros((0, 1, 2), "float32"), mask=np.zeros((0, 1), bool), training=False)
    assert out.shape == (0, 1, 6)


def test_it_is_a_registered_implementation_that_never_uses_cudnn():
    assert "export" in LSTMS.names()
    layer = make_lstm("export", 4, return_sequences=False, go_backwards=True, name="x")
    assert isinstance(layer, ExportLSTM) and layer.go_backwards and layer.use_cudnn is False
    assert ExportLSTM.from_config(layer.get_config()).use_cudnn is False
    with pytest.raises(ValueError, match="never uses cuDNN"):
        ExportLSTM(4, use_cudnn=True)


def test_a_char_bilstm_built_with_it_equals_the_keras_one():
    from tfmtl.layers.char_bilstm import CharBiLSTM

    ids = np.random.default_rng(1).integers(1, 12, size=(2, 3, 6)).astype("int32")
    ids[0, 1, 3:] = 0  # A short word.
    ids[1, 2, :] = 0  # A padding word.
    keras_chars, export_chars = CharBiLSTM(12, 4, 5), CharBiLSTM(12, 4, 5, lstm="export")
    keras_chars.build((None, None, None))
    export_chars.build((None, None, None))
    export_chars.set_weights(keras_chars.get_weights())
    got = tf.function(lambda x: export_chars(x, training=False))(ids)
    _assert_same(got, keras_chars(ids, training=False))
