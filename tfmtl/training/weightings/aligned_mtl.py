"""Aligned-MTL (Senushkin et al. 2023): the task gradients made orthogonal and of equal
norm before they are summed."""

import tensorflow as tf

from tfmtl.training.weightings import WEIGHTINGS
from tfmtl.training.weightings.gradients import GramWeighting

# Eigenvalues below max * K * this are the Gram matrix's null space (float32's epsilon,
# as the reference code's).
EPSILON = 1.1920928955078125e-07


def aligned_alpha(gram: tf.Tensor) -> tf.Tensor:
    """With ``M = V L V^T`` restricted to its rank ``r`` (eigenvalues above the
    tolerance), ``B = sqrt(l_min) V L^{-1/2} V^T`` aligns the gradients (``B G`` has
    orthogonal rows of norm ``sqrt(l_min)`` on ``M``'s range) and ``alpha = B 1`` sums
    the aligned gradients (task weights of 1)."""
    k = gram.shape[0]
    eigenvalues, vectors = tf.linalg.eigh(gram)
    tolerance = tf.reduce_max(eigenvalues) * k * EPSILON
    kept = eigenvalues > tolerance
    inverse_sqrt = tf.where(kept, 1.0 / tf.sqrt(tf.where(kept, eigenvalues, 1.0)), 0.0)
    smallest = tf.reduce_min(tf.where(kept, eigenvalues, tf.reduce_max(eigenvalues)))
    b = tf.sqrt(tf.maximum(smallest, 0.0)) * tf.linalg.matmul(
        vectors * inverse_sqrt[None, :], vectors, transpose_b=True)
    return tf.reduce_sum(b, axis=0)


@WEIGHTINGS.register("aligned_mtl")
class AlignedMTL(GramWeighting):
    """Aligned-MTL: the linear system of the task gradients is made well conditioned
    (condition number 1) by aligning its principal components, ``G' = B G`` with
    ``B = sqrt(l_min) V L^{-1/2} V^T`` from the eigendecomposition ``G G^T = V L V^T``,
    and the update is the sum of the aligned gradients; in closed form from the Gram
    matrix (tasks whose gradients are linearly dependent leave the null space out).
    With ``gradients="representation"`` the alignment is computed on the tasks'
    gradients on the shared encoder's output (the paper's Aligned-MTL-UB), and the
    shared variables follow ``sum_i alpha_i L_i``.

    Reference:
        Senushkin, Patakin, Kuznetsov and Konushin, "Independent Component Alignment for
        Multi-Task Learning", CVPR 2023.
    """

    gradient_modes = ("exact", "representation")

    def alpha(self, gram, losses):
        return aligned_alpha(gram)
