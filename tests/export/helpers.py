"""One tiny trained workdir and its export per test session, and what the trained model predicts.

The export tests in tests/export/ and tests/cli/ share these through a
module-level cache, so the model is trained once and exported once per session
whichever test asks first.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil

import numpy as np

MODEL_NAME = "tiny"
# Tokens that exercise the featurizer: unknown words, non-ASCII and unknown characters, a word
# longer than max_chars.
ODD_TOKENS = ("Zürich", "blorfing", "naïveté", "東京", "x" * 30 + "yz")

_cache: dict = {}


@dataclasses.dataclass
class Trained:
    """A trained workdir and sentences with the trained model's own predictions.

    Attributes:
        workdir: the folder tfmtl-train wrote.
        sentences: token lists (dev sentences, then ones with odd tokens).
        expected: per task, per sentence: ``labels`` (label strings; one per token for
            tagging, one for classification) and ``probabilities`` (float32 arrays).
    """

    workdir: pathlib.Path
    sentences: list[list[str]]
    expected: dict[str, list[dict]]

    @property
    def texts(self) -> list[str]:
        return [" ".join(tokens) for tokens in self.sentences]


def tiny_config():
    from tests import tiny_config as tiny
    from tfmtl.training.validation import validate

    config = tiny.get_config()
    config.training.steps = 3
    config.training.eval_every = 3
    config.training.checkpoint_every = 3
    config.training.log_every = 3
    config.training.eval_batch_size = 512
    return validate(config)


def model_predictions(workdir, sentences: list[list[str]], lstm: str | None = None
                      ) -> dict[str, list[dict]]:
    """What the Keras model of a workdir predicts, the way training evaluates it.

    The examples are encoded by the Python featurizer and batched by the
    training pipeline; labels are the tasks' ``predict`` of the logits (as in
    :class:`tfmtl.training.evaluation.Evaluator`), probabilities their softmax.

    Args:
        workdir: a trained workdir.
        sentences: token lists.
        lstm: build the model with this LSTM implementation (default: the config's).
    """
    import tensorflow as tf

    from tfmtl.data.pipeline import make_dataset
    from tfmtl.experiment import Experiment, restore_model

    experiment = Experiment.restore(str(workdir))
    if lstm is not None:
        config = experiment.config.copy_and_resolve_references()
        config.model.encoders.shared.lstm = lstm
        experiment = Experiment(config, experiment.tasks, experiment.featurizer)
    model = experiment.build_model()
    restore_model(str(workdir), model.model, "best")
    examples = experiment.featurizer.encode_batch(sentences)
    names = experiment.featurizer.input_names()
    batch = next(iter(make_dataset(examples, batch_size=len(examples))))
    outputs = model.model({n: batch[n] for n in names}, training=False)
    lengths = batch["lengths"].numpy()
    expected = {}
    for task in experiment.tasks:
        ids = task.predict(outputs[task.name]).numpy()
        probabilities = tf.nn.softmax(outputs[task.name]["logits"]).numpy()
        entries = []
        for row, length in enumerate(lengths):
            if ids.ndim == 2:
                entries.append({"labels": task.labels.decode(ids[row, :length]),
                                "probabilities": probabilities[row, :length]})
            else:
                entries.append({"labels": task.labels.decode([ids[row]]),
                                "probabilities": probabilities[row]})
        expected[task.name] = entries
    return expected


def trained(root: pathlib.Path) -> Trained:
    """The session's trained workdir (trained on first use under `root`)."""
    if "trained" not in _cache:
        from tfmtl.experiment import Experiment
        from tfmtl.training.trainer import train_and_evaluate

        workdir = root / "run"
        config = tiny_config()
        train_and_evaluate(config, str(workdir))
        dev = Experiment.restore(str(workdir)).sentences("chunk", "dev")
        sentences = [list(s.tokens) for s in dev[:12]]
        sentences.append(["the", *ODD_TOKENS[:3], "."])
        sentences.append([*ODD_TOKENS[3:], "walks"])
        _cache["trained"] = Trained(workdir, sentences, model_predictions(workdir, sentences))
    return _cache["trained"]


def exported(root: pathlib.Path):
    """The session's export of the trained workdir: an ExportResult (exported on first use)."""
    if "exported" not in _cache:
        from tfmtl.export.exporter import export_saved_model

        run = trained(root)
        _cache["exported"] = export_saved_model(str(run.workdir), str(root / "exports"),
                                                MODEL_NAME)
    return _cache["exported"]


def loaded(root: pathlib.Path):
    """The session's export loaded with tf.saved_model.load."""
    if "loaded" not in _cache:
        import tensorflow as tf

        _cache["loaded"] = tf.saved_model.load(exported(root).path)
    return _cache["loaded"]


def fused_workdir(root: pathlib.Path) -> pathlib.Path:
    """A copy of the trained workdir whose config says it was trained with the fused LSTM.

    The fused LSTM keeps keras.layers.LSTM's weights, so the checkpoint is the
    one a fused run writes.
    """
    if "fused" not in _cache:
        source = trained(root).workdir
        target = root / "fused_run"
        shutil.copytree(source, target)
        path = target / "config.json"
        config = json.loads(path.read_text())
        config["model"]["encoders"]["shared"]["lstm"] = "fused"
        path.write_text(json.dumps(config, indent=2) + "\n")
        _cache["fused"] = target
    return _cache["fused"]


def assert_matches_expected(outputs: dict, expected: dict[str, list[dict]], rows=None) -> None:
    """Checks a signature's outputs (NumPy) against the trained model's predictions."""
    lengths = outputs["lengths"]
    for task, per_sentence in expected.items():
        labels = outputs[f"{task}_labels"]
        probabilities = outputs[f"{task}_probabilities"]
        for row, want in enumerate(per_sentence if rows is None else
                                   [per_sentence[r] for r in rows]):
            got_labels = labels[row]
            if np.ndim(got_labels):
                got_labels = got_labels[: lengths[row]]
                got_probabilities = probabilities[row][: lengths[row]]
            else:
                got_labels = [got_labels]
                got_probabilities = probabilities[row]
            decoded = [x.decode() if isinstance(x, bytes) else x for x in got_labels]
            assert decoded == want["labels"], (task, row)
            np.testing.assert_allclose(got_probabilities, want["probabilities"], atol=1e-5,
                                       err_msg=f"{task} row {row}")


def runner(root: pathlib.Path):
    """The session's export loaded as TF Serving loads it (see tests.export.servers)."""
    if "runner" not in _cache:
        from tests.export.servers import SignatureRunner

        _cache["runner"] = SignatureRunner(exported(root).path)
    return _cache["runner"]


def session_root(tmp_path_factory) -> pathlib.Path:
    """The folder under which the session's workdir and export live."""
    return tmp_path_factory.getbasetemp() / "export_session"
