"""What the weighting tests share: a weighting built outside a run, and a short ``all`` run
whose checkpointed weighting state is restored and checked against what the run logged."""

import os

import ml_collections
import pytest
import tensorflow as tf

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.training import validate
from tfmtl.training.trainer import train_and_evaluate
from tfmtl.training.weightings import WEIGHTINGS

NAMES = ("a", "b", "c")


class _Task:
    def __init__(self, name):
        self.name = name
        self.config = ml_collections.ConfigDict({"loss_weight": 1.0})


def make_weighting(kind, names=NAMES, **keys):
    """A built weighting of type `kind` over tasks `names`, its keys updated."""
    cls = WEIGHTINGS.get(kind)
    config = cls.default_config()
    config.type = kind
    config.update(keys)
    weighting = cls(config, [_Task(n) for n in names])
    weighting.build()
    return weighting


def train_and_restore(tmp_path, kind, steps=6, **keys):
    """Trains the tiny config `steps` steps on the ``all`` step with weighting `kind`
    (`keys` set), restores a fresh weighting from the last checkpoint and checks that its
    metrics are what the run logged at its last step.

    Returns:
        ``(restored weighting, {tag: {step: value}} logged, task names)``.
    """
    config = tiny(steps=steps, eval_every=steps, log_every=3, checkpoint_every=steps,
                  step="all")
    config.training.weighting.type = kind
    config.training.weighting.update(keys)
    resolved = validate(config)
    workdir = tmp_path / "run"
    train_and_evaluate(resolved, str(workdir))
    scalars = logged_scalars(workdir)
    names = list(resolved.tasks)
    restored = make_weighting(kind, names, **{k: v for k, v in
                                              resolved.training.weighting.items() if k != "type"})
    tf.train.Checkpoint(weighting=restored).restore(tf.train.latest_checkpoint(
        os.path.join(workdir, "checkpoints"))).expect_partial()
    for key, value in restored.metrics().items():
        assert float(value) == pytest.approx(scalars[f"weighting/{key}"][steps], rel=1e-5), key
    return restored, scalars, names
