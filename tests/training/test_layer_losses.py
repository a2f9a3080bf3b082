"""Layers' own losses (``model.losses``: weight regularizers) reach the gradient of both step
kinds and are logged by name, as every named loss is, on the progress line and in
TensorBoard; an ``all`` step's in-step hook can run the model in replica context."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.experiment import Experiment, restore_model, task_config
from tfmtl.tasks import TASKS, Classification
from tfmtl.training import validate
from tfmtl.training.callbacks import CALLBACKS, Callback, callback_config
from tfmtl.training.trainer import train_and_evaluate

SYNTHETIC = dict(format="synthetic", sentences=400, seed=3)


@TASKS.register("l2_classification_layer_losses_test")
class L2Classification(Classification):
    """A classifier whose output kernel carries an L2 regularizer (a layer loss)."""

    @classmethod
    def default_config(cls):
        c = super().default_config()
        c.l2 = 0.0  # L2 factor of the output kernel.
        return c

    def build_head(self, features):
        pooled = keras.layers.GlobalAveragePooling1D(name=f"{self.name}_pool")(
            features.output(-1), mask=features.mask)
        return {"logits": keras.layers.Dense(
            len(self.labels), name=f"{self.name}_logits",
            kernel_regularizer=keras.regularizers.L2(self.config.l2) if self.config.l2 else None,
        )(pooled)}


@CALLBACKS.register("model_in_step_layer_losses_test")
class RunsTheModel(Callback):
    """In the ``all`` step, runs the model again on the label group's batch."""

    def in_step(self, context):
        (group, batch), = [(g, b) for g, b in context.batches.items() if "label" in g]
        features = {name: batch[name] for name in ("words", "chars") if name in batch}
        logits = context.model.model(features, training=False)["label"]["logits"]
        return {"rows": tf.cast(tf.shape(logits)[0], tf.float32)}


def _config(l2: float, **training):
    config = tiny(steps=12, eval_every=12, log_every=4, checkpoint_every=12, **training)
    config.tasks.label = task_config("l2_classification_layer_losses_test", l2=l2,
                                     data=SYNTHETIC)
    # Plain SGD, unclipped: an L2 factor of 1 shrinks the kernel by 0.8 a step.
    config.training.optimizer.update(type="sgd", learning_rate=0.1, clip_norm=0.0)
    return config


def _kernel_norm(config, workdir) -> float:
    experiment = Experiment.load_vocabularies(config, str(workdir))
    model = experiment.build_model()
    restore_model(str(workdir), model.model, "latest")
    return float(np.linalg.norm(model.model.get_layer("label_logits").kernel.numpy()))


@pytest.mark.slow  # Trains (30 s each).
@pytest.mark.parametrize("step", ["sampled", "all"])
def test_layer_losses_train_and_are_logged_with_every_named_loss(tmp_path, capsys, step):
    if step == "all":
        plain = None
    else:  # The same run without the regularizer, to see that it moved the weights.
        plain = validate(_config(0.0))
        train_and_evaluate(plain, str(tmp_path / "plain"))
    config = _config(1.0, step=step)
    if step == "all":
        config.training.callbacks.model_in_step_layer_losses_test = callback_config(
            "model_in_step_layer_losses_test")
    resolved = validate(config)
    capsys.readouterr()
    train_and_evaluate(resolved, str(tmp_path / "l2"))
    progress = capsys.readouterr().out
    scalars = logged_scalars(tmp_path / "l2")
    for name in ("chunk", "pos", "label", "regularization"):
        assert f"{name}_loss: " in progress, (name, progress[-2000:])
        assert f"{name}/loss" in scalars, name
    assert all(value > 0 for value in scalars["regularization/loss"].values())
    if plain is not None:
        # The regularizer reached the gradient: the kernel shrank (0.8 a label step).
        assert _kernel_norm(resolved, tmp_path / "l2") < 0.75 * _kernel_norm(plain,
                                                                            tmp_path / "plain")
    else:
        rows = scalars["RunsTheModel/rows"]
        assert rows and all(value == resolved.training.batch_size for value in rows.values())
