"""The loss-only weightings against their formulas over a sequence of losses, and each in a
short ``all`` run (trains, logs its weights, checkpoints its state)."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from tests.training.weighting_helpers import NAMES, make_weighting, train_and_restore
from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS

_weighting = make_weighting


def _losses(values):
    return {name: tf.constant(v, tf.float32) for name, v in zip(NAMES, values, strict=True)}


def test_uncertainty_is_kendalls_loss_and_learns_its_log_variances():
    w = _weighting("uncertainty")
    for name, s in zip(NAMES, (0.0, 1.0, -0.5), strict=True):
        w.log_variances[name].assign(s)
    values = (2.0, 0.5, 1.5)
    losses = {n: tf.Variable(v) for n, v in zip(NAMES, values, strict=True)}
    with tf.GradientTape() as tape:
        total = w.combine(losses)
    s = np.array([0.0, 1.0, -0.5])
    assert float(total) == pytest.approx(float(np.sum(0.5 * np.exp(-s) * values + 0.5 * s)),
                                         rel=1e-6)
    grads = tape.gradient(total, [*w.log_variances.values(), *losses.values()])
    np.testing.assert_allclose([float(g) for g in grads[:3]],
                               -0.5 * np.exp(-s) * values + 0.5, rtol=1e-5)
    np.testing.assert_allclose([float(g) for g in grads[3:]], 0.5 * np.exp(-s), rtol=1e-5)
    assert len(w.trainable_variables) == 3
    assert float(w.metrics()["b/weight"]) == pytest.approx(0.5 * np.exp(-1.0), rel=1e-6)
    with pytest.raises(ConfigError, match="initial"):
        WEIGHTINGS.get("uncertainty").check_config(
            ml_collections.ConfigDict({"initial": 50.0}), "config.training.weighting")


def test_gls_is_the_geometric_mean_and_weights_by_inverse_loss():
    w = _weighting("gls")
    values = np.array([2.0, 0.5, 4.0])
    losses = {n: tf.Variable(float(v)) for n, v in zip(NAMES, values, strict=True)}
    with tf.GradientTape() as tape:
        total = w.combine(losses)
    geometric = float(np.prod(values) ** (1 / 3))
    assert float(total) == pytest.approx(geometric, rel=1e-6)
    grads = tape.gradient(total, list(losses.values()))
    np.testing.assert_allclose([float(g) for g in grads], geometric / (3 * values), rtol=1e-5)
    assert float(w.metrics()["a/weight"]) == pytest.approx(geometric / 6.0, rel=1e-6)


def test_dwa_weights_follow_the_ratio_of_the_last_two_period_means():
    w = _weighting("dwa", temperature=2.0, period=2)
    rng = np.random.default_rng(0)
    sequence = rng.uniform(0.5, 3.0, size=(9, 3))
    means = []  # Completed period means.
    for t, values in enumerate(sequence):
        if len(means) >= 2:
            r = means[-1] / means[-2]
            want = 3 * np.exp(r / 2.0) / np.exp(r / 2.0).sum()
        else:
            want = np.ones(3)
        total = w.combine(_losses(values))
        np.testing.assert_allclose(np.asarray(w.weights), want, rtol=1e-5)
        assert float(total) == pytest.approx(float(want @ values), rel=1e-5)
        if t % 2 == 1:
            means.append(sequence[t - 1:t + 1].mean(0))
    assert len(means) == 4 and float(w.periods) == 4.0
    for key, value in (("temperature", 0.0), ("period", 0)):
        with pytest.raises(ConfigError, match=key):
            WEIGHTINGS.get("dwa").check_config(ml_collections.ConfigDict(
                {"temperature": 2.0, "period": 10, key: value}), "config.training.weighting")


def test_rlw_draws_softmax_normal_weights_from_seed_and_step():
    w, again, other = (_weighting("rlw"), _weighting("rlw"), _weighting("rlw", seed=1))
    values = (1.0, 2.0, 3.0)
    drawn = []
    for step in range(4):
        total = w.combine(_losses(values))
        weights = np.asarray(w.weights)
        want = tf.nn.softmax(tf.random.stateless_normal(
            [3], seed=tf.constant([0, step], tf.int64))).numpy()
        np.testing.assert_allclose(weights, want, rtol=1e-6)
        assert weights.sum() == pytest.approx(1.0) and float(total) == pytest.approx(
            float(weights @ values), rel=1e-6)
        again.combine(_losses(values))
        np.testing.assert_array_equal(np.asarray(again.weights), weights)
        other.combine(_losses(values))
        assert not np.allclose(np.asarray(other.weights), weights)
        drawn.append(weights)
    assert not np.allclose(drawn[0], drawn[1])


@pytest.mark.parametrize("kind", [
    "uncertainty", *(pytest.param(k, marks=pytest.mark.slow) for k in ("dwa", "rlw", "gls"))])
def test_each_trains_on_the_all_step_and_checkpoints_its_state(tmp_path, kind):
    restored, scalars, names = train_and_restore(
        tmp_path, kind, **({"period": 1} if kind == "dwa" else {}))
    for name in names:
        weight = scalars[f"weighting/{name}/weight"][6]
        assert np.isfinite(weight) and weight > 0
        if kind == "uncertainty":  # Learned: the log-variances moved from 0.
            assert abs(float(restored.log_variances[name])) > 1e-4
    if kind == "rlw":
        assert int(restored.step) == 6
    if kind == "dwa":
        assert float(restored.periods) == 6.0
