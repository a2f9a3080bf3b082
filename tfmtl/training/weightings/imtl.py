"""IMTL-G (Liu et al. 2021): the update with equal projections on every task's unit
gradient."""

import tensorflow as tf

from tfmtl.training.weightings import WEIGHTINGS
from tfmtl.training.weightings.gradients import GramWeighting


def imtl_alpha(gram: tf.Tensor) -> tf.Tensor:
    """IMTL-G's closed form: with ``u_i = g_i / |g_i|``, ``D`` the rows ``g_1 - g_i`` and
    ``U`` the rows ``u_1 - u_i`` (i = 2..K), ``alpha_{2..K} = g_1 U^T (D U^T)^{-1}`` and
    ``alpha_1 = 1 - sum alpha_{2..K}``; every product comes from the Gram matrix."""
    k = gram.shape[0]
    if k == 1:
        return tf.ones([1], tf.float64)
    norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 1e-300))
    # g_a . u_b = M_ab / n_b.
    gu = gram / norms[None, :]
    g1_u = gu[0, 0] - gu[0, 1:]  # g_1 . (u_1 - u_b), b = 2..K.
    # (g_1 - g_a) . (u_1 - u_b) = g_1.u_1 - g_1.u_b - g_a.u_1 + g_a.u_b.
    du = gu[0, 0] - gu[0, None, 1:] - gu[1:, 0, None] + gu[1:, 1:]
    rest = tf.linalg.solve(tf.transpose(du), g1_u[:, None])[:, 0]
    return tf.concat([[1.0 - tf.reduce_sum(rest)], rest], axis=0)


@WEIGHTINGS.register("imtl")
class IMTL(GramWeighting):
    """Impartial multi-task learning, its gradient part (IMTL-G): the update ``d = sum_i
    alpha_i g_i`` with ``sum_i alpha_i = 1`` whose projection on every task's unit
    gradient is the same, ``d . u_i = d . u_j``, so no task dominates the shared
    update; in closed form from the Gram matrix. With ``gradients="representation"``
    the projections are equalised on the tasks' gradients on the shared encoder's output
    (as the paper does for its shared feature), and the shared variables follow
    ``sum_i alpha_i L_i``.

    Reference:
        Liu, Li, Kuang, Xue, Chen, Yang, Liao and Zhang, "Towards Impartial Multi-task
        Learning", ICLR 2021.
    """

    gradient_modes = ("exact", "representation")

    def alpha(self, gram, losses):
        return imtl_alpha(gram)
