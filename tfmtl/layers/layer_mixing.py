"""A learned weighted sum of layers' outputs: a sluice network's beta."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class LayerMixing(keras.layers.Layer):
    """A learned weighted sum of L layers' outputs: a sluice network's beta for one task.

    Args:
        layers: L, the number of layers mixed.
        initial: the initial weights (default: all on the last layer, which is what a head
            reading that layer alone sees).
        trainable: learn the weights (False: fixed at ``initial``).
    """

    def __init__(self, layers: int, initial=None, **kwargs):
        super().__init__(**kwargs)
        if layers < 1:
            raise ValueError(f"layers must be at least 1, got {layers}")
        self.layers = layers
        self.initial = ([0.0] * (layers - 1) + [1.0]) if initial is None else list(initial)
        if len(self.initial) != layers:
            raise ValueError(f"initial has {len(self.initial)} weights for {layers} layers")
        self.supports_masking = True  # The layers' outputs share one token mask.

    def build(self, input_shape):
        self.beta = self.add_weight(
            name="beta", shape=(self.layers,),
            initializer=keras.initializers.Constant(np.asarray(self.initial, np.float32)),
            trainable=self.trainable)

    def call(self, inputs):
        beta = ops.cast(self.beta, inputs[0].dtype)
        return sum(beta[i] * x for i, x in enumerate(inputs))

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "layers": self.layers, "initial": self.initial}
