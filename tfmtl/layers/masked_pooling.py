"""Pooling over the real tokens of a padded sequence."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class MaskedPooling(keras.layers.Layer):
    """Pools [batch, time, dim] features over time, ignoring padding.

    Args:
        mode: "max", "mean" or "max_mean" (both, concatenated).
    """

    MODES = ("max", "mean", "max_mean")

    def __init__(self, mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        pooled = []
        if self.mode in ("max", "max_mean"):
            very_negative = ops.cast(-1e9, inputs.dtype)
            pooled.append(ops.max(ops.where(weights > 0, inputs, very_negative), axis=1))
        if self.mode in ("mean", "max_mean"):
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            pooled.append(ops.sum(inputs * weights, axis=1) / count)
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        dim = input_shape[-1]
        if self.mode == "max_mean" and dim is not None:
            dim *= 2
        return (input_shape[0], dim)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
