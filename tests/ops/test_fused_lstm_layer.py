"""FusedLSTM against keras.layers.LSTM: outputs, final states and every gradient."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.ops.reference import rel_err
from tfmtl.layers.lstm import make_lstm
from tfmtl.ops import FusedLSTM

TOL = 1e-5


def _grads_and_outputs(model, inputs, seed):
    """Outputs of `model` and the gradients of a random projection of them."""
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = model(inputs, training=True)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        rng = np.random.default_rng(seed)
        loss = sum(tf.reduce_sum(o * rng.standard_normal(o.shape).astype(np.float32))
                   for o in outputs)
    grads = tape.gradient(loss, [inputs] + model.trainable_weights)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


def _compare(build, inputs, seed=0):
    """Builds the model with the stock and the fused LSTM, same weights, and compares."""
    stock = build(keras.layers.LSTM)
    fused = build(FusedLSTM)
    fused.set_weights(stock.get_weights())
    assert any(isinstance(layer, FusedLSTM) for layer in _layers(fused))
    inputs = tf.constant(inputs)
    out_s, grad_s = _grads_and_outputs(stock, inputs, seed)
    out_f, grad_f = _grads_and_outputs(fused, inputs, seed)
    assert len(out_s) == len(out_f) and len(grad_s) == len(grad_f)
    for i, (a, b) in enumerate(zip(out_f, out_s, strict=True)):
        assert a.shape == b.shape
        assert rel_err(a, b) < TOL, f"output {i}: {rel_err(a, b)}"
    for i, (a, b) in enumerate(zip(grad_f, grad_s, strict=True)):
        assert rel_err(a, b) < TOL, f"gradient {i}: {rel_err(a, b)}"


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.forward_layer
            yield layer.backward_layer


def _ragged_inputs(rng, batch, time, features, min_len=0):
    """Right-padded sequences (zeros past each length) and their lengths."""
    x = rng.standard_normal((batch, time, features)).astype(np.float32)
    lengths = rng.integers(min_len, time + 1, size=batch)
    lengths[0] = time
    x[np.arange(time)[None, :] >= lengths[:, None]] = 0.0
    return x, lengths


def _masked_model(lstm, time, features, **layer_kwargs):
    inputs = keras.Input((time, features))
    h = keras.layers.Masking(0.0)(inputs)
    out = lstm(**layer_kwargs)(h)
    return keras.Model(inputs, out)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_ragged_lengths(go_backwards, return_sequences, return_state):
    rng = np.random.default_rng(1)
    x, _ = _ragged_inputs(rng, 6, 9, 5, min_len=1)
    _compare(lambda lstm: _masked_model(lstm, 9, 5, units=11, go_backwards=go_backwards,
                                        return_sequences=return_sequences,
                                        return_state=return_state), x)


@pytest.mark.parametrize("batch,time,features,units", [(1, 1, 1, 1), (1, 13, 3, 17),
                                                        (5, 7, 33, 9), (3, 4, 2, 70)])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_batch_one_and_odd_sizes_unmasked(batch, time, features, units, go_backwards):
    rng = np.random.default_rng(batch + time + features + units)
    x = rng.standard_normal((batch, time, features)).astype(np.float32)

    def build(lstm):
        inputs = keras.Input((time, features))
        return keras.Model(inputs, lstm(units, return_sequences=True,
                                        go_backwards=go_backwards)(inputs))

    _compare(build, x)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_masked(merge_mode):
    rng = np.random.default_rng(2)
    x, _ = _ragged_inputs(rng, 5, 8, 4, min_len=1)

    def build(lstm):
        inputs = keras.Input((8, 4))
        h = keras.layers.Masking(0.0)(inputs)
        out = keras.layers.Bidirectional(lstm(6, return_sequences=True), merge_mode=merge_mode)(h)
        return keras.Model(inputs, out)

    _compare(build, x)


def test_stacked_bidirectional_with_embedding_mask():
    rng = np.random.default_rng(3)
    lengths = np.array([10, 3, 7, 1])
    tokens = rng.integers(1, 50, size=(4, 10))
    tokens[np.arange(10)[None, :] >= lengths[:, None]] = 0

    def build(lstm):
        inputs = keras.Input((10,), dtype="int32")
        h = keras.layers.Embedding(50, 8, mask_zero=True)(inputs)
        h = keras.layers.Bidirectional(lstm(12, return_sequences=True))(h)
        h = keras.layers.Bidirectional(lstm(5, return_sequences=True))(h)
        h = lstm(7)(h)
        return keras.Model(inputs, keras.layers.Dense(3)(h))

    stock = build(keras.layers.LSTM)
    fused = build(FusedLSTM)
    fused.set_weights(stock.get_weights())
    for model in (stock, fused):
        model.compile(optimizer="sgd")
    inputs = tf.constant(tokens)
    out_s, grad_s = _grads_and_outputs_weights(stock, inputs)
    out_f, grad_f = _grads_and_outputs_weights(fused, inputs)
    assert rel_err(out_f, out_s) < TOL
    for a, b in zip(grad_f, grad_s, strict=True):
        assert rel_err(a, b) < TOL


def _grads_and_outputs_weights(model, inputs):
    with tf.GradientTape() as tape:
        out = model(inputs, training=True)
        loss = tf.reduce_sum(out * tf.constant([[1.0, -2.0, 0.5]]))
    grads = tape.gradient(loss, model.trainable_weights)
    return out.numpy(), [tf.convert_to_tensor(g).numpy() for g in grads]


def test_initial_state_and_return_state():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    h0 = rng.standard_normal((3, 6)).astype(np.float32)
    c0 = rng.standard_normal((3, 6)).astype(np.float32)

    def build(lstm):
        inputs = [keras.Input((5, 4)), keras.Input((6,)), keras.Input((6,))]
        out = lstm(6, return_sequences=True, return_state=True)(inputs[0],
                                                                 initial_state=inputs[1:])
        return keras.Model(inputs, out)

    stock, fused = build(keras.layers.LSTM), build(FusedLSTM)
    fused.set_weights(stock.get_weights())
    args = [tf.constant(v) for v in (x, h0, c0)]
    for a, b in zip(fused(args), stock(args), strict=True):
        assert rel_err(a.numpy(), b.numpy()) < TOL
    with tf.GradientTape() as tape:
        tape.watch(args)
        loss = sum(tf.reduce_sum(o) for o in fused(args))
    with tf.GradientTape() as tape2:
        tape2.watch(args)
        loss2 = sum(tf.reduce_sum(o) for o in stock(args))
    for a, b in zip(tape.gradient(loss, args), tape2.gradient(loss2, args), strict=True):
        assert rel_err(a.numpy(), b.numpy()) < TOL


def test_left_padded_mask_falls_back_to_stock_semantics():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    mask = np.ones((3, 6), bool)
    mask[1, :2] = False  # left padding: not the fused op's contract
    stock = keras.layers.LSTM(5, return_sequences=True)
    fused = FusedLSTM(5, return_sequences=True)
    stock(x), fused(x)
    fused.set_weights(stock.get_weights())
    a = fused(x, mask=tf.constant(mask)).numpy()
    b = stock(x, mask=tf.constant(mask)).numpy()
    assert rel_err(a, b) < TOL


def test_inside_tf_function_and_fit():
    rng = np.random.default_rng(6)
    x, _ = _ragged_inputs(rng, 16, 7, 3, min_len=1)
    y = rng.integers(0, 2, size=(16,))
    model = keras.Sequential([keras.Input((7, 3)), keras.layers.Masking(0.0),
                              keras.layers.Bidirectional(FusedLSTM(8)),
                              keras.layers.Dense(2)])
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_serialization_and_registry():
    layer = make_lstm("fused", 4, return_sequences=False, go_backwards=True, name="enc")
    assert isinstance(layer, FusedLSTM) and layer.go_backwards and not layer.return_sequences
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is FusedLSTM and clone.get_config() == layer.get_config()
    stock = keras.layers.LSTM(4, return_sequences=False, go_backwards=True, name="enc")
    assert layer.get_config() == stock.get_config()


def test_saved_keras_model_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, keras.layers.Bidirectional(FusedLSTM(4))(inputs))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[1].forward_layer, FusedLSTM)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-7)
