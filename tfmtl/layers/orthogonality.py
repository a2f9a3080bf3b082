"""A penalty that pushes two feature spaces apart: the squared norm of their product."""

from __future__ import annotations

import keras
from keras import ops

from tfmtl.layers.precision import float32_under_mixed_policy


@keras.saving.register_keras_serializable(package="tfmtl")
class Orthogonality(keras.layers.Layer):
    """``weight`` times the batch mean of ``||A^T B||_F^2`` over each sentence's tokens.

    A is [batch, time, a] and B [batch, time, b] features of the same tokens;
    padding rows are zeroed, so each sentence contributes the squared Frobenius
    norm of its [a, b] product. Zero when every column of A is orthogonal to
    every column of B over the sentence's tokens.

    With ``normalize``, each token's row of A and of B is scaled to unit L2 norm
    first (as Bousmalis et al.'s reference code does), so the penalty does not
    fall by shrinking the features: without it, a model whose private features
    carry the tasks can drive the other space towards zero instead of apart.

    Args:
        weight: the penalty's weight.
        normalize: scale each token's features to unit norm first.

    Reference:
        Bousmalis et al., "Domain Separation Networks", NeurIPS 2016; used between the
        shared and private features by Liu, Qiu and Huang 2017 and between subspaces by
        Ruder et al. 2019.
    """

    def __init__(self, weight: float = 1.0, normalize: bool = False, **kwargs):
        super().__init__(**float32_under_mixed_policy(kwargs))
        self.weight = weight
        self.normalize = normalize
        # The mask comes in as an argument; the scalar penalty carries none.
        self.supports_masking = True

    def compute_mask(self, *args, **kwargs):
        return None

    def call(self, a, b, mask):
        m = ops.expand_dims(ops.cast(mask, a.dtype), -1)
        if self.normalize:
            a = a / ops.maximum(ops.norm(a, axis=-1, keepdims=True), 1e-6)
            b = b / ops.maximum(ops.norm(b, axis=-1, keepdims=True), 1e-6)
        product = ops.matmul(ops.transpose(a * m, (0, 2, 1)), b * m)
        return self.weight * ops.mean(ops.sum(ops.square(product), axis=(1, 2)))

    def compute_output_shape(self, *shapes):
        return ()

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "normalize": self.normalize}
