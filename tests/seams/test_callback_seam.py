"""A new callback, written outside tfmtl through the public API: it counts the loop's
hooks and, inside the ``all`` step, sums the tasks' losses in replica context."""

import ml_collections
import pytest
import tensorflow as tf

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.training import validate
from tfmtl.training.callbacks import CALLBACKS, Callback, callback_config
from tfmtl.training.trainer import train_and_evaluate

SEEN: dict = {}


@CALLBACKS.register("counting_seam_test")
class Counting(Callback):
    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.label = "x"  # Where the counts are kept.
        return c

    def on_train_begin(self, run):
        SEEN[self.config.label] = {"begin": run.step, "steps": [], "evals": [], "end": 0,
                                   "hook": []}

    def on_step_end(self, run, logs):
        seen = SEEN[self.config.label]
        seen["steps"].append(run.step)
        total = sum(t / c for t, c in (logs["losses"][n] for n in ("chunk", "pos", "label")))
        seen["hook"].append((logs["in_step"]["Counting"]["loss_sum"], total))

    def on_eval_end(self, run, results):
        SEEN[self.config.label]["evals"].append((run.step, sorted(results)))

    def on_train_end(self, run):
        SEEN[self.config.label]["end"] += 1

    def in_step(self, context):
        assert tf.distribute.in_cross_replica_context() is False
        return {"loss_sum": tf.add_n([context.losses[n] for n in ("chunk", "pos", "label")])}


def test_a_callback_sees_every_boundary_and_runs_in_the_step(tmp_path):
    config = tiny(steps=8, eval_every=4, log_every=4, checkpoint_every=8, step="all")
    config.training.callbacks.counting_seam_test = callback_config("counting_seam_test",
                                                                   label="run")
    workdir = tmp_path / "run"
    train_and_evaluate(validate(config), str(workdir))
    seen = SEEN["run"]
    assert seen["begin"] == 0 and seen["steps"] == list(range(1, 9)) and seen["end"] == 1
    assert seen["evals"] == [(4, ["chunk", "label", "pos"]), (8, ["chunk", "label", "pos"])]
    for in_step, from_logs in seen["hook"]:
        assert in_step == pytest.approx(from_logs, rel=1e-5)
    assert "Counting/loss_sum" in logged_scalars(workdir)


def test_callback_keys_are_strict():
    config = tiny()
    config.training.callbacks.counting_seam_test = {"labl": "y"}
    with pytest.raises(ConfigError, match=r"^config\.training\.callbacks\.counting_seam_test"
                       r"\.labl: unknown key"):
        validate(config)
