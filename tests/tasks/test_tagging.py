"""Tests for the tagging task."""

import numpy as np
import pytest
import tensorflow as tf

from tfmtl.config import ConfigError, base_config
from tfmtl.data import Sentence
from tfmtl.experiment import task_config
from tfmtl.tasks.tagging import Tagging
from tfmtl.training.validation import validate


def _sentence(tokens, tags):
    return Sentence(tokens=tuple(tokens), fields={"1": tuple(tags)}, path="t.txt", line=1)


def _task(tags_seen):
    task = Tagging("chunk", task_config("tagging", data=dict(format="conll", column="1")))
    task.build_labels([_sentence(["x"] * len(t), t) for t in tags_seen])
    return task


def test_labels_targets_and_decoding():
    task = _task([["B-NP", "I-NP", "O"]])
    assert task.labels.tokens[0] == "<unk>" and task.spans
    np.testing.assert_array_equal(
        task.encode_target(_sentence("abc", ["O", "B-NP", "B-VP"]))["tags"],
        [task.labels.lookup("O"), task.labels.lookup("B-NP"), task.labels.oov_id],
    )


def test_loss_ignores_padding():
    task = _task([["A", "B"]])
    logits = tf.constant(np.random.default_rng(0).normal(size=(2, 4, len(task.labels))),
                         tf.float32)
    batch = {"tags": tf.constant([[1, 2, 0, 0], [2, 1, 2, 0]]), "lengths": tf.constant([2, 3])}
    loss = task.losses(batch, {"logits": logits})["chunk"]
    assert float(loss.count) == 5.0 and loss.weight == 1.0
    changed = tf.tensor_scatter_nd_update(logits, [[0, 3, 0]], [100.0])  # a padding position
    assert float(task.losses(batch, {"logits": changed})["chunk"].total) == pytest.approx(
        float(loss.total))


def test_evaluate_reports_accuracy_oov_and_span_f1():
    task = _task([["B-NP", "I-NP", "O"]])
    gold = [_sentence("abc", ["B-NP", "I-NP", "O"]), _sentence("de", ["O", "B-NP"])]
    ids = lambda tags: np.array([task.labels.lookup(t) for t in tags])  # noqa: E731
    predictions = [ids(["B-NP", "I-NP", "O", "O"]), ids(["O", "O"])]  # padded first row
    oov = [np.array([False, True, False]), np.array([True, False])]
    scores = task.evaluate(gold, predictions, oov)
    assert scores["accuracy"] == pytest.approx(80.0)
    assert scores["oov_accuracy"] == pytest.approx(100.0)
    assert scores["precision"] == 100.0 and scores["recall"] == 50.0
    assert task.main_metric == "f1"


def test_iobes_tags_are_scored_as_the_spans_they_encode():
    task = _task([["S-PER", "B-ORG", "E-ORG", "O"]])
    gold = [_sentence("abcd", ["S-PER", "B-ORG", "E-ORG", "O"])]
    ids = np.array([task.labels.lookup(t) for t in ["S-PER", "B-ORG", "E-ORG", "O"]])
    assert task.evaluate(gold, [ids], [np.zeros(4, bool)])["f1"] == 100.0


def test_plain_tags_use_accuracy():
    task = _task([["NN", "VB"]])
    assert not task.spans and task.main_metric == "accuracy"


def test_config_checks(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("pos\tgood\n", encoding="utf-8")
    c = base_config()
    c.tasks.t = task_config("tagging", data=dict(format="tsv", train=str(path)))
    with pytest.raises(ConfigError, match="tagging needs token labels"):
        validate(c)
    c.tasks.t = task_config("tagging", hidden=-1, data=dict(format="synthetic", column="pos"))
    with pytest.raises(ConfigError, match=r"config\.tasks\.t\.hidden"):
        validate(c)
    c.tasks.t = task_config("tagging", data=dict(format="synthetic", column="lemma"))
    with pytest.raises(ConfigError, match="not a synthetic column"):
        validate(c)


def test_the_synthetic_ner_mode_is_checked_and_reads_its_own_column(tmp_path):
    from tfmtl.data import generate
    from tfmtl.tasks import data_source

    c = base_config()
    c.tasks.t = task_config("tagging", data=dict(format="synthetic", column="ner",
                                                 ner="spans"))
    with pytest.raises(ConfigError, match=r"config\.tasks\.t\.data\.ner: 'spans' is not one"):
        validate(c)
    path = tmp_path / "x.conll"
    path.write_text("a DT\n\n", encoding="utf-8")
    c.tasks.t = task_config("tagging", data=dict(format="conll", column="1", train=str(path),
                                                 ner="lexical"))
    with pytest.raises(ConfigError, match=r"data\.ner: only the synthetic corpus"):
        validate(c)
    c.tasks.t = task_config("tagging", data=dict(format="synthetic", column="ner",
                                                 sentences=40, ner="lexical"))
    data = validate(c).tasks.t.data
    assert data_source.load_split(data, "train") == generate(40, 1, ner="lexical")[:32]
    c.tasks.t.data.ner = "chunks"  # Same sentences, other labels: another training source.
    assert data_source.train_source(data) != data_source.train_source(validate(c).tasks.t.data)
