"""The extra losses (sharing schemes', model.losses) of an `all` step: one value per step."""

import numpy as np
import tensorflow as tf

from tfmtl.training.steps import _mean_over_groups


def test_the_groups_extra_losses_are_averaged_and_logged_by_name():
    stats = {}
    extras = [tf.constant(2.0), tf.constant(4.0)]
    parts = [{"shared/adversarial": (tf.constant(1.5), tf.constant(1.0)),
              "regularization": (tf.constant(0.5), tf.constant(1.0))},
             {"shared/adversarial": (tf.constant(3.5), tf.constant(1.0)),
              "regularization": (tf.constant(0.5), tf.constant(1.0))}]
    total = _mean_over_groups(extras, parts, stats)
    assert float(total) == 3.0
    assert float(stats["shared/adversarial"][0]) == 2.5
    assert float(stats["regularization"][0]) == 0.5  # A weight penalty counts once.
    assert float(stats["regularization"][1]) == 1.0


def test_one_group_is_its_own_extra_loss_and_none_stays_none():
    value = tf.constant(np.float32(0.1234567))
    stats = {}
    total = _mean_over_groups([value], [{"regularization": (value, tf.constant(1.0))}], stats)
    assert total is value and stats["regularization"][0] is value  # Bit for bit: no division.
    assert _mean_over_groups([None, None], [{}, {}], {}) is None
