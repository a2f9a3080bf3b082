"""Random loss weighting (Lin et al. 2021): fresh random weights at every step."""

import ml_collections
import tensorflow as tf

from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("rlw")
class RandomLossWeighting(Weighting):
    """``sum_i w_i L_i`` with ``w = softmax(z)``, ``z ~ N(0, I)`` drawn anew at every step
    (the paper's normal distribution; the weights sum to 1).

    The draw is a function of (``seed``, step) only (a stateless generator and a step
    counter in the checkpointed state), so every replica draws the same weights and a
    resumed run draws what the uninterrupted one did.

    Reference:
        Lin, Ye, Xu, Shi and Zhang, "Reasonable Effectiveness of Random Weighting: A Litmus
        Test for Multi-Task Learning", TMLR 2022 (arXiv 2111.10603, 2021).
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.seed = 0  # Seed of the weights' draws (with the step).
        return c

    def build(self):
        only_first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                aggregation=only_first)
        self.weights = tf.Variable(tf.fill([len(self.task_names)], 1.0 / len(self.task_names)),
                                   trainable=False, name="weights", aggregation=only_first)

    def combine(self, losses):
        seed = tf.stack([tf.constant(int(self.config.seed), tf.int64), self.step])
        weights = tf.nn.softmax(tf.random.stateless_normal([len(self.task_names)], seed=seed))
        self.weights.assign(weights)
        self.step.assign_add(1)
        return tf.add_n([weights[i] * losses[name] for i, name in enumerate(self.task_names)])

    def metrics(self):
        return {f"{name}/weight": self.weights[i] for i, name in enumerate(self.task_names)}
