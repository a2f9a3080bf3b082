"""A model whose low task feeds its labels upwards (label_embedding) exports and prunes."""

import numpy as np
import pytest

from tests.export.helpers import assert_matches_expected, model_predictions, tiny_config
from tfmtl.export.exporter import export_saved_model
from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops


@pytest.mark.slow  # Trains and exports its own model: half a minute.
def test_label_embedding_model_exports_with_training_predictions_and_prunes(tmp_path):
    import tensorflow as tf

    from tfmtl.experiment import Experiment
    from tfmtl.training.trainer import train_and_evaluate

    config = tiny_config()
    config.unlock()
    config.tasks.pos.label_embedding = 5
    config.model.encoders.shared.lstm = "fused"
    workdir = tmp_path / "run"
    train_and_evaluate(config, str(workdir))
    sentences = [list(s.tokens) for s in Experiment.restore(str(workdir)).sentences("chunk",
                                                                                   "dev")[:8]]
    expected = model_predictions(workdir, sentences)

    result = export_saved_model(str(workdir), str(tmp_path / "exports"), "hashimoto")
    assert not custom_ops(saved_model_ops(result.path))
    loaded = tf.saved_model.load(result.path)
    assert any("pos_label_embedding" in v.name for v in loaded.model_variables)
    outputs = loaded.signatures["serving_default"](
        text=tf.constant([" ".join(s) for s in sentences]))
    assert_matches_expected({k: v.numpy() for k, v in outputs.items()}, expected)

    # POS reads layer 1 only: its export needs neither layer 2 nor the label embedding.
    pos = export_saved_model(str(workdir), str(tmp_path / "exports"), "pos", tasks=["pos"])
    names = {v.name for v in tf.saved_model.load(pos.path).model_variables}
    assert not any("shared_2" in n or "label_embedding" in n or "chunk" in n for n in names)
    got = tf.saved_model.load(pos.path).signatures["serving_default"](
        text=tf.constant([" ".join(s) for s in sentences]))
    np.testing.assert_array_equal(got["pos_labels"].numpy(),
                                  outputs["pos_labels"].numpy())
