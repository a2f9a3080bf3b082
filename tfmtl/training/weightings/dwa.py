"""Dynamic weight average (Liu, Johns and Davison 2019): weights from how fast each task's
loss falls."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, Weighting, global_losses, state_variable


@WEIGHTINGS.register("dwa")
class DynamicWeightAverage(Weighting):
    """``sum_i w_i L_i``, ``w = K softmax(r / T)`` with ``r_i = L_i(t-1) / L_i(t-2)`` the
    ratio of task ``i``'s last two mean losses: a task whose loss falls slower gets more
    weight. The paper averages losses per epoch; here per ``period`` steps (an ``all``
    run has no epochs), and the weights are 1 until two periods have passed.

    The losses averaged are the global ones (all-reduced over replicas), so every replica
    keeps the same averages; they are checkpointed, so a resumed run continues them.

    Reference:
        Liu, Johns and Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.temperature = 2.0  # T: higher makes the weights more even.
        c.period = 100  # Steps over which each mean loss is taken (the paper's epoch).
        return c

    @classmethod
    def check_config(cls, config, key):
        if not config.temperature > 0:
            raise ConfigError(f"{key}.temperature", f"must be > 0, got {config.temperature}")
        if not isinstance(config.period, int) or config.period < 1:
            raise ConfigError(f"{key}.period", f"a number of steps >= 1, got "
                              f"{config.period!r}")

    def build(self):
        k = len(self.task_names)

        state = state_variable

        self.sums = state("sums", tf.zeros([k]))  # Of the losses in the current period.
        self.count = state("count", 0.0)  # Steps in the current period.
        self.last = state("last", tf.ones([k]))  # Mean losses of the last period ...
        self.before = state("before", tf.ones([k]))  # ... and of the one before it.
        self.periods = state("periods", 0.0)  # Periods completed.
        self.weights = state("weights", tf.ones([k]))

    def combine(self, losses):
        k = len(self.task_names)
        ratio = self.last / tf.maximum(self.before, 1e-12)
        weights = tf.where(self.periods >= 2.0,
                           k * tf.nn.softmax(ratio / self.config.temperature), tf.ones([k]))
        self.weights.assign(weights)
        values = tf.stack(global_losses(losses, self.task_names))
        sums, count = self.sums + values, self.count + 1.0
        full = count >= float(self.config.period)
        self.before.assign(tf.where(full, self.last, self.before))
        self.last.assign(tf.where(full, sums / count, self.last))
        self.sums.assign(tf.where(full, tf.zeros([k]), sums))
        self.count.assign(tf.where(full, 0.0, count))
        self.periods.assign_add(tf.cast(full, tf.float32))
        return tf.add_n([weights[i] * losses[name] for i, name in enumerate(self.task_names)])

    def metrics(self):
        return {f"{name}/weight": self.weights[i] for i, name in enumerate(self.task_names)}
