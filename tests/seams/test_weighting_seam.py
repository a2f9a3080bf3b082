"""A new loss weighting, written outside tfmtl through the public API: each task's loss
divided by its first-step loss, kept as checkpointed state, on the ``all`` step."""

import os

import tensorflow as tf

from tests.cli_helpers import checkpoint_values, head_kernel_moves, logged_scalars
from tests.seams.common import tiny
from tfmtl.training import validate
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("initial_loss_seam_test")
class InitialLoss(Weighting):
    """sum_i L_i / L_i(first step): every task starts at weight 1 relative to its scale."""

    def build(self):
        self.initial = {name: tf.Variable(0.0, trainable=False, name=f"initial_{name}")
                        for name in self.task_names}

    def combine(self, losses):
        total = 0.0
        for name in self.task_names:
            value = losses[name]
            first = self.initial[name]
            first.assign(tf.where(first > 0.0, first, tf.stop_gradient(value)))
            total += value / first
        return total

    def metrics(self):
        return {f"{name}/initial": self.initial[name] for name in self.task_names}


@WEIGHTINGS.register("first_task_only_seam_test")
class FirstTaskOnly(Weighting):
    """Only the first task's loss: the other heads get no gradient, so they must not move
    if the step minimises what ``combine`` returns."""

    def combine(self, losses):
        return losses[self.task_names[0]]


def test_the_step_minimises_what_the_weighting_combines(tmp_path):
    from tfmtl.experiment import Experiment

    config = tiny(steps=6, eval_every=6, log_every=6, checkpoint_every=6, step="all")
    config.training.weighting.type = "first_task_only_seam_test"
    resolved = validate(config)
    first = Experiment.create(resolved).tasks[0].name
    workdir = tmp_path / "run"
    train_and_evaluate(resolved, str(workdir))
    moves = head_kernel_moves(resolved, workdir)
    assert set(moves) == {"chunk", "pos", "label"}
    for task, moved in moves.items():
        assert (moved > 1e-4) if task == first else (moved == 0.0), (task, moved)


def test_a_weighting_on_the_all_step(tmp_path):
    config = tiny(steps=12, eval_every=12, log_every=4, checkpoint_every=12, step="all")
    config.training.weighting.type = "initial_loss_seam_test"
    workdir = tmp_path / "run"
    train_and_evaluate(validate(config), str(workdir))
    scalars = logged_scalars(workdir)
    # Every task trains at every step of "all".
    for name in ("chunk", "pos", "label"):
        assert set(scalars[f"{name}/sampling_rate"].values()) == {1.0}
        assert scalars[f"weighting/{name}/initial"][12] > 0.0
    state = checkpoint_values(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")),
                              "weighting/")
    assert len(state) == 3 and all(float(v) > 0 for v in state.values())
