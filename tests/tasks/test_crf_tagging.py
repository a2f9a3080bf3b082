"""A tagging task with a CRF output trains, predicts by Viterbi and exports (stock ops)."""

import numpy as np
import pytest

from tests.export import helpers
from tfmtl.config import ConfigError
from tfmtl.training.validation import validate

tf = pytest.importorskip("tensorflow")


def test_config_checks():
    config = helpers.tiny_config()
    config.tasks.chunk.output = "crf"
    validate(config)  # A CRF and low-level supervision together are fine.
    config.tasks.chunk.output = "semi-markov"
    with pytest.raises(ConfigError, match=r"tasks\.chunk\.output.*unknown output 'semi-markov'"):
        validate(config)
    config.tasks.chunk.output = "crf"
    config.tasks.chunk.label_embedding = 4
    with pytest.raises(ConfigError, match=r"tasks\.chunk\.label_embedding.*needs output"):
        validate(config)


@pytest.mark.slow  # Trains and exports (about 30 s); the CRF layer's tests are not slow.
def test_crf_tagger_trains_decodes_by_viterbi_and_exports(tmp_path):
    from tfmtl.experiment import Experiment, restore_model
    from tfmtl.export.exporter import export_saved_model
    from tfmtl.layers.crf import crf_decode
    from tfmtl.training.trainer import train_and_evaluate

    config = helpers.tiny_config()
    config.tasks.chunk.output = "crf"
    config.training.steps = 30
    config.training.eval_every = 30
    config.training.checkpoint_every = 30
    workdir = tmp_path / "run"
    train_and_evaluate(validate(config), str(workdir))

    experiment = Experiment.restore(str(workdir))
    model = experiment.build_model()
    restore_model(str(workdir), model.model, "best")
    transitions = next(v for v in model.model.variables if "chunk_crf" in v.path).numpy()
    assert np.abs(transitions).max() > 1e-3, "the CRF's transitions never trained"

    dev = experiment.sentences("chunk", "dev")[:16]
    sentences = [list(s.tokens) for s in dev]
    expected = helpers.model_predictions(workdir, sentences)["chunk"]
    # The task's prediction is the Viterbi path of its emissions, not their argmax.
    examples = experiment.featurizer.encode_batch(sentences)
    from tfmtl.data.pipeline import make_dataset

    batch = next(iter(make_dataset(examples, batch_size=len(examples))))
    outputs = model.model({n: batch[n] for n in experiment.featurizer.input_names()})["chunk"]
    viterbi = crf_decode(outputs["logits"], batch["lengths"], outputs["crf"]).numpy()
    for row, entry in enumerate(expected):
        assert entry["labels"] == experiment.task_by_name["chunk"].labels.decode(
            viterbi[row, :len(sentences[row])])

    result = export_saved_model(str(workdir), str(tmp_path / "exports"), "crf")
    served = tf.saved_model.load(result.path).signatures["serving_default"](
        text=tf.constant([" ".join(s) for s in sentences]))
    for row, entry in enumerate(expected):
        length = len(sentences[row])
        labels = [b.decode() for b in served["chunk_labels"].numpy()[row, :length]]
        assert labels == entry["labels"], row
        marginals = served["chunk_probabilities"].numpy()[row]
        np.testing.assert_allclose(marginals[:length].sum(axis=-1), 1.0, rtol=1e-5)
        assert not marginals[length:].any()
        scores = served["chunk_scores"].numpy()[row, :length]
        np.testing.assert_allclose(scores, marginals[np.arange(length), [
            list(served["chunk_classes"].numpy()[row]).index(label.encode()) for label in labels]],
            rtol=1e-6)
