"""Tests for the multi-task model: inputs, heads, layers, sub-models, masking."""

import keras
import numpy as np
import pytest

from tests import tiny_config
from tfmtl.config import validate
from tfmtl.models.char_bilstm import CharBiLSTM
from tfmtl.models.char_cnn import CharCNN
from tfmtl.models.shared_encoder import SharedEncoder
from tfmtl.models.word_dropout import WordDropout
from tfmtl.training.experiment import Experiment
from tfmtl.training.trainer import build_model


@pytest.fixture(scope="module")
def experiment():
    return Experiment.create(validate(tiny_config.get_config()))


def _batch(experiment, task="chunk", n=4):
    from tfmtl.data.pipeline import make_dataset

    return next(iter(make_dataset(experiment.examples(task, "dev")[:n], batch_size=n)))


def test_named_inputs_and_a_dict_of_outputs_by_task(experiment):
    model = build_model(experiment)
    assert sorted(model.model.input) == ["chars", "words"]
    batch = _batch(experiment)
    outputs = model.model({"words": batch["words"], "chars": batch["chars"]})
    b, t = batch["words"].shape
    assert set(outputs) == {"chunk", "pos", "label"}
    assert outputs["chunk"].shape == (b, t, len(experiment.task_by_name["chunk"].labels))
    assert outputs["pos"].shape == (b, t, len(experiment.task_by_name["pos"].labels))
    assert outputs["label"].shape == (b, len(experiment.task_by_name["label"].labels))


def test_heads_read_the_layer_their_config_names(experiment):
    model = build_model(experiment)
    # POS reads layer 1: its model holds one encoder layer; chunk reads the top (layer 2).
    pos_layers = {layer.name for layer in model.task_models["pos"].layers}
    chunk_layers = {layer.name for layer in model.task_models["chunk"].layers}
    assert "encoder_1" in pos_layers and "encoder_2" not in pos_layers
    assert {"encoder_1", "encoder_2"} <= chunk_layers
    assert "chunk_logits" not in pos_layers and "pos_logits" not in chunk_layers
    # Hard sharing: the task models share the very same variables.
    shared = {id(v) for v in model.task_models["pos"].trainable_variables} & {
        id(v) for v in model.task_models["chunk"].trainable_variables}
    assert len(shared) >= 5


def test_padding_does_not_change_real_token_outputs(experiment):
    model = build_model(experiment)
    batch = _batch(experiment, n=2)
    features = {"words": batch["words"].numpy(), "chars": batch["chars"].numpy()}
    padded = {k: np.pad(v, [(0, 0), (0, 5)] + [(0, 0)] * (v.ndim - 2)) for k, v in
              features.items()}
    a = model.model(features)
    b = model.model(padded)
    t = features["words"].shape[1]
    for length, row in zip(batch["lengths"].numpy(), range(2), strict=True):
        np.testing.assert_allclose(a["chunk"][row, :length], b["chunk"][row, :length],
                                   atol=1e-5)
    np.testing.assert_allclose(a["label"], b["label"], atol=1e-5)
    assert b["chunk"].shape[1] == t + 5


@pytest.mark.parametrize("layer_cls", [CharCNN, CharBiLSTM])
def test_char_features_shape_and_zero_for_padding_words(layer_cls):
    chars = np.array([[[3, 4, 5], [6, 0, 0], [0, 0, 0]]], dtype="int32")
    # Both give 6 features per word: 6 filters, or 3 units per direction.
    layer = CharCNN(10, 4, 6, 3) if layer_cls is CharCNN else CharBiLSTM(10, 4, 3)
    out = np.asarray(layer(chars))
    dim = 6
    assert out.shape == (1, 3, dim)
    np.testing.assert_array_equal(out[0, 2], np.zeros(dim))
    assert np.abs(out[0, :2]).sum() > 0
    again = layer_cls.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_word_dropout_only_in_training_and_never_on_padding():
    ids = np.array([[5, 6, 7, 0, 0]] * 200, dtype="int32")
    layer = WordDropout(0.5, oov_id=1, seed=3)
    np.testing.assert_array_equal(layer(ids, training=False), ids)
    dropped = np.asarray(layer(ids, training=True))
    assert np.all(dropped[:, 3:] == 0)
    rate = np.mean(dropped[:, :3] == 1)
    assert 0.4 < rate < 0.6


def test_shared_encoder_exposes_every_layer():
    encoder = SharedEncoder(3, 4, bidirectional=True, dropout=0.0)
    x = keras.Input((None, 5))
    outputs = encoder(x, None)
    assert len(outputs) == 3 and all(o.shape[-1] == 8 for o in outputs)
    assert len(encoder(x, None, depth=1)) == 1


def test_unidirectional_encoder_and_no_char_features():
    config = tiny_config.get_config()
    config.model.encoder.bidirectional = False
    config.model.char.type = "none"
    experiment = Experiment.create(validate(config))
    model = build_model(experiment)
    assert list(model.model.input) == ["words"]
    batch = _batch(experiment)
    out = model.model({"words": batch["words"]})
    assert out["chunk"].shape[:2] == batch["words"].shape


def test_label_embedding_feeds_the_lower_task_into_the_layers_above():
    config = tiny_config.get_config()
    config.tasks.pos.label_embedding = 6
    experiment = Experiment.create(validate(config))
    model = build_model(experiment)
    chunk = {layer.name for layer in model.task_models["chunk"].layers}
    # Chunking now depends on POS's head: its layer 2 reads layer 1 and the POS label embedding.
    assert {"pos_logits", "pos_label_embedding", "encoder_1_and_labels"} <= chunk
    second = model.model.get_layer("encoder_2")
    assert second.forward_layer.cell.kernel.shape[0] == 2 * 16 + 6
    pos = {layer.name for layer in model.task_models["pos"].layers}
    assert "encoder_2" not in pos
    batch = _batch(experiment)
    out = model.model({"words": batch["words"], "chars": batch["chars"]})
    assert out["chunk"].shape[:2] == batch["words"].shape


def test_label_embedding_of_a_top_task_feeds_nothing():
    config = tiny_config.get_config()
    config.tasks.chunk.label_embedding = 6  # chunk is at the top: nothing above it
    model = build_model(Experiment.create(validate(config)))
    assert "chunk_label_embedding" not in {layer.name for layer in model.model.layers}
