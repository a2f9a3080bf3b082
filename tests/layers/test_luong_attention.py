"""Luong global attention against a float64 NumPy reference: dot and general, masks, one
step against every position at once, gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfmtl.layers.luong_attention import LuongAttention


def _reference(score, queries, memory, mask, score_kernel, output_kernel):
    keys = queries if score == "dot" else queries @ score_kernel
    scores = np.einsum("btd,bsd->bts", keys, memory)
    scores = np.where(mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    context = np.einsum("bts,bsd->btd", weights, memory)
    return np.tanh(np.concatenate([context, queries], -1) @ output_kernel), weights


@pytest.mark.parametrize("score,query_dim", [("dot", 6), ("general", 4)])
def test_against_a_float64_reference(score, query_dim):
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(3, 5, query_dim))
    memory = rng.normal(size=(3, 7, 6))
    mask = np.arange(7)[None] < np.array([[7], [3], [1]])
    layer = LuongAttention(score, units=8)
    attentional, weights = layer(queries.astype("float32"), memory.astype("float32"),
                                 memory_mask=mask)
    kernels = {w.name: np.asarray(w, np.float64) for w in layer.weights}
    want, want_weights = _reference(score, queries, memory, mask,
                                    kernels.get("score_kernel"), kernels["output_kernel"])
    np.testing.assert_allclose(np.asarray(attentional, np.float64), want, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(np.asarray(weights, np.float64), want_weights, atol=1e-6)
    # Padding gets no attention; one step is the same as that position of all of them.
    assert np.all(np.asarray(weights)[1, :, 3:] == 0.0)
    step, step_weights = layer(queries[:, 2].astype("float32"), memory.astype("float32"),
                               memory_mask=mask)
    np.testing.assert_allclose(np.asarray(step), np.asarray(attentional)[:, 2], rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(np.asarray(step_weights), np.asarray(weights)[:, 2],
                               atol=1e-7)


def test_gradients_numerically():
    rng = np.random.default_rng(1)
    layer = LuongAttention("general", units=3, dtype="float64")
    memory = tf.constant(rng.normal(size=(2, 4, 5)))
    mask = tf.constant(np.arange(4)[None] < np.array([[4], [2]]))
    layer(tf.zeros((2, 3, 2), tf.float64), memory, memory_mask=mask)

    def f(queries, memory):
        return layer(queries, memory, memory_mask=mask)[0]

    theoretical, numerical = tf.test.compute_gradient(
        f, [tf.constant(rng.normal(size=(2, 3, 2))), memory])
    for t, n in zip(theoretical, numerical, strict=True):
        np.testing.assert_allclose(t, n, rtol=1e-5, atol=1e-6)


def test_errors_and_round_trip():
    with pytest.raises(ValueError, match="score must be one of"):
        LuongAttention("concat", units=4)
    with pytest.raises(ValueError, match="use score='general'"):
        LuongAttention("dot", units=4)(np.zeros((1, 2, 3), "float32"),
                                       np.zeros((1, 2, 5), "float32"))
    layer = LuongAttention("dot", units=4, name="att")
    clone = LuongAttention.from_config(layer.get_config())
    assert (clone.score, clone.units, clone.name) == ("dot", 4, "att")
    assert keras.saving.get_registered_object("tfmtl>LuongAttention") is LuongAttention
