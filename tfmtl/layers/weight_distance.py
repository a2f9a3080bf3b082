"""The squared L2 distance between corresponding weights of layers: soft sharing's penalty."""

from __future__ import annotations

import keras
from keras import ops

from tfmtl.layers.precision import float32_under_mixed_policy


class WeightDistance(keras.layers.Layer):
    """``weight * sum over pairs of ||W_a - W_b||^2``, summed over corresponding weights.

    Called on any tensor of the model (only to place the penalty in the
    functional graph); it reads the weights of the layers it was given, which
    stay those layers' own (this layer tracks none of them, so a task model's
    variables are its column's alone).

    Args:
        groups: per column, its layers, lowest first (the same kinds and shapes in every
            column); between every pair of columns, the weights of the layers both have
            are compared.
        weight: the penalty's weight (lambda).

    Reference:
        Duong, Cohn, Bird and Cook, "Low Resource Dependency Parsing: Cross-lingual
        Parameter Sharing in a Neural Network Parser", ACL 2015.
    """

    def __init__(self, groups, weight: float, **kwargs):
        super().__init__(**float32_under_mixed_policy(kwargs))
        pairs = []
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                for la, lb in zip(groups[a], groups[b], strict=False):
                    wa, wb = la.trainable_weights, lb.trainable_weights
                    if [tuple(w.shape) for w in wa] != [tuple(w.shape) for w in wb]:
                        raise ValueError(f"{la.name} and {lb.name} differ in their weights' "
                                         "shapes")
                    pairs.extend(zip(wa, wb, strict=True))
        # A closure, not an attribute: Keras would track the variables as this layer's.
        self._pairs = lambda: pairs
        self.weight = weight

    def call(self, anchor):
        total = ops.zeros((), anchor.dtype)
        for wa, wb in self._pairs():
            total = total + ops.sum(ops.square(ops.cast(wa, anchor.dtype)
                                               - ops.cast(wb, anchor.dtype)))
        return self.weight * total

    def compute_output_shape(self, input_shape):
        return ()
