"""CAGrad (Liu et al. 2021): the average gradient, moved towards the worst task's
improvement within a ball around it."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS
from tfmtl.training.weightings.gradients import GramWeighting, minimize_on_simplex

RESCALES = (0, 1, 2)


def cagrad_alpha(gram: tf.Tensor, c: float, rescale: int, iterations: int) -> tf.Tensor:
    """The coefficients of CAGrad's direction. With ``g0`` the mean gradient and ``phi =
    c^2 |g0|^2``, ``w = argmin_{w in simplex} g_w . g0 + sqrt(phi) |g_w|`` (``g_w = sum_i
    w_i g_i``; the dual of ``max_d min_i g_i . d`` over ``|d - g0| <= sqrt(phi)``), then
    ``d = g0 + sqrt(phi) / |g_w| g_w``, divided by ``1 + c^2`` (``rescale`` 1, the
    reference code's default), ``1 + c`` (2) or not at all (0)."""
    k = gram.shape[0]
    mean = tf.fill([k], tf.constant(1.0 / k, tf.float64))
    g0_norm = tf.sqrt(tf.maximum(tf.tensordot(mean, tf.linalg.matvec(gram, mean), 1), 0.0))
    radius = c * g0_norm  # sqrt(phi)
    b = tf.linalg.matvec(gram, mean)  # g_i . g0
    eps = 1e-12 * tf.maximum(tf.linalg.trace(gram), 1e-300)

    def value(w):
        return tf.tensordot(b, w, 1) + radius * tf.sqrt(
            tf.tensordot(w, tf.linalg.matvec(gram, w), 1) + eps)

    def gradient(w):
        mw = tf.linalg.matvec(gram, w)
        return b + radius * mw / tf.sqrt(tf.tensordot(w, mw, 1) + eps)

    # |g_w| is not smooth where g_w = 0 (eps bounds the curvature there): the solver
    # backtracks from a first estimate of the gradient's Lipschitz constant.
    lipschitz = tf.reduce_max(tf.linalg.eigvalsh(gram)) / tf.maximum(g0_norm, 1e-150)
    w = minimize_on_simplex(value, gradient, k, lipschitz, iterations)
    gw_norm = tf.sqrt(tf.maximum(tf.tensordot(w, tf.linalg.matvec(gram, w), 1), 0.0) + eps)
    alpha = mean + radius / gw_norm * w
    scale = {0: 1.0, 1: 1.0 + c * c, 2: 1.0 + c}[rescale]
    return alpha / scale


@WEIGHTINGS.register("cagrad")
class CAGrad(GramWeighting):
    """Conflict-averse gradient descent: the update maximises the worst task's local
    improvement ``min_i g_i . d`` among directions within ``c |g0|`` of the average
    gradient ``g0``; ``c = 0`` is plain averaging. The dual on the simplex is solved in
    graph on the K x K Gram matrix (``iterations`` steps of accelerated projected
    gradient descent in float64; the reference code takes 20 steps of SGD on softmax
    logits).

    Reference:
        Liu, Liu, Jin, Stone and Liu, "Conflict-Averse Gradient Descent for Multi-task
        Learning", NeurIPS 2021.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.c = 0.4  # Radius of the ball around the average gradient, relative to its norm.
        c.rescale = 1  # Divide the update by 1 + c^2 (1), 1 + c (2), or not (0).
        c.iterations = 300  # Of the dual's solver.
        return c

    @classmethod
    def check_config(cls, config, key):
        if not isinstance(config.c, (int, float)) or config.c < 0:
            raise ConfigError(f"{key}.c", f"a number >= 0, got {config.c!r}")
        if config.rescale not in RESCALES:
            raise ConfigError(f"{key}.rescale", f"0, 1 or 2, got {config.rescale!r}")
        if not isinstance(config.iterations, int) or config.iterations < 1:
            raise ConfigError(f"{key}.iterations", f"an integer >= 1, got "
                              f"{config.iterations!r}")

    def alpha(self, gram, losses):
        return cagrad_alpha(gram, float(self.config.c), int(self.config.rescale),
                            int(self.config.iterations))
