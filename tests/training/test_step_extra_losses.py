"""The extra losses (sharing schemes', model.losses) of an `all` step: one value per step."""

import numpy as np
import tensorflow as tf

from tfmtl.training.steps import _mean_over_groups


def test_the_groups_extra_losses_are_averaged_and_logged_by_name():
    stats = {}
    extras = [tf.constant(2.0), tf.constant(4.0)]
    parts = [{"shared/adversarial": (tf.constant(1.5), tf.constant(1.0)),
              "regularization": (tf.constant(0.5), tf.constant(1.0))},
             {"shared/adversarial": (tf.constant(3.5), tf.constant(1.0)),
              "regularization": (tf.constant(0.5), tf.constant(1.0))}]
    total = _mean_over_groups(extras, parts, stats)
    assert float(total) == 3.0
    assert float(stats["shared/adversarial"][0]) == 2.5
    assert float(stats["regularization"][0]) == 0.5  # A weight penalty counts once.
    assert float(stats["regularization"][1]) == 1.0


def test_one_group_is_its_own_extra_loss_and_none_stays_none():
    value = tf.constant(np.float32(0.1234567))
    stats = {}
    total = _mean_over_groups([value], [{"regularization": (value, tf.constant(1.0))}], stats)
    assert total is value and stats["regularization"][0] is value  # Bit for bit: no division.
    assert _mean_over_groups([None, None], [{}, {}], {}) is None


def test_a_step_adds_the_per_task_losses_of_the_tasks_it_trains():
    import types

    from tfmtl.training.steps import extra_losses

    outputs = {"losses": {"shared/soft": tf.constant(1.0)},
               "task_losses": {"a": {"shared/adversarial": tf.constant(2.0)},
                               "b": {"shared/adversarial": tf.constant(4.0),
                                     "shared/orthogonality": tf.constant(8.0)},
                               "c": {"shared/adversarial": tf.constant(16.0)}}}
    model = types.SimpleNamespace(losses=[])
    tasks = [types.SimpleNamespace(name=n) for n in ("a", "b")]
    stats = {}
    # Per name, the mean over the step's tasks that have it; task c is not trained.
    assert float(extra_losses(outputs, model, stats, tasks)) == 1.0 + 3.0 + 8.0
    assert {n: float(v) for n, (v, _) in stats.items()} == {
        "shared/soft": 1.0, "shared/adversarial": 3.0, "shared/orthogonality": 8.0}
    assert float(extra_losses(outputs, model, {}, tasks[:1])) == 3.0
    assert float(extra_losses(outputs, model, {})) == 1.0


def test_a_part_only_some_groups_have_counts_zero_in_the_others():
    stats = {}
    total = _mean_over_groups([tf.constant(3.0), tf.constant(1.0)],
                              [{"x/adversarial": (tf.constant(2.0), tf.constant(1.0)),
                                "y/soft": (tf.constant(1.0), tf.constant(1.0))},
                               {"y/soft": (tf.constant(1.0), tf.constant(1.0))}], stats)
    assert float(total) == 2.0
    assert float(stats["x/adversarial"][0]) == 1.0 and float(stats["y/soft"][0]) == 1.0
