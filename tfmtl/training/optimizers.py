"""Optimizers and learning-rate schedules from the config."""

from __future__ import annotations

import keras
import ml_collections
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak`, then constant, exponential, cosine or linear decay.

    The decays are Keras' own schedules (``ExponentialDecay``, ``CosineDecay``,
    ``PolynomialDecay`` of power 1), run on the steps after warm-up; Keras has no
    warm-up in front of an arbitrary schedule, so that part is ours: step ``s <
    warmup_steps`` takes ``peak * (s + 1) / warmup_steps``.

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
        # Steps of decay after warm-up (cosine and linear reach 0 at total_steps).
        span = max(float(total_steps) - float(warmup_steps), 1.0)
        schedules = keras.optimizers.schedules
        if schedule == "constant":
            self.decay = None
        elif schedule == "exponential":
            self.decay = schedules.ExponentialDecay(peak, decay_steps, decay_rate)
        elif schedule == "cosine":
            self.decay = schedules.CosineDecay(peak, span)
        elif schedule == "linear":
            self.decay = schedules.PolynomialDecay(peak, span, end_learning_rate=0.0, power=1.0)
        else:
            raise ValueError(f"unknown schedule {schedule!r}")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(self.warmup_steps)
        if self.decay is None:
            rate = ops.convert_to_tensor(self.peak, "float32")
        else:
            rate = self.decay(ops.maximum(step - warm, 0.0))
        if self.warmup_steps:
            rate = ops.where(step < warm, self.peak * (step + 1.0) / warm, rate)
        return rate

    def get_config(self):
        return {"peak": self.peak, "schedule": self.schedule, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps}


def build_optimizer(optimizer_config: ml_collections.ConfigDict, total_steps: int, *,
                    loss_scaling: bool = False) -> keras.optimizers.Optimizer:
    """Builds the optimizer the ``config.training.optimizer`` section describes.

    Args:
        optimizer_config: the ``config.training.optimizer`` section.
        total_steps: steps of the run (the decays' span).
        loss_scaling: wrap it in a ``keras.optimizers.LossScaleOptimizer`` (dynamic loss
            scaling, for ``mixed_float16``): the train steps then scale the loss (see
            :mod:`tfmtl.training.steps`), and it unscales the gradients, skips a step whose
            gradients are not finite and adapts the scale (halved after such a step,
            doubled after 2000 finite ones), before the wrapped optimizer clips and
            applies them.
    """
    o = optimizer_config
    schedule = LearningRateSchedule(
        o.learning_rate, o.schedule, total_steps, warmup_steps=o.warmup_steps,
        decay_rate=o.decay_rate, decay_steps=o.decay_steps,
    )
    clip = {"global_clipnorm": o.clip_norm} if o.clip_norm else {}
    if o.type == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=schedule, **clip)
    elif o.type == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=o.momentum, **clip)
    else:
        raise ValueError(f"config.training.optimizer.type: unknown optimizer {o.type!r}")
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scaling else optimizer
