"""The ``all`` step's gradient path: per-task gradients on the shared variables, combined
by a weighting that declares ``needs_gradients``."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.cli_helpers import checkpoint_values
from tests.seams.common import tiny
from tfmtl.training import validate
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("gradient_sum_test")
class GradientSum(Weighting):
    """The plain sum of the task gradients: the same update as ``equal``."""

    needs_gradients = True

    def combine_gradients(self, losses, gradients):
        per_task = list(gradients.values())
        return [None if all(g[i] is None for g in per_task)
                else tf.add_n([g[i] for g in per_task if g[i] is not None])
                for i in range(len(per_task[0]))]


@WEIGHTINGS.register("gradient_first_task_test")
class GradientFirstTask(Weighting):
    """Only the first task's gradient moves the shared variables."""

    needs_gradients = True

    def combine_gradients(self, losses, gradients):
        return gradients[self.task_names[0]]


def _weights(tmp_path, weighting):
    config = tiny(steps=3, eval_every=3, checkpoint_every=3, log_every=3, step="all")
    config.training.weighting.type = weighting
    # SGD: the update is the gradient itself (Adam's g / sqrt(v) would magnify float noise
    # on near-zero gradients into differences of a learning rate).
    config.training.optimizer.update(type="sgd", learning_rate=0.5)
    workdir = tmp_path / weighting
    train_and_evaluate(validate(config), str(workdir))
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return checkpoint_values(path, "optimizer/_trainable_variables/")


@pytest.mark.slow  # Trains twice (half a minute).
def test_summed_task_gradients_equal_the_gradient_of_the_summed_loss(tmp_path):
    equal = _weights(tmp_path, "equal")
    summed = _weights(tmp_path, "gradient_sum_test")
    first = _weights(tmp_path, "gradient_first_task_test")
    assert equal.keys() == summed.keys() == first.keys()
    for name, value in equal.items():
        np.testing.assert_allclose(summed[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
    # A different combination moves the shared weights elsewhere (the test can fail).
    assert max(np.abs(first[n] - equal[n]).max() for n in equal) > 1e-4
