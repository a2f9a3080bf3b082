"""Driving the lambda schedule of the model's gradient-reversal layers."""

from __future__ import annotations

import ml_collections

from tfmtl.config import ConfigError
from tfmtl.ops.gradient_reversal import GradientReversal
from tfmtl.training.callbacks import CALLBACKS, Callback


def gradient_reversal_layers(model) -> list[GradientReversal]:
    """Every GradientReversal layer of a Keras model, nested ones included."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, GradientReversal)]


@CALLBACKS.register("gradient_reversal")
class GradientReversalSchedule(Callback):
    """Sets every ``GradientReversal`` layer's ``progress`` to ``step / steps`` before
    each step, so a scheduled lambda (Ganin and Lempitsky 2015's
    ``2 / (1 + exp(-10 p)) - 1``) grows from 0 to 1 over training.

    Reference:
        Ganin and Lempitsky, "Unsupervised domain adaptation by backpropagation",
        ICML 2015.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.steps = 0  # Steps over which progress goes from 0 to 1 (0 = training.steps).
        return c

    @classmethod
    def check_config(cls, config, key, run_config):
        if config.steps < 0:
            raise ConfigError(f"{key}.steps", f"must be >= 0, got {config.steps}")

    def _assign(self, run, step: int) -> None:
        span = self.config.steps or run.total_steps
        for layer in self.layers:
            layer.progress.assign(min(step / span, 1.0))

    def on_train_begin(self, run):
        self.layers = gradient_reversal_layers(run.model.model)
        self._assign(run, run.step)

    def on_step_end(self, run, logs):
        self._assign(run, run.step)
