"""Uncertainty weighting (Kendall, Gal and Cipolla 2018): learned log-variances."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("uncertainty")
class Uncertainty(Weighting):
    """``sum_i 0.5 exp(-s_i) L_i + 0.5 s_i``, each ``s_i = log sigma_i^2`` a trainable
    variable the optimizer updates with the model (so a task whose loss stays high is
    weighted down, at the price of a larger ``s_i``).

    Under a distribution strategy each replica adds its share of the ``0.5 s_i`` term,
    so the summed gradients are those of one process.

    Reference:
        Kendall, Gal and Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses
        for Scene Geometry and Semantics", CVPR 2018.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.initial = 0.0  # Initial log-variance s_i of every task (0: weight 0.5).
        return c

    @classmethod
    def check_config(cls, config, key):
        if not isinstance(config.initial, (int, float)) or abs(config.initial) > 20:
            raise ConfigError(f"{key}.initial", f"a log-variance in [-20, 20], got "
                              f"{config.initial!r}")

    def build(self):
        self.log_variances = {name: tf.Variable(float(self.config.initial), trainable=True,
                                                name=f"log_variance_{name}")
                              for name in self.task_names}

    def combine(self, losses):
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        total = 0.0
        for name in self.task_names:
            s = self.log_variances[name]
            total += 0.5 * tf.exp(-s) * losses[name] + 0.5 * s / replicas
        return total

    def metrics(self):
        return {**{f"{name}/weight": 0.5 * tf.exp(-s) for name, s in self.log_variances.items()},
                **{f"{name}/log_variance": s for name, s in self.log_variances.items()}}
