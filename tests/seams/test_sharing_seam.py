"""A new sharing scheme, written outside tfmtl through the public API: a shared encoder
plus a private one per task, with an orthogonality regularizer between them."""

import keras
import ml_collections
import pytest
from keras import ops

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.layers import EncoderFeatures, Orthogonality
from tfmtl.models.sharing import SHARING, Shared, SharingScheme, scheme_config
from tfmtl.training import validate
from tfmtl.training.trainer import train_and_evaluate


@SHARING.register("shared_private_seam_test")
class SharedPrivate(SharingScheme):
    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.weight = 0.01  # Weight of the shared/private orthogonality penalty.
        return c

    @classmethod
    def check_config(cls, options, key, config):
        if options.weight < 0:
            raise ConfigError(f"{key}.weight", f"must be >= 0, got {options.weight}")

    def __init__(self, name, encoder_config, seed=0, options=None):
        super().__init__(name, encoder_config, seed, options)
        self.shared = self.make_stack()

    def __call__(self, embedded, mask, tasks, heads):
        shared = self.shared(embedded, mask)
        features, outputs, penalties = {}, {}, []
        for task in tasks:
            private = self.make_stack(name=f"{self.name}_{task.name}_private")(embedded, mask)
            joined = [keras.layers.Concatenate(name=f"{self.name}_{task.name}_{i}")([s, p])
                      for i, (s, p) in enumerate(zip(shared.outputs, private.outputs,
                                                     strict=True), start=1)]
            features[task.name] = EncoderFeatures(joined, mask, 2 * shared.units,
                                                  shared.bidirectional, name=self.name)
            outputs[task.name] = heads(task, features[task.name])
            orthogonality = Orthogonality(self.options.weight,
                                          name=f"{self.name}_{task.name}_orth")
            penalties.append(orthogonality(shared.output(-1), private.output(-1), mask))
        return Shared(features, outputs, {"orthogonality": ops.sum(ops.stack(penalties))})


def test_a_scheme_with_private_encoders_and_a_regularizer(tmp_path):
    config = tiny(steps=20, eval_every=20, log_every=5, checkpoint_every=20)
    config.model.sharing = "shared_private_seam_test"
    config.model.schemes.shared_private_seam_test = scheme_config("shared_private_seam_test",
                                                                  weight=0.02)
    config.model.encoders.shared.layers = 1
    for task in config.tasks.values():
        task.layer = -1
    resolved = validate(config)
    assert resolved.model.schemes.shared_private_seam_test.weight == 0.02
    workdir = tmp_path / "run"
    final = train_and_evaluate(resolved, str(workdir))
    assert set(final["test"]) == {"chunk", "pos", "label"}

    scalars = logged_scalars(workdir)
    assert "shared/orthogonality/loss" in scalars
    penalty = list(scalars["shared/orthogonality/loss"].values())
    assert all(value > 0 for value in penalty)

    from tfmtl.experiment import Experiment

    model = Experiment.load_vocabularies(resolved, str(workdir)).build_model()
    for name in ("chunk", "pos", "label"):
        own = {v.path for v in model.task_variables[name]}
        assert any(f"shared_{name}_private" in p for p in own), name
    shared = {v.path for v in model.shared_variables}
    assert any(p.startswith("shared_1") for p in shared)
    assert not any("_private" in p for p in shared)


def test_a_scheme_owns_its_keys():
    config = tiny()
    config.model.sharing = "shared_private_seam_test"
    assert validate(config).model.schemes.shared_private_seam_test.weight == 0.01  # Default.
    config.model.schemes.shared_private_seam_test = ml_collections.ConfigDict({"wieght": 1.0})
    with pytest.raises(ConfigError, match=r"^config\.model\.schemes\.shared_private_seam_test"
                                          r"\.wieght: unknown key"):
        validate(config)
    config.model.schemes.shared_private_seam_test = scheme_config("shared_private_seam_test",
                                                                  weight=-1.0)
    with pytest.raises(ConfigError, match=r"schemes\.shared_private_seam_test\.weight: must "
                                          r"be >= 0"):
        validate(config)
    config.model.sharing = "hard"  # The section is now for a scheme no encoder uses.
    with pytest.raises(ConfigError, match=r"^config\.model\.schemes\.shared_private_seam_test:"
                                          r" set, but no encoder uses"):
        validate(config)
