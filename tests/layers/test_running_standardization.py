"""RunningStandardization: features scaled by running statistics, never the batch's own."""

import keras
import numpy as np
import pytest

from tfmtl.layers.running_standardization import RunningStandardization


def test_training_batches_are_standardized_by_the_running_statistics():
    rng = np.random.default_rng(0)
    layer = RunningStandardization(momentum=0.9, epsilon=1e-3)
    first = rng.normal(3.0, 2.0, size=(16, 5)).astype("float32")
    second = rng.normal(-1.0, 0.5, size=(16, 5)).astype("float32")
    # The first batch sets the statistics (not moved from zeros and ones).
    out = np.asarray(layer(first, training=True), np.float64)
    mean, var = first.mean(0, dtype=np.float64), first.var(0, dtype=np.float64)
    np.testing.assert_allclose(out, (first - mean) / np.sqrt(var + 1e-3), rtol=1e-4,
                               atol=1e-5)
    # The second moves them, and is scaled by the moved ones, not by its own: a batch
    # from one corpus keeps its offset from the others.
    out = np.asarray(layer(second, training=True), np.float64)
    mean = 0.9 * mean + 0.1 * second.mean(0, dtype=np.float64)
    var = 0.9 * var + 0.1 * second.var(0, dtype=np.float64)
    np.testing.assert_allclose(out, (second - mean) / np.sqrt(var + 1e-3), rtol=1e-4,
                               atol=1e-5)
    assert np.all(out.mean(0) < -1.0)
    # Inference uses the statistics and leaves them.
    np.testing.assert_allclose(np.asarray(layer(second), np.float64), out, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.moving_mean), mean, rtol=1e-5, atol=1e-6)


def test_a_shrunk_dimension_is_read_at_full_scale_once_the_statistics_follow():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    plain, shrunk = RunningStandardization(momentum=0.5), RunningStandardization(momentum=0.5)
    scale = np.array([1.0, 1e-2, 1.0], "float32")
    for _ in range(30):
        a = np.asarray(plain(x, training=True))
        b = np.asarray(shrunk(x * scale, training=True))
    # A dimension a hundred times smaller reads the same (the default epsilon is small
    # next to a pooled feature's variance, about 1e-4 on the classification trio).
    np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)

def test_the_gradient_treats_the_statistics_as_constants():
    import tensorflow as tf

    layer = RunningStandardization(epsilon=0.0)
    x = tf.constant(np.random.default_rng(2).normal(size=(8, 4)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * tf.range(1.0, 5.0))
    grad = np.asarray(tape.gradient(loss, x), np.float64)
    std = np.asarray(x, np.float64).std(0)
    np.testing.assert_allclose(grad, np.tile(np.arange(1.0, 5.0) / std, (8, 1)), rtol=1e-4)


def test_round_trip():
    layer = RunningStandardization(momentum=0.95, epsilon=1e-4, name="s")
    clone = RunningStandardization.from_config(layer.get_config())
    assert (clone.momentum, clone.epsilon, clone.name) == (0.95, 1e-4, "s")
    with pytest.raises(ValueError, match="momentum"):
        RunningStandardization(momentum=1.0)
    assert keras.saving.get_registered_object("tfmtl>RunningStandardization") is not None
