"""The tag_affinity callback (TAG's lookahead, Fifty et al. 2021): each measurement is
``1 - L_j(theta - lr g_i) / L_j(theta)`` on the step's batches, a run with it trains exactly
as one without, and its mean lands in ``affinity.json``."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.cli_helpers import checkpoint_values
from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.data.pipeline import make_dataset
from tfmtl.experiment import Experiment
from tfmtl.training import validate
from tfmtl.training.callbacks import callback_config
from tfmtl.training.callbacks.tag_affinity import TagAffinity, read_affinity_measurements
from tfmtl.training.steps import make_all_step, task_losses
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import make_weighting


def _config(**training):
    config = tiny(step="all", **training)
    config.training.callbacks.tag_affinity = callback_config("tag_affinity", every=1)
    return config


def test_a_measurement_is_the_lookahead_loss_ratio_of_every_pair():
    config = _config()
    config.model.embeddings.text.dropout = 0.0
    config.model.encoders.shared.dropout = 0.0
    config = validate(config)
    experiment = Experiment.create(config)
    model = experiment.build_model()
    groups = experiment.groups(True)
    batches = [next(iter(make_dataset(experiment.train_examples(
        tuple(t.name for t in g))[:16], batch_size=16))) for g in groups]
    names = [t.name for t in experiment.tasks]
    input_names = experiment.featurizer.input_names()
    lr = 0.5

    def losses():
        out = {}
        for group, batch in zip(groups, batches, strict=True):
            outputs = model.model({n: batch[n] for n in input_names}, training=True)
            out.update(task_losses(group, batch, outputs, {}))
        return out

    with tf.GradientTape(persistent=True) as tape:
        base = losses()
    theta = [v.numpy() for v in model.shared_variables]
    want = np.zeros((len(names), len(names)))
    for a, i in enumerate(names):
        grads = tape.gradient(base[i], model.shared_variables)
        for v, g, t in zip(model.shared_variables, grads, theta, strict=True):
            if g is not None:
                v.assign(t - lr * tf.convert_to_tensor(g).numpy())
        ahead = losses()
        for b, j in enumerate(names):
            want[a, b] = 1.0 - float(ahead[j]) / float(base[j])
        for v, t in zip(model.shared_variables, theta, strict=True):
            v.assign(t)

    callback = TagAffinity(config.training.callbacks.tag_affinity)
    callback.experiment, callback.names = experiment, names
    callback.shared = model.shared_variables
    callback.chief = False
    weighting = make_weighting(config.training.weighting, experiment.tasks)
    weighting.build()
    step = make_all_step(tf.distribute.get_strategy(), groups, model,
                         keras.optimizers.SGD(learning_rate=lr), input_names, weighting,
                         [callback])
    _, in_step = step([iter(tf.data.Dataset.from_tensors(b).repeat()) for b in batches])
    got = in_step["TagAffinity"]
    assert float(got["measured"]) == 1.0
    off = ~np.eye(len(names), dtype=bool)
    z = np.zeros_like(want)
    for a, i in enumerate(names):
        for b, j in enumerate(names):
            if a != b:
                z[a, b] = 1.0 - float(got[f"after/{i}/{j}"]) / float(got[f"before/{j}"])
    np.testing.assert_allclose(z[off], want[off], rtol=1e-3, atol=1e-5)
    assert np.abs(want[off]).max() > 1e-3  # The lookahead moved the losses.


@pytest.mark.slow  # Two short trainings (half a minute).
def test_a_run_with_the_callback_trains_as_one_without_and_writes_the_mean(tmp_path):
    steps = dict(steps=4, eval_every=4, checkpoint_every=4, log_every=2)
    train_and_evaluate(validate(_config(**steps)), str(tmp_path / "tag"))
    plain = tiny(step="all", **steps)
    train_and_evaluate(validate(plain), str(tmp_path / "plain"))
    weights = {}
    for name in ("tag", "plain"):
        path = tf.train.latest_checkpoint(os.path.join(tmp_path, name, "checkpoints"))
        weights[name] = checkpoint_values(path, "optimizer/_trainable_variables/")
    for key, value in weights["plain"].items():
        np.testing.assert_array_equal(weights["tag"][key], value, err_msg=key)
    with open(tmp_path / "tag" / "affinity.json", encoding="utf-8") as f:
        written = json.load(f)
    names = written["tasks"]
    assert sorted(names) == ["chunk", "label", "pos"] and written["measurements"] == 4
    mean, count = read_affinity_measurements(str(tmp_path / "tag" / "affinity_steps.jsonl"),
                                             names, 4)
    assert count == 4 and written["affinity"] == mean
    assert all(np.isfinite(v) for row in mean.values() for v in row.values())


def test_it_needs_the_all_step_two_tasks_and_the_default_strategy():
    config = _config()
    config.training.step = "sampled"
    with pytest.raises(ConfigError, match="'all' step") as raised:
        validate(config)
    assert raised.value.key == "config.training.step"
    config = _config()
    config.training.callbacks.tag_affinity.every = 0
    with pytest.raises(ConfigError) as raised:
        validate(config)
    assert raised.value.key == "config.training.callbacks.tag_affinity.every"
