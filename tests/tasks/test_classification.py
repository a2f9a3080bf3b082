"""Tests for the classification task and masked pooling."""

import numpy as np
import pytest
import tensorflow as tf

from tfmtl.config import ConfigError, base_config
from tfmtl.data import DataError, Sentence
from tfmtl.experiment import task_config
from tfmtl.layers.masked_pooling import MaskedPooling
from tfmtl.tasks.classification import Classification
from tfmtl.training.validation import validate


def _task(labels):
    task = Classification("polarity", task_config("classification"))
    task.build_labels([Sentence(("x",), label=label) for label in labels])
    return task


def test_targets_loss_and_scores():
    task = _task(["pos", "neg", "pos"])
    assert int(task.encode_target(Sentence(("a",), label="neg"))["label"]) == \
        task.labels.lookup("neg")
    logits = tf.constant([[0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    loss = task.losses({"label": tf.constant([1, 2])}, {"logits": logits})["polarity"]
    assert float(loss.count) == 2.0 and float(loss.total) < 0.1
    gold = [Sentence(("a",), label="pos"), Sentence(("b",), label="neg")]
    preds = [np.int32(task.labels.lookup("pos")), np.int32(task.labels.lookup("pos"))]
    scores = task.evaluate(gold, preds, [None, None])
    assert scores["accuracy"] == 50.0 and task.main_metric == "accuracy"


def test_missing_label_names_the_sentence():
    task = _task(["pos"])
    with pytest.raises(DataError, match="f.tsv:7: sentence has no label"):
        task.encode_target(Sentence(("a",), path="f.tsv", line=7))


@pytest.mark.parametrize(("mode", "expected"), [
    ("max", [[3.0, 1.0]]),
    ("mean", [[2.0, 0.0]]),
    ("max_mean", [[3.0, 1.0, 2.0, 0.0]]),
])
def test_masked_pooling_ignores_padding(mode, expected):
    x = tf.constant([[[1.0, -1.0], [3.0, 1.0], [9.0, 9.0]]])
    mask = tf.constant([[True, True, False]])
    np.testing.assert_allclose(MaskedPooling(mode)(x, mask=mask), expected)


def test_config_checks(tmp_path):
    c = base_config()
    c.tasks.t = task_config("classification", pooling="attention",
                            data=dict(format="synthetic"))
    with pytest.raises(ConfigError, match=r"config\.tasks\.t\.pooling"):
        validate(c)
    path = tmp_path / "x.conll"
    path.write_text("a B\n\n", encoding="utf-8")
    c.tasks.t = task_config("classification", data=dict(format="conll", train=str(path)))
    with pytest.raises(ConfigError, match=r"config\.tasks\.t\.data\.format"):
        validate(c)
