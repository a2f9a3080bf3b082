"""PCGrad (Yu et al. 2020): project away each task gradient's conflict with the others."""

import ml_collections
import tensorflow as tf

from tfmtl.training.weightings import WEIGHTINGS
from tfmtl.training.weightings.gradients import GramWeighting


def pcgrad_coefficients(gram: tf.Tensor, orders: tf.Tensor) -> tf.Tensor:
    """The projected gradients as coefficients of the task gradients (K x K). Task
    ``i``'s gradient ``g_i'`` (starting as ``g_i``) visits the others in ``orders[i]``
    (a permutation of the tasks; ``i`` itself is skipped) and, where ``g_i' . g_j < 0``,
    loses its component along ``g_j``: ``g_i' -= (g_i' . g_j) / |g_j|^2 g_j``. Each
    ``g_i'`` is tracked as coefficients over the original gradients (row ``i``), so the
    dot products come from the Gram matrix."""
    k = gram.shape[0]
    rows = []
    for i in range(k):
        c = tf.one_hot(i, k, dtype=tf.float64)
        for position in range(k):
            j = orders[i, position]
            dot = tf.tensordot(c, gram[:, j], 1)
            norm2 = gram[j, j]
            conflict = tf.logical_and(tf.not_equal(j, i),
                                      tf.logical_and(dot < 0.0, norm2 > 0.0))
            step = tf.where(conflict, dot / tf.where(norm2 > 0.0, norm2, 1.0), 0.0)
            c = c - step * tf.one_hot(j, k, dtype=tf.float64)
        rows.append(c)
    return tf.stack(rows)


@WEIGHTINGS.register("pcgrad")
class PCGrad(GramWeighting):
    """Projecting conflicting gradients: each task's gradient is projected onto the
    normal plane of every other task gradient it conflicts with (negative dot product),
    visiting the others in a random order, and the projected gradients are summed.

    The orders are drawn from (``seed``, step) by a stateless generator, so every replica
    draws the same and a resumed run draws what the uninterrupted one did.

    Reference:
        Yu, Kumar, Gupta, Levine, Hausman and Finn, "Gradient Surgery for Multi-Task
        Learning", NeurIPS 2020.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.seed = 0  # Seed of the projection orders (with the step).
        return c

    def orders(self) -> tf.Tensor:
        """This step's visiting order of every task (K x K)."""
        k = len(self.task_names)
        seed = tf.stack([tf.constant(int(self.config.seed), tf.int64), self.step])
        return tf.argsort(tf.random.stateless_uniform([k, k], seed=seed), axis=1)

    def alpha(self, gram, losses):
        # The direction is the sum of the projected gradients.
        return tf.reduce_sum(pcgrad_coefficients(gram, self.orders()), axis=0)
