"""Gradient reversal: identity forward, ``-lambda * grad`` backward."""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import tensorflow as tf

from tfmtl.ops.loader import load_library


def ganin_schedule(progress):
    """Ganin & Lempitsky (2015): lambda = 2 / (1 + exp(-10 p)) - 1 for p in [0, 1]."""
    return 2.0 / (1.0 + tf.exp(-10.0 * progress)) - 1.0


SCHEDULES: dict[str, Callable] = {"ganin": ganin_schedule}


@tf.custom_gradient
def _gradient_reversal_tf(x, lam):
    def grad(dy):
        return -lam * dy, None

    return tf.identity(x), grad


def gradient_reversal(x, lam=1.0):
    """Returns x; its gradient is reversed and scaled: ``-lam * grad``.

    Args:
        x: a floating-point tensor.
        lam: scalar (Python number or tensor), read at run time.

    Returns:
        A tensor equal to x.
    """
    x = tf.convert_to_tensor(x)
    lam = tf.cast(lam, x.dtype)
    library = load_library()
    if library is not None:
        return library.tfmtl_gradient_reversal(x, lam)
    return _gradient_reversal_tf(x, lam)


@keras.saving.register_keras_serializable(package="tfmtl")
class GradientReversal(keras.layers.Layer):
    """Gradient reversal layer for adversarial objectives.

    In training it passes its input through unchanged and multiplies the
    gradient flowing back by ``-lambda``; at inference (``training`` false) it is
    ``tf.identity``, so exported graphs hold no custom op.

    Args:
        lam: a fixed lambda (float), the name of a schedule ("ganin"), or a
            callable mapping training progress ``p`` in [0, 1] (a tensor) to
            lambda. Schedules read the layer's ``progress`` variable, which the
            trainer sets with ``layer.progress.assign(p)``.
        **kwargs: forwarded to ``keras.layers.Layer``.

    Example:
        grl = GradientReversal("ganin")
        features = grl(encoder_output, training=True)
        grl.progress.assign(step / total_steps)

    Reference:
        Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation",
        ICML 2015.
    """

    def __init__(self, lam: float | str | Callable = 1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(lam, str) and lam not in SCHEDULES:
            raise ValueError(f"unknown lambda schedule {lam!r}; known: {sorted(SCHEDULES)}")
        if not isinstance(lam, (int, float, str)) and not callable(lam):
            raise TypeError(f"lam must be a number, a schedule name or a callable, got {lam!r}")
        if isinstance(lam, (int, float)) and not math.isfinite(lam):
            raise ValueError(f"lam must be finite, got {lam}")
        self.lam = lam
        self.supports_masking = True
        self.progress = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="progress", dtype="float32"
        )

    def current_lambda(self):
        """Lambda at the current progress, as a float32 tensor."""
        if isinstance(self.lam, (int, float)):
            return tf.constant(float(self.lam), tf.float32)
        schedule = SCHEDULES[self.lam] if isinstance(self.lam, str) else self.lam
        p = tf.clip_by_value(tf.convert_to_tensor(self.progress), 0.0, 1.0)
        return tf.cast(schedule(p), tf.float32)

    def call(self, inputs, training=None):
        if not training:
            return tf.identity(inputs)
        return gradient_reversal(inputs, self.current_lambda())

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        lam = self.lam
        if callable(lam) and not isinstance(lam, str):
            lam = keras.saving.serialize_keras_object(lam)
        config["lam"] = lam
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("lam"), dict):
            config["lam"] = keras.saving.deserialize_keras_object(config["lam"])
        return cls(**config)
