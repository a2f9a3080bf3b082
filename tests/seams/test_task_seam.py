"""A new task type, written outside tfmtl through the public API: it reads the backward
half of layer 1 (through gradient reversal) and returns two named losses."""

import keras

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.experiment import task_config
from tfmtl.ops import GradientReversal
from tfmtl.tasks import TASKS, Loss, Tagging
from tfmtl.training import validate
from tfmtl.training.callbacks import callback_config
from tfmtl.training.trainer import train_and_evaluate


@TASKS.register("backward_tagging_seam_test")
class BackwardTagging(Tagging):
    """Tags from the backward half of layer 1; an auxiliary loss on the forward half."""

    exported_by_default = False

    @classmethod
    def default_config(cls):
        c = super().default_config()
        c.aux_weight = 0.5  # Weight of the auxiliary forward-half loss.
        return c

    def build_head(self, features):
        backward = GradientReversal("ganin", name=f"{self.name}_reversal")(features.backward(1))
        forward = features.forward(1)
        n = len(self.labels)
        return {"logits": keras.layers.Dense(n, name=f"{self.name}_logits")(backward),
                "forward_logits": keras.layers.Dense(n, name=f"{self.name}_fwd")(forward)}

    def losses(self, batch, outputs):
        main = super().losses(batch, outputs)[self.name]
        aux = super().losses(batch, {"logits": outputs["forward_logits"]})[self.name]
        return {self.name: main,
                f"{self.name}/forward": Loss(aux.total, aux.count, self.config.aux_weight)}


def test_a_task_reading_the_backward_half_with_two_named_losses(tmp_path):
    config = tiny(steps=30, eval_every=30, log_every=5, checkpoint_every=30)
    synthetic = dict(format="synthetic", sentences=400, seed=3, column="pos")
    config.tasks.back = task_config("backward_tagging_seam_test", data=synthetic)
    config.training.callbacks.gradient_reversal = callback_config("gradient_reversal")
    resolved = validate(config)
    assert isinstance(resolved.tasks.back.aux_weight, float)
    workdir = tmp_path / "run"
    final = train_and_evaluate(resolved, str(workdir))
    assert "back" in final["test"]

    scalars = logged_scalars(workdir)
    assert {"back/loss", "back/forward/loss", "chunk/loss"} <= set(scalars)
    assert set(scalars["back/forward/loss"]) == set(scalars["back/loss"])

    # The head read the backward half (units wide), and the callback drove the schedule.
    from tfmtl.experiment import Experiment, restore_model

    experiment = Experiment.load_vocabularies(resolved, str(workdir))
    model = experiment.build_model()
    restore_model(str(workdir), model.model, "latest")
    units = resolved.model.encoders.shared.units
    assert model.model.get_layer("back_logits").kernel.shape[0] == units
    assert float(model.model.get_layer("back_reversal").progress.numpy()) == 1.0
    # ... and the backward half it is: its logits are the Dense of layer 1's second half.
    import numpy as np

    from tfmtl.data.pipeline import make_dataset

    batch = next(iter(make_dataset(experiment.examples("back", "dev")[:4], batch_size=4)))
    probe = keras.Model(model.model.inputs, [model.model.get_layer("shared_1_dropout").output,
                                             model.model.get_layer("back_logits").output])
    layer1, logits = (np.asarray(x, np.float64) for x in probe(
        {n: batch[n] for n in experiment.featurizer.input_names()}, training=False))
    kernel, bias = (np.asarray(w, np.float64) for w in
                    model.model.get_layer("back_logits").get_weights())
    np.testing.assert_allclose(logits, layer1[..., units:] @ kernel + bias, rtol=1e-4,
                               atol=1e-5)
    assert not np.allclose(logits, layer1[..., :units] @ kernel + bias, rtol=1e-4, atol=1e-5)
    # The task's own variables are its heads; the encoder is shared with the other tasks.
    own = {v.path for v in model.task_variables["back"]}
    assert any("back_logits" in p for p in own) and any("back_fwd" in p for p in own)
    assert not any("shared_1" in p for p in own)
    assert any("shared_1" in v.path for v in model.shared_variables)

