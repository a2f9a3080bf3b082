"""Driving the lambda schedule of the model's gradient-reversal layers."""

from __future__ import annotations

import keras
import ml_collections

from tfmtl.config import ConfigError
from tfmtl.ops.gradient_reversal import GradientReversal
from tfmtl.training.callbacks import CALLBACKS, Callback


def gradient_reversal_layers(model: keras.Model) -> list[GradientReversal]:
    """Every GradientReversal layer of a Keras model, each once, in the order of its layers.

    The walk uses Keras' public API: the model's ``layers``, recursively those of
    nested models (functional, ``Sequential``), the layer a wrapper wraps
    (``TimeDistributed``) and both halves of a ``Bidirectional``. Keras offers no
    public view of the sublayers a custom layer keeps in its attributes, so a
    GradientReversal inside one is found only if that layer is a ``keras.Model``.
    """
    found: list[GradientReversal] = []
    seen: set[int] = set()

    def walk(layers) -> None:
        for layer in layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if isinstance(layer, GradientReversal):
                found.append(layer)
            if isinstance(layer, keras.Model):
                walk(layer.layers)
            elif isinstance(layer, keras.layers.Bidirectional):
                walk([layer.forward_layer, layer.backward_layer])
            elif isinstance(layer, keras.layers.Wrapper):
                walk([layer.layer])

    walk(model.layers)
    return found


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
