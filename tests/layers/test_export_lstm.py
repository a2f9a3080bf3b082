"""The export LSTM computes what Keras' (and tfmtl's fused) LSTM computes, with stock ops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfmtl.layers.lstm import BIDIRECTIONAL, LSTMS, make_bidirectional, make_lstm
from tfmtl.layers.lstm.export_lstm import (
    ExportBidirectional,
    ExportLSTM,
    export_lstms,
    freeze_block_kernels,
    unfrozen_lstms,
)
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


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("wrapper", [keras.layers.Bidirectional, ExportBidirectional])
def test_the_graph_holds_the_fused_kernel_and_stock_ops_only(wrapper, frozen):
    export = wrapper(ExportLSTM(3, return_sequences=True))
    export.build((None, None, 2))
    if frozen:
        freeze_block_kernels(export)
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


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("masking", ["right_padded", "holes", "none"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("source", [keras.layers.LSTM, FusedLSTM])
def test_the_export_bidirectional_equals_the_keras_one(source, return_sequences, masking,
                                                       return_state, frozen):
    layer = keras.layers.Bidirectional(source(7, return_sequences=return_sequences,
                                              return_state=return_state))
    export = make_bidirectional("export", 7, return_sequences=return_sequences,
                                return_state=return_state)
    assert type(export) is ExportBidirectional
    layer.build((None, None, 5))
    export.build((None, None, 5))
    export.set_weights(layer.get_weights())
    if frozen:
        assert len(freeze_block_kernels(export)) == 2
    x, mask = _inputs(masking)
    want = layer(x, mask=mask, training=False)
    if mask is None:
        got = tf.function(lambda a: export(a, training=False))(x)
    else:
        got = tf.function(lambda a, m: export(a, mask=m, training=False))(x, mask)
    _assert_same(got, want)
    _assert_same(export(x, mask=mask, training=False), want)  # Eagerly too.


def test_the_export_bidirectional_with_initial_states_is_the_keras_wrapper():
    layer = keras.layers.Bidirectional(keras.layers.LSTM(7, return_sequences=True))
    export = make_bidirectional("export", 7, return_sequences=True)
    layer.build((None, None, 5))
    export.build((None, None, 5))
    export.set_weights(layer.get_weights())
    x, mask = _inputs("right_padded")
    states = [np.random.default_rng(2).normal(size=(4, 7)).astype("float32") for _ in range(4)]
    _assert_same(export(x, mask=mask, initial_state=states, training=False),
                 layer(x, mask=mask, initial_state=states, training=False))


def test_make_bidirectional_takes_the_implementation_s_wrapper():
    assert "export" in BIDIRECTIONAL and "keras" not in BIDIRECTIONAL
    for implementation in ("keras", "fused"):
        layer = make_bidirectional(implementation, 3, name="encoder_1", lstm_name="encoder_1_lstm")
        assert type(layer) is keras.layers.Bidirectional and layer.name == "encoder_1"
    layer = make_bidirectional("export", 3, return_sequences=False, name="b", lstm_name="l")
    assert type(layer) is ExportBidirectional and layer.name == "b"
    assert layer.forward_layer.name == "forward_l" and layer.backward_layer.name == "backward_l"
    assert isinstance(layer.backward_layer, ExportLSTM) and layer.backward_layer.go_backwards
    assert not layer.return_sequences
    again = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(again) is ExportBidirectional and not again.return_sequences


def test_both_directions_share_one_transpose_and_one_mask_check():
    export = make_bidirectional("export", 3, return_sequences=True)
    function = tf.function(lambda x, m: export(x, mask=m, training=False)).get_concrete_function(
        tf.TensorSpec([None, None, 2]), tf.TensorSpec([None, None], tf.bool))
    graph = function.graph.as_graph_def()
    assert [node.op for node in graph.node].count("If") == 1  # The right-padding check.
    branch = next(f for f in graph.library.function
                  if "BlockLSTMV2" in [node.op for node in f.node_def])
    ops = [node.op for node in branch.node_def]
    assert ops.count("BlockLSTMV2") == 2 and ops.count("Transpose") == 2  # In and out.


def test_a_frozen_layer_reads_its_copy_of_the_kernels_only():
    layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    export = make_bidirectional("export", 4, return_sequences=True)
    layer.build((None, None, 5))
    export.build((None, None, 5))
    export.set_weights(layer.get_weights())
    assert unfrozen_lstms(export) == [export.forward_layer.name, export.backward_layer.name]
    copies = freeze_block_kernels(export)
    assert unfrozen_lstms(export) == []
    assert len(export.weights) == 6  # Keras' weights only: the copies are no weights.
    for lstm, copy in zip(export_lstms(export), copies, strict=True):
        assert lstm.frozen_block_kernel is copy and not copy.trainable
        np.testing.assert_array_equal(copy.numpy(), np.concatenate(
            [lstm.cell.kernel.numpy(), lstm.cell.recurrent_kernel.numpy()]))
    function = tf.function(lambda x, m: export(x, mask=m, training=False)).get_concrete_function(
        tf.TensorSpec([None, None, 5]), tf.TensorSpec([None, None], tf.bool))
    read = {v.ref() for v in function.variables}
    assert {c.ref() for c in copies} <= read
    for lstm in export_lstms(export):  # Neither direction's Keras kernels, in any branch.
        assert lstm.cell.kernel.value.ref() not in read
        assert lstm.cell.recurrent_kernel.value.ref() not in read
    x, mask = _inputs("holes")
    _assert_same(function(x, mask), layer(x, mask=mask, training=False))


def test_a_stale_copy_is_reported_and_a_frozen_layer_refuses_to_train():
    export = make_bidirectional("export", 4, return_sequences=True)
    export.build((None, None, 5))
    freeze_block_kernels(export)
    kernel = export.forward_layer.cell.kernel
    kernel.assign(kernel + 1.0)
    assert unfrozen_lstms(export) == [export.forward_layer.name]
    freeze_block_kernels(export)  # Refreshes the copies.
    assert unfrozen_lstms(export) == []
    x, mask = _inputs("right_padded")
    with pytest.raises(ValueError, match="frozen for inference"):
        export(x, mask=mask, training=True)
    with pytest.raises(ValueError, match="build the layer"):
        ExportLSTM(3).freeze_block_kernel()


@pytest.mark.parametrize("wrap", ["keras_wrapper", "make_bidirectional"])
def test_a_keras_checkpoint_restores_into_an_export_model(tmp_path, wrap):
    def model(lstm):
        inputs = keras.Input((None, 5))
        masks = keras.Input((None,), dtype="bool")
        if wrap == "make_bidirectional":
            encoder = make_bidirectional(lstm, 6, return_sequences=True, name="encoder")
        else:
            encoder = keras.layers.Bidirectional(make_lstm(lstm, 6), name="encoder")
        h = encoder(inputs, mask=masks)
        return keras.Model([inputs, masks], keras.layers.Dense(2, name="head")(h))

    keras.utils.set_random_seed(0)
    trained = model("keras")
    path = tf.train.Checkpoint(model=trained).save(str(tmp_path / "ckpt"))
    exported = model("export")
    tf.train.Checkpoint(model=exported).restore(path).assert_existing_objects_matched()
    freeze_block_kernels(exported)
    x, mask = _inputs("right_padded")
    _assert_same(exported([x, mask], training=False), trained([x, mask], training=False))


@pytest.mark.parametrize("wrapper", [keras.layers.Bidirectional, ExportBidirectional])
def test_an_empty_batch(wrapper):
    export = wrapper(ExportLSTM(3, return_sequences=True))
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


@pytest.mark.parametrize("frozen", [False, True])
def test_a_char_bilstm_built_with_it_equals_the_keras_one(frozen):
    from tfmtl.layers.char_bilstm import CharBiLSTM

    ids = np.random.default_rng(1).integers(1, 12, size=(2, 3, 6)).astype("int32")
    ids[0, 1, 3:] = 0  # A short word.
    ids[1, 2, :] = 0  # A padding word.
    keras_chars, export_chars = CharBiLSTM(12, 4, 5), CharBiLSTM(12, 4, 5, lstm="export")
    keras_chars.build((None, None, None))
    export_chars.build((None, None, None))
    export_chars.set_weights(keras_chars.get_weights())
    assert isinstance(export_chars.bilstm, ExportBidirectional)
    if frozen:  # Found inside the custom layer.
        assert len(freeze_block_kernels(export_chars)) == 2
    got = tf.function(lambda x: export_chars(x, training=False))(ids)
    _assert_same(got, keras_chars(ids, training=False))
