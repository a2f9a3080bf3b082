"""Tests for the multi-task model: inputs, heads, layers, sub-models, masking."""

import keras
import numpy as np
import pytest

from tests import tiny_config
from tfmtl.experiment import Experiment
from tfmtl.layers.char_bilstm import CharBiLSTM
from tfmtl.layers.char_cnn import CharCNN
from tfmtl.layers.lstm_stack import LSTMStack
from tfmtl.layers.word_dropout import WordDropout
from tfmtl.training.validation import validate


@pytest.fixture(scope="module")
def experiment():
    return Experiment.create(validate(tiny_config.get_config()))


def _batch(experiment, task="chunk", n=4):
    from tfmtl.data.pipeline import make_dataset

    return next(iter(make_dataset(experiment.examples(task, "dev")[:n], batch_size=n)))


def test_named_inputs_and_a_dict_of_outputs_by_task(experiment):
    model = experiment.build_model()
    assert sorted(model.model.input) == ["chars", "words"]
    batch = _batch(experiment)
    outputs = model.model({"words": batch["words"], "chars": batch["chars"]})
    b, t = batch["words"].shape
    assert set(outputs) == {"chunk", "pos", "label"}
    assert outputs["chunk"]["logits"].shape == (b, t, len(experiment.task_by_name["chunk"].labels))
    assert outputs["pos"]["logits"].shape == (b, t, len(experiment.task_by_name["pos"].labels))
    assert outputs["label"]["logits"].shape == (b, len(experiment.task_by_name["label"].labels))


def test_heads_read_the_layer_their_config_names(experiment):
    model = experiment.build_model()
    # POS reads layer 1: its model holds one encoder layer; chunk reads the top (layer 2).
    pos_layers = {layer.name for layer in model.task_models["pos"].layers}
    chunk_layers = {layer.name for layer in model.task_models["chunk"].layers}
    assert "shared_1" in pos_layers and "shared_2" not in pos_layers
    assert {"shared_1", "shared_2"} <= chunk_layers
    assert "chunk_logits" not in pos_layers and "pos_logits" not in chunk_layers
    # Hard sharing: the task models share the very same variables.
    shared = {id(v) for v in model.task_models["pos"].trainable_variables} & {
        id(v) for v in model.task_models["chunk"].trainable_variables}
    assert len(shared) >= 5


def test_padding_does_not_change_real_token_outputs(experiment):
    model = experiment.build_model()
    batch = _batch(experiment, n=2)
    features = {"words": batch["words"].numpy(), "chars": batch["chars"].numpy()}
    padded = {k: np.pad(v, [(0, 0), (0, 5)] + [(0, 0)] * (v.ndim - 2)) for k, v in
              features.items()}
    a = model.model(features)
    b = model.model(padded)
    t = features["words"].shape[1]
    for length, row in zip(batch["lengths"].numpy(), range(2), strict=True):
        np.testing.assert_allclose(a["chunk"]["logits"][row, :length],
                                   b["chunk"]["logits"][row, :length], atol=1e-5)
    np.testing.assert_allclose(a["label"]["logits"], b["label"]["logits"], atol=1e-5)
    assert b["chunk"]["logits"].shape[1] == t + 5


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


def test_lstm_stack_exposes_every_layer_and_each_direction():
    encoder = LSTMStack(3, 4, bidirectional=True, dropout=0.0, return_state=True)
    x = keras.Input((None, 5))
    features = encoder(x, None)
    assert features.num_layers == 3 and all(o.shape[-1] == 8 for o in features.outputs)
    assert features.forward(2).shape[-1] == 4 and features.backward(2).shape[-1] == 4
    (fh, fc), (bh, bc) = features.final_states(3)
    assert fh.shape[-1] == fc.shape[-1] == bh.shape[-1] == bc.shape[-1] == 4
    assert encoder(x, None, depth=1).num_layers == 1
    # The halves are the two directions: the forward half at t sees only steps <= t.
    model = keras.Model(x, [features.forward(1), features.backward(1)])
    a = np.random.default_rng(0).normal(size=(1, 6, 5)).astype("float32")
    b = a.copy()
    b[0, 4:] += 1.0  # Change the last two steps only.
    fa, ba = (t.numpy() if hasattr(t, "numpy") else t for t in model(a))
    fb, bb = (t.numpy() if hasattr(t, "numpy") else t for t in model(b))
    np.testing.assert_allclose(fa[0, :4], fb[0, :4], rtol=1e-6)
    assert np.abs(ba[0, :4] - bb[0, :4]).max() > 1e-4
    unidirectional = LSTMStack(1, 4, bidirectional=False)(x, None)
    with pytest.raises(ValueError, match="unidirectional"):
        unidirectional.backward(1)


def test_unidirectional_encoder_and_no_char_features():
    config = tiny_config.get_config()
    config.model.encoders.shared.bidirectional = False
    config.model.embeddings.text.char.type = "none"
    experiment = Experiment.create(validate(config))
    model = experiment.build_model()
    assert list(model.model.input) == ["words"]
    batch = _batch(experiment)
    out = model.model({"words": batch["words"]})
    assert out["chunk"]["logits"].shape[:2] == batch["words"].shape


def test_label_embedding_feeds_the_lower_task_into_the_layers_above():
    config = tiny_config.get_config()
    config.tasks.pos.label_embedding = 6
    experiment = Experiment.create(validate(config))
    model = experiment.build_model()
    chunk = {layer.name for layer in model.task_models["chunk"].layers}
    # Chunking now depends on POS's head: its layer 2 reads layer 1 and the POS label embedding.
    assert {"pos_logits", "pos_label_embedding", "shared_1_and_labels"} <= chunk
    second = model.model.get_layer("shared_2")
    assert second.forward_layer.cell.kernel.shape[0] == 2 * 16 + 6
    pos = {layer.name for layer in model.task_models["pos"].layers}
    assert "shared_2" not in pos
    batch = _batch(experiment)
    out = model.model({"words": batch["words"], "chars": batch["chars"]})
    assert out["chunk"]["logits"].shape[:2] == batch["words"].shape


def test_label_embedding_of_a_top_task_feeds_nothing():
    config = tiny_config.get_config()
    config.tasks.chunk.label_embedding = 6  # chunk is at the top: nothing above it
    model = Experiment.create(validate(config)).build_model()
    assert "chunk_label_embedding" not in {layer.name for layer in model.model.layers}


@pytest.mark.parametrize("trainable", [False, True])
def test_word_vectors_initialise_the_embedding_frozen_or_fine_tuned(tmp_path, trainable,
                                                                    caplog):
    import logging

    from tfmtl.training.trainer import train_and_evaluate

    config = tiny_config.get_config(tasks=("chunk",))  # One task is enough (and quicker).
    config.training.update(steps=6, eval_every=6, checkpoint_every=6, log_every=6)
    experiment = Experiment.create(validate(config))
    words = experiment.featurizer.words.tokens[2:]
    rng = np.random.default_rng(0)
    dim = config.model.embeddings.text.word_dim
    kept = words[: len(words) // 2]  # Half the vocabulary is in the file.
    rows = {w: rng.normal(size=dim).astype("float32") for w in kept}
    path = tmp_path / "vectors.txt"
    path.write_text(f"{len(rows)} {dim}\n" + "".join(
        w + " " + " ".join(f"{v:.6f}" for v in vec) + "\n" for w, vec in rows.items()))
    config.model.embeddings.text.vectors = str(path)
    config.model.embeddings.text.trainable = trainable
    resolved = validate(config)
    workdir = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="absl"):
        train_and_evaluate(resolved, str(workdir))
    assert "word vectors:" in caplog.text  # A fresh run reads them.
    trained = Experiment.load_vocabularies(resolved, str(workdir))
    model = trained.build_model()
    from tfmtl.experiment import restore_model

    restore_model(str(workdir), model.model, "latest")
    table = model.model.get_layer("word_embedding").embeddings.numpy()
    ids = [trained.featurizer.words.lookup(w) for w in kept]
    initial = np.stack([rows[w] for w in kept])
    difference = np.abs(table[ids] - initial).max()
    if trainable:
        assert difference > 1e-4  # Fine-tuned.
    else:
        assert difference < 1e-5  # Frozen: the file's vectors, after training.
    # The checkpoint holds the embedding: evaluating (or exporting) the run needs no file.
    from tfmtl.training.evaluation import evaluate_workdir

    path.rename(tmp_path / "moved.txt")
    restored = Experiment.restore(str(workdir)).build_model(restoring=True)
    restore_model(str(workdir), restored.model, "latest")
    np.testing.assert_array_equal(
        restored.model.get_layer("word_embedding").embeddings.numpy(), table)
    assert restored.model.get_layer("word_embedding").trainable == trainable
    assert "chunk" in evaluate_workdir(str(workdir), "dev", "latest")
    # Resuming (here: asking again for the finished run) checks the file's bytes but builds
    # no embedding matrix from it: the checkpoint holds the embedding.
    (tmp_path / "moved.txt").rename(path)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="absl"):
        assert train_and_evaluate(resolved, str(workdir))["steps"] == 6
    assert "word vectors:" not in caplog.text


def test_a_task_that_reads_final_states_gets_them_through_hard_sharing():
    from tfmtl.experiment import task_config
    from tfmtl.tasks import TASKS, Classification, Tagging

    seen = {}

    @TASKS.register("final_state_classification_test")
    class FinalStateClassification(Classification):
        reads_final_states = True

        def build_head(self, features):
            (fh, _), (bh, _) = features.final_states(1)
            seen["shapes"] = (fh.shape[-1], bh.shape[-1])
            state = keras.layers.Concatenate()([fh, bh])
            return {"logits": keras.layers.Dense(len(self.labels), name=f"{self.name}_logits")(
                state)}

    config = tiny_config.get_config()
    synthetic = dict(format="synthetic", sentences=400, seed=3)
    config.tasks.label = task_config("final_state_classification_test", layer=1,
                                     data=synthetic)
    model = Experiment.create(validate(config)).build_model()
    assert seen["shapes"] == (16, 16)
    assert model.model.get_layer("label_logits").input.shape[-1] == 32
    # A model whose tasks read no states builds its encoder without them.
    @TASKS.register("state_probe_tagging_test")
    class StateProbe(Tagging):
        def build_head(self, features):
            seen[self.name] = list(features.states)
            return super().build_head(features)

    plain = tiny_config.get_config()
    del plain.tasks["label"]
    plain.tasks.chunk.type = "state_probe_tagging_test"
    Experiment.create(validate(plain)).build_model()
    assert seen["chunk"] == []
