"""The Tfmtl>FusedLSTM op and its gradient, against NumPy and numerically."""

import importlib

import numpy as np
import pytest
import tensorflow as tf

from tests.ops.reference import lstm_backward, lstm_forward, random_lstm_inputs, rel_err
from tfmtl.ops import fused_lstm, loader, native_ops_available

fused_module = importlib.import_module("tfmtl.ops.fused_lstm")


@pytest.fixture(params=["native", "fallback"])
def impl(request, monkeypatch):
    if request.param == "native":
        if not native_ops_available():
            pytest.skip("native op library not built")
    else:
        monkeypatch.setattr(fused_module, "load_library", lambda: None)
    return request.param


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (5, 7, 3, 9), (4, 6, 0, 3), (3, 0, 2, 4)])
def test_matches_numpy_with_gradients(impl, shape, reverse):
    batch, time, input_size, units = shape
    rng = np.random.default_rng(sum(shape))
    x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, batch, time, input_size, units)
    args = [tf.constant(v) for v in (x, h0, c0, k, r, b)]
    with tf.GradientTape() as tape:
        tape.watch(args)
        hseq, h_last, c_last = fused_lstm(*args, lengths, reverse=reverse)
        d = [rng.standard_normal(t.shape).astype(np.float32) for t in (hseq, h_last, c_last)]
        loss = sum(tf.reduce_sum(t * dt) for t, dt in zip((hseq, h_last, c_last), d, strict=True))
    grads = tape.gradient(loss, args)
    ref_hseq, ref_h, ref_c, cache = lstm_forward(x, h0, c0, k.astype(float), r.astype(float),
                                                 b.astype(float), lengths, reverse)
    for got, want in zip((hseq, h_last, c_last), (ref_hseq, ref_h, ref_c), strict=True):
        assert rel_err(got.numpy(), want) < 2e-6
    for got, want in zip(grads, lstm_backward(cache, *d), strict=True):
        got = np.zeros(want.shape) if got is None else got.numpy()
        assert rel_err(got, want) < 2e-6


@pytest.mark.parametrize("reverse", [False, True])
def test_gradient_check_float64(impl, reverse):
    rng = np.random.default_rng(7)
    x, h0, c0, k, r, b, _ = (v.astype(np.float64) for v in random_lstm_inputs(rng, 3, 4, 2, 3))
    lengths = tf.constant([4, 2, 0], tf.int32)
    weights = [rng.standard_normal((3, 4, 3)), rng.standard_normal((3, 3)),
               rng.standard_normal((3, 3))]

    def f(x, h0, c0, k, r, b):
        hseq, h, c = fused_lstm(x, h0, c0, k, r, b, lengths, reverse=reverse)
        return (tf.reduce_sum(hseq * weights[0]) + tf.reduce_sum(h * weights[1])
                + tf.reduce_sum(c * weights[2]))

    theoretical, numerical = tf.test.compute_gradient(
        f, [tf.constant(v) for v in (x, h0, c0, k, r, b)], delta=1e-6)
    for t, n in zip(theoretical, numerical, strict=True):
        np.testing.assert_allclose(t, n, rtol=1e-6, atol=1e-7)


def test_native_and_fallback_agree(monkeypatch):
    if not native_ops_available():
        pytest.skip("native op library not built")
    rng = np.random.default_rng(11)
    inputs = random_lstm_inputs(rng, 6, 8, 5, 10)
    native = fused_lstm(*inputs[:6], inputs[6], reverse=True)
    monkeypatch.setattr(fused_module, "load_library", lambda: None)
    twin = fused_lstm(*inputs[:6], inputs[6], reverse=True)
    for a, b in zip(native, twin, strict=True):
        assert rel_err(a.numpy(), b.numpy()) < 2e-6


def test_input_checks():
    if not native_ops_available():
        pytest.skip("native op library not built")
    rng = np.random.default_rng(0)
    x, h0, c0, k, r, b, _ = random_lstm_inputs(rng, 2, 3, 4, 5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
        fused_lstm(x, h0, c0, k, r, b, tf.constant([3, 4]))
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        fused_lstm(x, h0, c0, k[:3], r, b)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        fused_lstm(x, h0[:1], c0, k, r, b)


def test_shape_function():
    if not native_ops_available():
        pytest.skip("native op library not built")

    @tf.function(input_signature=[tf.TensorSpec([None, 7, 3]), tf.TensorSpec([None, 5])])
    def f(x, h):
        hseq, h_last, c_last = fused_lstm(x, h, h, tf.zeros([3, 20]), tf.zeros([5, 20]),
                                          tf.zeros([20]))
        assert hseq.shape.as_list() == [None, 7, 5]
        assert h_last.shape.as_list() == [None, 5]
        return hseq

    f.get_concrete_function()


def test_disable_env_var_forces_fallback(monkeypatch):
    monkeypatch.setenv(loader.DISABLE_ENV, "1")
    loader._reset_for_tests()
    try:
        assert not loader.native_ops_available()
        rng = np.random.default_rng(1)
        x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, 2, 3, 4, 5)
        hseq, _, _ = fused_lstm(x, h0, c0, k, r, b, lengths)
        ref = lstm_forward(x, h0, c0, k.astype(float), r.astype(float), b.astype(float), lengths)
        assert rel_err(hseq.numpy(), ref[0]) < 2e-6
    finally:
        monkeypatch.delenv(loader.DISABLE_ENV)
        loader._reset_for_tests()


@pytest.mark.parametrize("reverse", [False, True])
def test_inference_mode_gradients_by_recomputation(reverse):
    """training=False keeps no workspace; a gradient asked for anyway recomputes it."""
    if not native_ops_available():
        pytest.skip("native op library not built")
    rng = np.random.default_rng(12)
    x, h0, c0, k, r, b, lengths = random_lstm_inputs(rng, 4, 6, 3, 5)
    args = [tf.constant(v) for v in (x, h0, c0, k, r, b)]
    grads = {}
    for training in (True, False):
        with tf.GradientTape() as tape:
            tape.watch(args)
            hseq, h_last, c_last = fused_lstm(*args, lengths, reverse=reverse,
                                              training=training)
            loss = tf.reduce_sum(hseq * 0.7) + tf.reduce_sum(h_last) - tf.reduce_sum(c_last)
        grads[training] = [g.numpy() for g in tape.gradient(loss, args)]
    for a, b_ in zip(grads[False], grads[True], strict=True):
        np.testing.assert_array_equal(a, b_)
