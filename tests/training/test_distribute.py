"""MirroredStrategy over two logical CPUs trains the same model as the default strategy."""

import os

import numpy as np
import pytest

from tests.cli_helpers import TINY_CONFIG, checkpoint_values, run_binary

# No dropout: each replica would draw its own masks. Everything else is the tiny config.
ARGS = ["--config.training.steps=12", "--config.training.eval_every=12",
        "--config.training.checkpoint_every=12", "--config.model.embeddings.text.dropout=0.0",
        "--config.model.encoders.shared.dropout=0.0", "--config.training.buckets=0"]


def _weights(workdir):
    import tensorflow as tf

    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return checkpoint_values(path, prefix="optimizer/_trainable_variables/")


@pytest.mark.slow  # Two trainings (about 50 s); the multi-worker tests are slow too.
def test_mirrored_on_two_cpus_matches_default(tmp_path):
    runs = {}
    for name, extra in (("default", []), ("mirrored", [
            "--config.distribute.strategy=mirrored", "--config.distribute.cpu_devices=2"])):
        workdir = str(tmp_path / name)
        result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={workdir}",
                            *ARGS, *extra)
        assert result.returncode == 0, result.stderr
        runs[name] = _weights(workdir)
    assert runs["default"].keys() == runs["mirrored"].keys()
    assert len(runs["default"]) > 10
    for key, value in runs["default"].items():
        np.testing.assert_allclose(runs["mirrored"][key], value, rtol=2e-4, atol=2e-5,
                                   err_msg=key)
