"""MGDA (Sener and Koltun 2018): the min-norm point of the convex hull of the task
gradients."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, global_losses
from tfmtl.training.weightings.gradients import GramWeighting, minimize_on_simplex

NORMALIZATIONS = ("none", "l2", "loss", "loss+")


def min_norm_weights(gram: tf.Tensor, iterations: int) -> tf.Tensor:
    """``argmin_{w in simplex} w^T M w`` (the min-norm element of the hull of the
    gradients whose Gram matrix is `gram`), by accelerated projected gradient descent."""
    k = gram.shape[0]
    lipschitz = 2.0 * tf.reduce_max(tf.linalg.eigvalsh(gram))
    return minimize_on_simplex(lambda w: tf.tensordot(w, tf.linalg.matvec(gram, w), 1),
                               lambda w: 2.0 * tf.linalg.matvec(gram, w), k, lipschitz,
                               iterations)


def gradient_normalizers(gram: tf.Tensor, losses: tf.Tensor, kind: str) -> tf.Tensor:
    """Sener and Koltun's normalizers ``n_i`` (each gradient is divided by its own):
    ``l2`` its norm, ``loss`` the task's loss, ``loss+`` loss times norm, ``none`` 1."""
    norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 0.0))
    losses = tf.cast(losses, tf.float64)
    value = {"none": tf.ones_like(norms), "l2": norms, "loss": losses,
             "loss+": losses * norms}[kind]
    return tf.where(value > 0.0, value, 1.0)


@WEIGHTINGS.register("mgda")
class MGDA(GramWeighting):
    """The multiple-gradient descent algorithm: the update is the min-norm point of the
    convex hull of the (normalized) task gradients, ``d = sum_i w_i g_i / n_i`` with
    ``w = argmin_{w in simplex} |sum_i w_i g_i / n_i|^2``: a common descent direction of
    every task, or zero at a Pareto-stationary point. The quadratic program is solved in
    graph on the K x K Gram matrix, to ``iterations`` steps of accelerated projected
    gradient descent in float64 (tested against a QP solver to 1e-6 of the optimal
    value); the weights logged are ``w_i / n_i``, the coefficients of the raw gradients.
    With ``gradients="representation"`` this is MGDA-UB: the same problem on the tasks'
    gradients on the shared encoder's output (the paper's upper bound), and the shared
    variables follow ``sum_i w_i L_i / n_i``.

    Reference:
        Sener and Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS
        2018.
    """

    gradient_modes = ("exact", "representation")

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.normalization = "none"  # Of each gradient: none, l2, loss, loss+ (the paper's).
        c.iterations = 300  # Of the min-norm solver.
        return c

    @classmethod
    def check_config(cls, config, key):
        if config.normalization not in NORMALIZATIONS:
            raise ConfigError(f"{key}.normalization", f"one of {', '.join(NORMALIZATIONS)}, "
                              f"got {config.normalization!r}")
        if not isinstance(config.iterations, int) or config.iterations < 1:
            raise ConfigError(f"{key}.iterations", f"an integer >= 1, got "
                              f"{config.iterations!r}")

    def alpha(self, gram, losses):
        n = gradient_normalizers(gram, tf.stack(global_losses(losses, self.task_names)),
                                 self.config.normalization)
        normalized = gram / (n[:, None] * n[None, :])
        return min_norm_weights(normalized, int(self.config.iterations)) / n
