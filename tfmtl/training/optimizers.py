"""Optimizers and learning-rate schedules from the config."""

from __future__ import annotations

import math

import keras
import ml_collections
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak`, then constant, exponential, cosine or linear decay.

    Args:
        peak: learning rate at the end of warm-up.
        schedule: "constant", "exponential", "cosine" or "linear".
        total_steps: steps of the run (cosine and linear decay reach 0 there).
        warmup_steps: steps of linear warm-up from 0.
        decay_rate: exponential decay factor per `decay_steps`.
        decay_steps: steps per `decay_rate` factor.
    """

    def __init__(self, peak: float, schedule: str, total_steps: int, warmup_steps: int = 0,
                 decay_rate: float = 0.5, decay_steps: int = 1000):
        self.peak = peak
        self.schedule = schedule
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(self.warmup_steps)
        after = ops.maximum(step - warm, 0.0)
        span = max(float(self.total_steps) - warm, 1.0)
        if self.schedule == "constant":
            rate = ops.convert_to_tensor(self.peak, "float32")
        elif self.schedule == "exponential":
            rate = self.peak * ops.power(self.decay_rate, after / float(self.decay_steps))
        elif self.schedule == "cosine":
            rate = self.peak * 0.5 * (1.0 + ops.cos(math.pi * ops.minimum(after / span, 1.0)))
        elif self.schedule == "linear":
            rate = self.peak * ops.maximum(1.0 - after / span, 0.0)
        else:
            raise ValueError(f"unknown schedule {self.schedule!r}")
        if self.warmup_steps:
            rate = ops.where(step < warm, self.peak * (step + 1.0) / warm, rate)
        return rate

    def get_config(self):
        return {"peak": self.peak, "schedule": self.schedule, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps}


def build_optimizer(optimizer_config: ml_collections.ConfigDict,
                    total_steps: int) -> keras.optimizers.Optimizer:
    """Builds the optimizer the ``config.training.optimizer`` section describes."""
    o = optimizer_config
    schedule = LearningRateSchedule(
        o.learning_rate, o.schedule, total_steps, warmup_steps=o.warmup_steps,
        decay_rate=o.decay_rate, decay_steps=o.decay_steps,
    )
    clip = {"global_clipnorm": o.clip_norm} if o.clip_norm else {}
    if o.type == "adam":
        return keras.optimizers.Adam(learning_rate=schedule, **clip)
    if o.type == "sgd":
        return keras.optimizers.SGD(learning_rate=schedule, momentum=o.momentum, **clip)
    raise ValueError(f"config.training.optimizer.type: unknown optimizer {o.type!r}")
