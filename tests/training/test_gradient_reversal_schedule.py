"""The gradient-reversal callback finds the model's GradientReversal layers and drives them."""

import types

import keras
import ml_collections
import pytest

from tfmtl.config import ConfigError
from tfmtl.ops import GradientReversal
from tfmtl.training.callbacks.gradient_reversal import (
    GradientReversalSchedule,
    check_schedules,
    gradient_reversal_layers,
)


class _Holder(keras.layers.Layer):
    """A custom layer that keeps a GradientReversal in an attribute."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reversal = GradientReversal("ganin", name="held")

    def call(self, x):
        return self.reversal(x)


def _model():
    """GradientReversal layers at the top, in a nested functional model (twice), in a
    Sequential, inside a wrapper and in a custom layer's attribute; and a Bidirectional LSTM
    among them."""
    inner_input = keras.Input((None, 4))
    inner = keras.Model(inner_input, GradientReversal("ganin", name="inner")(inner_input),
                        name="inner_model")
    sequential = keras.Sequential([keras.layers.Dense(4), GradientReversal(name="sequential")],
                                  name="sequential_model")
    x = keras.Input((None, 4))
    h = GradientReversal(0.5, name="top")(x)
    h = inner(inner(h))  # One layer, called twice: found once.
    h = sequential(h)
    h = keras.layers.TimeDistributed(GradientReversal(name="wrapped"))(h)
    h = _Holder(name="holder")(h)
    h = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))(h)
    return keras.Model(x, keras.layers.Dense(2)(h))


def test_every_layer_is_found_once_through_nested_models_and_wrappers():
    found = gradient_reversal_layers(_model())
    assert sorted(layer.name for layer in found) == ["held", "inner", "sequential", "top",
                                                     "wrapped"]
    assert gradient_reversal_layers(keras.Sequential([keras.layers.Dense(2)])) == []


@pytest.mark.parametrize("steps, at, want", [(0, 5, 0.5), (0, 12, 1.0), (4, 3, 0.75)])
def test_the_schedule_sets_every_layers_progress(steps, at, want):
    model = _model()
    run = types.SimpleNamespace(model=types.SimpleNamespace(model=model), step=0,
                                total_steps=10)
    callback = GradientReversalSchedule(ml_collections.ConfigDict({"steps": steps}))
    callback.on_train_begin(run)
    layers = gradient_reversal_layers(model)
    assert all(float(layer.progress.numpy()) == 0.0 for layer in layers)
    run.step = at
    callback.on_step_end(run, {})
    assert [float(layer.progress.numpy()) for layer in layers] == [want] * 5


def test_a_scheduled_layer_without_the_callback_is_a_config_error():
    model = _model()
    with pytest.raises(ConfigError, match=r"training\.callbacks.*held.*inner|"
                                          r"training\.callbacks.*inner.*held"):
        check_schedules(model, [])
    check_schedules(model, [GradientReversalSchedule(ml_collections.ConfigDict({"steps": 0}))])
    fixed = keras.Sequential([keras.Input((3,)), GradientReversal(0.5)])
    check_schedules(fixed, [])  # A fixed lambda needs no schedule.
