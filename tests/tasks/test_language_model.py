"""The language-model objective (Rei 2017): config, targets, what each direction reads, training."""

import numpy as np
import pytest

from tests.cli_helpers import logged_scalars
from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.data import DataError, read_text
from tfmtl.experiment import task_config
from tfmtl.training.validation import validate

tf = pytest.importorskip("tensorflow")


def _config(**lm):
    config = tiny(steps=20, eval_every=20, checkpoint_every=20, log_every=5)
    values = dict(accompanies="chunk", vocab=30, hidden=8)
    values.update(lm)
    config.tasks.lm = task_config("language_model", **values)
    return config


def test_config_checks():
    resolved = validate(_config())
    assert resolved.tasks.lm.directions == "both"  # "auto" on a BiLSTM.
    assert resolved.tasks.lm.data.to_dict() == resolved.tasks.chunk.data.to_dict()
    with pytest.raises(ConfigError, match=r"tasks\.lm\.accompanies.*unknown task 'chunks'"):
        validate(_config(accompanies="chunks"))
    with pytest.raises(ConfigError, match=r"tasks\.lm\.gamma"):
        validate(_config(gamma=0.0))
    with pytest.raises(ConfigError, match=r"tasks\.lm\.export.*serves nothing"):
        validate(_config(export="yes"))
    both = _config()
    both.tasks.lm.data.format = "text"
    with pytest.raises(ConfigError, match=r"tasks\.lm\.data.*either accompanies"):
        validate(both)
    uni = _config(directions="backward")
    uni.model.encoders.shared.bidirectional = False
    with pytest.raises(ConfigError, match=r"tasks\.lm\.directions.*unidirectional: only the "
                                          r"forward language model applies"):
        validate(uni)
    uni.tasks.lm.directions = "auto"
    uni.tasks.lm.layer = 2  # A forward LSTM's upper layers never read to the right.
    assert validate(uni).tasks.lm.directions == "forward"
    with pytest.raises(ConfigError, match=r"tasks\.lm\.layer.*above layer 1 of the BiLSTM"):
        validate(_config(layer=2))
    with pytest.raises(ConfigError, match=r"tasks\.lm\.layer"):
        validate(_config(layer=-1))


def _model(config):
    from tfmtl.experiment import Experiment

    experiment = Experiment.create(validate(config))
    return experiment, experiment.build_model()


def test_no_direction_sees_the_word_it_predicts():
    experiment, model = _model(_config())
    lm = experiment.task_by_name["lm"]
    rng = np.random.default_rng(0)
    words = rng.integers(2, len(experiment.featurizer.words), size=(2, 7)).astype(np.int32)
    chars = rng.integers(2, len(experiment.featurizer.chars), size=(2, 7, 4)).astype(np.int32)
    base = model.task_models["lm"]({"words": words, "chars": chars}, training=False)
    for j in range(7):
        changed_words, changed_chars = words.copy(), chars.copy()
        changed_words[:, j] = (words[:, j] + 5) % len(experiment.featurizer.words) + 2
        changed_chars[:, j] = 1
        out = model.task_models["lm"]({"words": changed_words, "chars": changed_chars},
                                      training=False)
        # Forward state t (predicting word t + 1) reads words <= t; backward state t
        # (predicting t - 1) reads words >= t. Word j is what forward j-1 and backward j+1
        # predict: neither may change, nor any state further from j on its side.
        np.testing.assert_array_equal(out["forward_logits"][:, :j], base["forward_logits"][:, :j])
        np.testing.assert_array_equal(out["backward_logits"][:, j + 1:],
                                      base["backward_logits"][:, j + 1:])
        if j < 6:
            assert not np.allclose(out["forward_logits"][:, j], base["forward_logits"][:, j])
    # The targets: the word ranks 1..vocab, every other word (OOV, rarer) class 0.
    ids = np.array([[0, 1, 2, 3, 31, 32, 40]], np.int32)
    targets = model.task_models["lm"]({"words": ids, "chars": np.ones((1, 7, 1), np.int32)},
                                      training=False)["targets"]
    assert targets.numpy().tolist() == [[0, 0, 1, 2, 30, 0, 0]]
    assert lm.labels.tokens[0] == "<unk>" and len(lm.labels) == 31


def test_losses_and_metrics_of_a_known_case():
    from tfmtl.tasks.language_model import LanguageModel

    task = LanguageModel("lm", validate(_config()).tasks.lm)
    task.build_labels([])
    logits = np.full((1, 3, 31), -20.0, np.float32)
    targets = np.array([[4, 5, 6]], np.int32)
    forward, backward = logits.copy(), logits.copy()
    forward[0, 0, 5] = forward[0, 1, 6] = 20.0  # Right: next words 5, 6.
    backward[0, 1, 4] = 20.0  # Right: previous word of position 1; position 2 wrong.
    backward[0, 2, 0] = 20.0
    outputs = {"targets": tf.constant(targets), "forward_logits": tf.constant(forward),
               "backward_logits": tf.constant(backward)}
    losses = task.losses({"lengths": tf.constant([3])}, outputs)
    assert set(losses) == {"lm/forward", "lm/backward"}
    assert float(losses["lm/forward"].count) == 2 and float(losses["lm/backward"].count) == 2
    assert float(losses["lm/forward"].total) < 1e-6 and float(losses["lm/backward"].total) > 30
    assert losses["lm/forward"].weight == 0.1
    predictions = task.predict(outputs).numpy()
    from tfmtl.data import Sentence

    scores = task.evaluate([Sentence(("a", "b", "c"))], [predictions[0]], [None])
    assert scores["forward_accuracy"] == 100.0 and scores["backward_accuracy"] == 50.0
    assert scores["accuracy"] == 75.0
    assert scores["forward_perplexity"] == pytest.approx(1.0, abs=1e-6)
    assert scores["backward_perplexity"] > 1e8


def test_trains_beside_its_task_in_its_batches_and_is_not_exported(tmp_path):
    from tfmtl.experiment import Experiment
    from tfmtl.export.exporter import export_saved_model
    from tfmtl.training.trainer import train_and_evaluate

    config = validate(_config())
    units = {tuple(t.name for t in g) for g in Experiment.create(config).groups(False)}
    assert units == {("chunk", "lm"), ("pos",), ("label",)}
    workdir = tmp_path / "run"
    final = train_and_evaluate(config, str(workdir))
    assert {"accuracy", "perplexity", "forward_perplexity", "backward_perplexity"} <= set(
        final["test"]["lm"])
    scalars = logged_scalars(workdir)
    assert {"lm/forward/loss", "lm/backward/loss", "chunk/loss"} <= set(scalars)
    # Same batches: the objective's losses are logged at exactly the chunking steps.
    assert set(scalars["lm/forward/loss"]) == set(scalars["chunk/loss"])
    result = export_saved_model(str(workdir), str(tmp_path / "exports"), "m")
    served = tf.saved_model.load(result.path).signatures["serving_default"]
    assert not any(key.startswith("lm_") for key in served.structured_outputs)
    assert any(key.startswith("chunk_") for key in served.structured_outputs)


@pytest.mark.slow  # A second end-to-end training of the objective.
def test_semi_supervised_on_an_unlabelled_text_file(tmp_path):
    from tfmtl.data import generate
    from tfmtl.training.trainer import train_and_evaluate

    text = tmp_path / "unlabelled.txt"
    text.write_text("\n".join(" ".join(s.tokens) for s in generate(200, 9)) + "\n\n")
    assert len(list(read_text(text))) == 200
    config = tiny(steps=12, eval_every=12, checkpoint_every=12, log_every=4)
    config.tasks.lm = task_config("language_model", vocab=30, hidden=8, directions="forward",
                                  data=dict(format="text", train=str(text), holdout=20))
    final = train_and_evaluate(validate(config), str(tmp_path / "run"))
    assert "forward_perplexity" in final["dev"]["lm"] and "backward_perplexity" not in final[
        "dev"]["lm"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(DataError, match="empty: no sentences"):
        list(read_text(empty))
