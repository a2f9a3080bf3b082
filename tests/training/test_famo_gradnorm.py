"""FAMO and GradNorm against float64 NumPy versions of their published updates over a
sequence of steps; their config errors; each in a short ``all`` run (trains, logs its
weights, checkpoints its state, resumes bit for bit)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.cli_helpers import (
    TINY_CONFIG,
    checkpoint_values,
    train_killed_and_resumed,
)
from tests.seams.common import tiny
from tests.training.weighting_helpers import NAMES, train_and_restore
from tests.training.weighting_helpers import make_weighting as _weighting
from tfmtl.config import ConfigError
from tfmtl.training import trainer, validate
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import WEIGHTINGS

KEY = "config.training.weighting"


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _famo_reference(before, after, lr, gamma):
    """FAMO's weights at each step and its logits, Adam moments after each, in float64:
    the official code's ``update`` (a vector-Jacobian product of softmax, then
    ``torch.optim.Adam`` with weight decay) written out."""
    w, m, v = (np.zeros(before.shape[1]) for _ in range(3))
    steps = []
    for t, (lb, la) in enumerate(zip(before, after, strict=True), start=1):
        z = _softmax(w)
        delta = np.log(lb + 1e-8) - np.log(la + 1e-8)
        jacobian = np.diag(z) - np.outer(z, z)  # dz_i / dw_j
        g = jacobian.T @ delta + gamma * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - lr / (1 - 0.9 ** t) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8)
        steps.append((z, w, m, v))
    return steps


def test_famo_matches_the_official_update_over_a_sequence_of_steps():
    lr, gamma = 0.04, 0.01
    w = _weighting("famo", lr=lr, gamma=gamma)
    rng = np.random.default_rng(0)
    before = rng.uniform(0.3, 3.0, size=(12, 3))
    after = before * rng.uniform(0.85, 1.05, size=(12, 3))

    @tf.function
    def step(lb, la):
        losses = dict(zip(NAMES, tf.unstack(lb), strict=True))
        with tf.GradientTape() as tape:
            tape.watch(list(losses.values()))
            total = w.combine(losses)
        grads = tape.gradient(total, list(losses.values()))
        w.update_after_step(losses, dict(zip(NAMES, tf.unstack(la), strict=True)))
        return total, tf.stack(grads)

    for lb, la, (z, logits, m, v) in zip(before, after, _famo_reference(before, after, lr,
                                                                        gamma), strict=True):
        total, grads = step(tf.constant(lb, tf.float32), tf.constant(la, tf.float32))
        c = np.sum(z / (lb + 1e-8))
        # The loss the model follows: its value, and its gradient z_i / (c (L_i + eps)).
        assert float(total) == pytest.approx(np.sum(z * np.log(lb + 1e-8)) / c, rel=1e-5)
        np.testing.assert_allclose(grads.numpy(), z / (c * (lb + 1e-8)), rtol=1e-5)
        np.testing.assert_allclose(w.logits.numpy(), logits, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(w.m.numpy(), m, rtol=1e-4, atol=1e-8)
        np.testing.assert_allclose(w.v.numpy(), v, rtol=1e-4, atol=1e-10)
        np.testing.assert_allclose([float(x) for x in w.metrics().values()], _softmax(logits),
                                   rtol=1e-5)
    assert int(w.steps) == 12
    assert np.abs(w.logits.numpy()).max() > 0.05  # The weights moved.


def _dense(g, shape):
    if isinstance(g, tf.IndexedSlices):
        out = np.zeros(shape)
        np.add.at(out, g.indices.numpy(), g.values.numpy().astype(np.float64))
        return out
    return None if g is None else g.numpy().astype(np.float64)


def _gradnorm_reference(losses, gradients, lr, alpha):
    """GradNorm's returned directions and weights after each step, in float64: the
    paper's update (targets held constant, renormalised to sum K), norms over all the
    variables (None counts as zero)."""
    k = losses.shape[1]
    w, initial, steps = np.ones(k), losses[0], []
    for values, grads in zip(losses, gradients, strict=True):
        norms = np.sqrt([sum(np.sum(g ** 2) for g in task if g is not None) for task in grads])
        relative = values / initial
        r = relative / relative.mean()
        big_g = w * norms
        target = big_g.mean() * r ** alpha
        direction = []
        for j in range(len(grads[0])):
            present = [w[i] * task[j] for i, task in enumerate(grads) if task[j] is not None]
            direction.append(sum(present) if present else None)
        w = w - lr * np.sign(big_g - target) * norms
        w = w * k / w.sum()
        steps.append((direction, w))
    return steps


def test_gradnorm_matches_the_papers_update_over_a_sequence_of_steps():
    lr, alpha = 0.05, 1.2
    w = _weighting("gradnorm", lr=lr, alpha=alpha)
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (5,), (6, 2), (2,)]
    steps = 8
    losses = np.cumprod(rng.uniform(0.8, 1.02, size=(steps, 3)), axis=0) * [2.0, 0.5, 1.0]
    gradients, dense = [], []
    for _ in range(steps):
        per_task = []
        for i in range(3):
            grads = [tf.constant(rng.normal(0, 0.3, s), tf.float32) for s in shapes]
            grads[3] = None  # A variable no task reaches.
            if i == 1:
                grads[1] = None  # A variable task b does not reach.
            if i == 2:  # An embedding lookup's gradient: rows, one of them twice.
                grads[2] = tf.IndexedSlices(tf.constant(rng.normal(0, 0.3, (3, 2)), tf.float32),
                                            tf.constant([4, 1, 4]), tf.constant([6, 2]))
            per_task.append(grads)
        gradients.append(per_task)
        dense.append([[_dense(g, s) for g, s in zip(grads, shapes, strict=True)]
                      for grads in per_task])

    @tf.function
    def combine(values, per_task):
        return w.combine_gradients(dict(zip(NAMES, tf.unstack(values), strict=True)),
                                   dict(zip(NAMES, per_task, strict=True)))

    reference = _gradnorm_reference(losses, dense, lr, alpha)
    for values, per_task, (direction, weights) in zip(losses, gradients, reference,
                                                      strict=True):
        got = combine(tf.constant(values, tf.float32), per_task)
        assert got[3] is None
        for g, want in zip(got[:3], direction[:3], strict=True):
            np.testing.assert_allclose(g.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w.weights.numpy(), weights, rtol=1e-5)
        assert float(np.sum(w.weights.numpy())) == pytest.approx(3.0, rel=1e-6)
        np.testing.assert_allclose([float(x) for x in w.metrics().values()], weights,
                                   rtol=1e-5)
    np.testing.assert_allclose(w.initial.numpy(), losses[0], rtol=1e-6)
    assert int(w.steps) == steps
    assert np.abs(w.weights.numpy() - 1.0).max() > 0.05  # The weights moved.


@pytest.mark.parametrize("kind, key, value", [
    ("famo", "lr", 0.0), ("famo", "gamma", -0.1),
    ("gradnorm", "alpha", -1.0), ("gradnorm", "lr", -0.5)])
def test_config_errors_name_the_key(kind, key, value):
    config = WEIGHTINGS.get(kind).default_config()
    config[key] = value
    with pytest.raises(ConfigError, match=rf"{KEY}\.{key}:"):
        WEIGHTINGS.get(kind).check_config(config, KEY)
    full = tiny(step="all")
    full.training.weighting.update({"type": kind, key: value})
    with pytest.raises(ConfigError, match=rf"{KEY}\.{key}:"):
        validate(full)
    # A key of the other weighting's (or a typo) is an unknown key.
    other = {"famo": "alpha", "gradnorm": "gamma"}[kind]
    full = tiny(step="all")
    full.training.weighting.update({"type": kind, other: 1.0})
    with pytest.raises(ConfigError, match=rf"{KEY}\.{other}: unknown key"):
        validate(full)


@pytest.mark.parametrize("kind", ["famo", pytest.param("gradnorm", marks=pytest.mark.slow)])
def test_each_trains_on_the_all_step_and_checkpoints_its_state(tmp_path, kind):
    # The state restored from the last checkpoint is what the run logged at its last step.
    restored, scalars, names = train_and_restore(tmp_path, kind)
    weights = np.array([scalars[f"weighting/{name}/weight"][6] for name in names])
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    assert int(restored.steps) == 6
    if kind == "famo":
        assert weights.sum() == pytest.approx(1.0, rel=1e-5)
        assert np.abs(restored.logits.numpy()).max() > 1e-3
        assert np.all(restored.v.numpy() > 0)
    else:
        assert weights.sum() == pytest.approx(3.0, rel=1e-5)
        assert np.abs(weights - 1.0).max() > 1e-3
        assert np.all(restored.initial.numpy() > 0) and np.all(restored.initial.numpy() != 1.0)


@pytest.mark.slow  # One short run (20 s).
def test_famo_reevaluation_replays_the_steps_dropout(tmp_path, monkeypatch):
    """With a learning rate of 0 the losses after the update are those before it, bit for
    bit, only if the re-evaluation draws the step's own dropout masks (the tiny config has
    dropout); then delta is 0 and the logits never move (Adam would turn any difference,
    however small, into a step of about ``lr``)."""
    monkeypatch.setattr(trainer, "build_optimizer",
                        lambda config, steps, **_: keras.optimizers.SGD(learning_rate=0.0))
    config = tiny(steps=4, eval_every=4, log_every=4, checkpoint_every=4, step="all")
    config.training.weighting.type = "famo"
    resolved = validate(config)
    assert resolved.model.encoders.shared.dropout > 0
    workdir = tmp_path / "run"
    train_and_evaluate(resolved, str(workdir))
    state = checkpoint_values(tf.train.latest_checkpoint(
        os.path.join(workdir, "checkpoints")), "weighting/")
    assert int(state["weighting/steps/.ATTRIBUTES/VARIABLE_VALUE"]) == 4
    for name in ("logits", "m", "v"):
        np.testing.assert_array_equal(state[f"weighting/{name}/.ATTRIBUTES/VARIABLE_VALUE"],
                                      np.zeros(3), err_msg=name)


@pytest.mark.slow  # Two runs of 60 steps, one killed and resumed (two minutes each).
@pytest.mark.parametrize("kind", ["famo", "gradnorm"])
def test_killed_run_resumes_with_the_same_state(tmp_path, kind):
    args = [f"--config={TINY_CONFIG}", "--config.training.steps=60",
            "--config.training.checkpoint_every=10", "--config.training.eval_every=30",
            "--config.training.step=all", f"--config.training.weighting.type={kind}"]
    straight, killed = train_killed_and_resumed(tmp_path, args, 60, 10)
    # The helper compared every saved tensor; the weighting's state is among them.
    state = checkpoint_values(tf.train.latest_checkpoint(os.path.join(killed, "checkpoints")),
                              "weighting/")
    assert int(state["weighting/steps/.ATTRIBUTES/VARIABLE_VALUE"]) == 60
