"""The gradient weightings under MirroredStrategy over two logical CPUs: the same weights and
the same model as under the default strategy (the per-task gradients are all-reduced
before they are combined, so every replica solves the same problem)."""

import os

import numpy as np
import pytest

from tests.cli_helpers import TINY_CONFIG, checkpoint_values, logged_scalars, run_binary

STEPS = 20
# No dropout (each replica would draw its own masks) and no bucketing, as in
# test_distribute.py; the all step, SGD (Adam's g / sqrt(v) magnifies float noise on
# near-zero gradients).
ARGS = [f"--config.training.steps={STEPS}", f"--config.training.eval_every={STEPS}",
        f"--config.training.checkpoint_every={STEPS}", "--config.training.log_every=5",
        "--config.model.embeddings.text.dropout=0.0", "--config.model.encoders.shared.dropout=0.0",
        "--config.training.buckets=0", "--config.training.step=all",
        "--config.training.optimizer.type=sgd", "--config.training.optimizer.learning_rate=0.3"]
KINDS = ("pcgrad", "mgda", "imtl", "cagrad", "aligned_mtl", "nash_mtl")


def _train(tmp_path, kind, strategy):
    import tensorflow as tf

    workdir = str(tmp_path / strategy)
    extra = [] if strategy == "default" else ["--config.distribute.strategy=mirrored",
                                              "--config.distribute.cpu_devices=2"]
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={workdir}", *ARGS,
                        f"--config.training.weighting.type={kind}", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    scalars = logged_scalars(workdir)
    weights = {k: v for k, v in scalars.items() if k.startswith("weighting/")}
    return weights, checkpoint_values(path, prefix="optimizer/_trainable_variables/")


@pytest.mark.slow  # Two trainings per weighting (about 40 s each).
@pytest.mark.parametrize("kind", KINDS)
def test_mirrored_gives_the_weights_of_the_default_strategy(tmp_path, kind):
    default_weights, default_model = _train(tmp_path, kind, "default")
    mirrored_weights, mirrored_model = _train(tmp_path, kind, "mirrored")
    assert default_weights.keys() == mirrored_weights.keys()
    assert any(k.endswith("/weight") for k in default_weights)
    for tag, values in default_weights.items():
        assert values.keys() == mirrored_weights[tag].keys()
        for step, value in values.items():
            assert mirrored_weights[tag][step] == pytest.approx(value, rel=1e-3, abs=1e-4), (
                tag, step)
    assert default_model.keys() == mirrored_model.keys()
    for name, value in default_model.items():
        np.testing.assert_allclose(mirrored_model[name], value, rtol=2e-4, atol=2e-5,
                                   err_msg=name)
