"""Gradient reversal: the op, its twin, and the Keras layer."""

import importlib

import numpy as np
import pytest
import tensorflow as tf

from tfmtl.ops import GradientReversal, ganin_schedule, gradient_reversal, native_ops_available

grl_module = importlib.import_module("tfmtl.ops.gradient_reversal")


@pytest.fixture(params=["native", "fallback"])
def impl(request, monkeypatch):
    if request.param == "native":
        if not native_ops_available():
            pytest.skip("native op library not built")
    else:
        monkeypatch.setattr(grl_module, "load_library", lambda: None)
    return request.param


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.float16, tf.bfloat16])
def test_forward_identity_backward_reversed(impl, dtype):
    x = tf.constant(np.linspace(-2, 2, 12).reshape(3, 4), dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = gradient_reversal(x, 0.75)
        loss = tf.reduce_sum(y * tf.cast(tf.range(12.0, dtype=tf.float32) - 3, dtype)[None, :4])
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    expected = -0.75 * (np.arange(4.0) - 3)[None].repeat(3, 0)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy().astype(np.float64), expected,
                               rtol=1e-2 if dtype in (tf.float16, tf.bfloat16) else 1e-6)


def test_gradient_check_float64(impl):
    x = tf.constant(np.random.default_rng(0).standard_normal((3, 5)))
    lam = tf.constant(1.7, tf.float64)
    theoretical, numerical = tf.test.compute_gradient(lambda t: gradient_reversal(t, lam), [x])
    np.testing.assert_allclose(theoretical[0], -1.7 * np.eye(15), atol=1e-12)
    # The numerical jacobian sees the identity: reversal lives in the gradient only.
    np.testing.assert_allclose(numerical[0], np.eye(15), atol=1e-8)


def test_lambda_is_read_at_run_time(impl):
    lam = tf.Variable(1.0, dtype=tf.float32)
    x = tf.ones([4])

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(gradient_reversal(x, lam))
        return tape.gradient(loss, x)

    np.testing.assert_allclose(grad().numpy(), -1.0)
    lam.assign(0.25)
    np.testing.assert_allclose(grad().numpy(), -0.25)


def test_layer_fixed_lambda_and_inference_identity():
    layer = GradientReversal(0.5)
    x = tf.constant([[1.0, -2.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_train = layer(x, training=True)
        y_infer = layer(x, training=False)
    np.testing.assert_array_equal(y_train.numpy(), x.numpy())
    np.testing.assert_allclose(tape.gradient(y_train, x).numpy(), [[-0.5, -0.5]])
    np.testing.assert_allclose(tape.gradient(y_infer, x).numpy(), [[1.0, 1.0]])


def test_layer_ganin_schedule_follows_progress():
    layer = GradientReversal("ganin")
    x = tf.ones([2])
    for p in (0.0, 0.1, 0.5, 1.0):
        layer.progress.assign(p)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        expected = 2.0 / (1.0 + np.exp(-10.0 * p)) - 1.0
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), -expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ganin_schedule(tf.constant(1.0)).numpy(), 0.9999092, rtol=1e-6)


def test_layer_serialization_round_trip():
    import keras

    for lam in (0.3, "ganin"):
        layer = GradientReversal(lam, name="grl")
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert isinstance(clone, GradientReversal) and clone.lam == lam


def test_layer_rejects_unknown_schedule():
    with pytest.raises(ValueError, match="unknown lambda schedule"):
        GradientReversal("linear-ish")
