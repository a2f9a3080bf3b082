"""The learning-rate schedules: a linear warm-up, then Keras' own decays."""

import math

import keras
import numpy as np
import pytest

from tfmtl.training.optimizers import LearningRateSchedule


def _rates(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


@pytest.mark.parametrize(
    ("name", "keras_schedule"),
    [("exponential", lambda: keras.optimizers.schedules.ExponentialDecay(2e-3, 100, 0.5)),
     ("cosine", lambda: keras.optimizers.schedules.CosineDecay(2e-3, 400)),
     ("linear", lambda: keras.optimizers.schedules.PolynomialDecay(2e-3, 400, 0.0, power=1.0))])
def test_without_warm_up_the_decays_are_keras_schedules(name, keras_schedule):
    steps = range(0, 500, 7)
    ours = LearningRateSchedule(2e-3, name, 400, decay_rate=0.5, decay_steps=100)
    np.testing.assert_array_equal(_rates(ours, steps), _rates(keras_schedule(), steps))


def test_values_at_known_steps():
    peak = 1e-3
    constant = LearningRateSchedule(peak, "constant", 100)
    assert _rates(constant, [0, 50, 500]) == pytest.approx([peak] * 3)
    exponential = LearningRateSchedule(peak, "exponential", 100, decay_rate=0.5, decay_steps=10)
    assert _rates(exponential, [0, 10, 20, 15]) == pytest.approx(
        [peak, peak / 2, peak / 4, peak * 0.5 ** 1.5])
    cosine = LearningRateSchedule(peak, "cosine", 100)
    assert _rates(cosine, [0, 50, 100, 150]) == pytest.approx([peak, peak / 2, 0, 0], abs=1e-9)
    linear = LearningRateSchedule(peak, "linear", 100)
    assert _rates(linear, [0, 25, 100, 150]) == pytest.approx([peak, 0.75 * peak, 0, 0],
                                                              abs=1e-9)


@pytest.mark.parametrize("name", ["constant", "exponential", "cosine", "linear"])
def test_warm_up_ramps_to_the_peak_then_decays_from_it(name):
    peak, warm, total = 1e-3, 10, 110
    schedule = LearningRateSchedule(peak, name, total, warmup_steps=warm, decay_rate=0.5,
                                    decay_steps=20)
    ramp = _rates(schedule, range(warm))
    np.testing.assert_allclose(ramp, peak * np.arange(1, warm + 1) / warm, rtol=1e-6)
    # After warm-up, the decay starts again from step 0 at the peak, over total - warm steps.
    after = _rates(schedule, [warm, warm + 50, total])
    expected = {"constant": [peak, peak, peak],
                "exponential": [peak, peak * 0.5 ** 2.5, peak * 0.5 ** 5],
                "cosine": [peak, peak * 0.5 * (1 + math.cos(math.pi / 2)), 0.0],
                "linear": [peak, peak / 2, 0.0]}[name]
    np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-9)


def test_unknown_schedule_is_an_error_and_the_config_round_trips():
    with pytest.raises(ValueError, match="unknown schedule 'step'"):
        LearningRateSchedule(1e-3, "step", 100)
    schedule = LearningRateSchedule(1e-3, "cosine", 100, warmup_steps=5)
    again = LearningRateSchedule.from_config(schedule.get_config())
    assert _rates(again, range(0, 120, 9)).tolist() == _rates(schedule, range(0, 120, 9)).tolist()
