"""Tests for the task samplers."""

import ml_collections
import numpy as np
import pytest

from tfmtl.config import base_config
from tfmtl.experiment import task_config
from tfmtl.training.samplers import SAMPLERS, make_sampler


def _tasks(**ratios):
    tasks = ml_collections.ConfigDict()
    for name, ratio in ratios.items():
        tasks[name] = task_config("tagging", mixing_ratio=ratio)
    return tasks


def _sampler(kind, sizes, seed=0, **sampler_values):
    c = SAMPLERS.get(kind).default_config()  # The sampler's own keys, as validation adds them.
    c.type = kind
    c.update(sampler_values)
    tasks = _tasks(**{name: 1.0 for name in sizes})
    return make_sampler(c, tasks, sizes, next(iter(sizes)), seed)


def test_registry_lists_the_four_samplers():
    assert {"ratio", "proportional", "temperature", "uniform"} <= set(SAMPLERS.names())


def test_ratio_is_relative_to_the_reference():
    c = base_config().training.sampler
    sampler = make_sampler(c, _tasks(chunk=2.0, pos=1.0), {"chunk": 10, "pos": 10}, "chunk", 0)
    np.testing.assert_allclose(sampler.p, [2 / 3, 1 / 3])


def test_proportional_temperature_cap_uniform():
    sizes = {"a": 9000, "b": 1000}
    np.testing.assert_allclose(_sampler("proportional", sizes).p, [0.9, 0.1])
    np.testing.assert_allclose(_sampler("proportional", sizes, cap=2000).p, [2 / 3, 1 / 3])
    np.testing.assert_allclose(_sampler("temperature", sizes, temperature=2.0).p, [0.75, 0.25])
    np.testing.assert_allclose(_sampler("uniform", sizes).p, [0.5, 0.5])


def test_draws_are_a_pure_function_of_seed_and_step():
    sizes = {"a": 3, "b": 1, "c": 1}
    one, two = _sampler("proportional", sizes, seed=7), _sampler("proportional", sizes, seed=7)
    steps = [0, 1, 5000, 4095, 4096, 12345]
    assert [one.task_at(s) for s in steps] == [two.task_at(s) for s in reversed(steps)][::-1]
    other = _sampler("proportional", sizes, seed=8)
    assert [one.task_at(s) for s in range(200)] != [other.task_at(s) for s in range(200)]


@pytest.mark.parametrize("step", [0, 1, 100, 4096, 9000])
def test_counts_replay_the_draws(step):
    sampler = _sampler("proportional", {"a": 3, "b": 1, "c": 1}, seed=3)
    expected = np.bincount([sampler.task_at(s) for s in range(step)], minlength=3)
    np.testing.assert_array_equal(sampler.counts(step), expected)


def test_empirical_rates_match_probabilities():
    sampler = _sampler("proportional", {"a": 3, "b": 1}, seed=1)
    rates = sampler.counts(20000) / 20000
    np.testing.assert_allclose(rates, [0.75, 0.25], atol=0.02)


def test_reference_ratio_must_be_positive():
    c = base_config().training.sampler
    with pytest.raises(ValueError, match="reference task's ratio must be > 0"):
        make_sampler(c, _tasks(chunk=0.0, pos=1.0), {"chunk": 1, "pos": 1}, "chunk", 0)
