"""The loss of a domain discriminator on a batch that came from one known domain."""

from __future__ import annotations

import keras
from keras import ops

from tfmtl.layers.precision import float32_under_mixed_policy


@keras.saving.register_keras_serializable(package="tfmtl")
class DomainLoss(keras.layers.Layer):
    """``weight`` times the batch mean of the cross-entropy of each row's logits against
    one class, ``domain``: the loss of a discriminator on a batch of sentences that all
    came from that domain (corpus).

    Args:
        domain: the target class (0-based).
        weight: the loss's weight.
    """

    def __init__(self, domain: int, weight: float = 1.0, **kwargs):
        super().__init__(**float32_under_mixed_policy(kwargs))
        if domain < 0:
            raise ValueError(f"domain must be >= 0, got {domain}")
        self.domain = domain
        self.weight = weight

    def call(self, logits):
        log_probs = ops.log_softmax(logits, axis=-1)
        return -self.weight * ops.mean(log_probs[:, self.domain])

    def compute_output_shape(self, input_shape):
        return ()

    def get_config(self):
        return {**super().get_config(), "domain": self.domain, "weight": self.weight}
