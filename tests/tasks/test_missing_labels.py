"""Missing labels (``data.missing``): an unlabelled token or sentence of the training data is
masked out of its task's loss, not dropped; a batch without a labelled example contributes
zero; dev and test data must be fully labelled. On real data: UD English EWT's UPOS, XPOS
and DEPREL as three heads over the same sentences on the ``all`` step, with labels removed
at random."""

import numpy as np
import pytest
import tensorflow as tf

from tests.cli_helpers import logged_scalars
from tfmtl.config import ConfigError, base_config
from tfmtl.data import DataError, Sentence
from tfmtl.experiment import task_config
from tfmtl.tasks.classification import Classification
from tfmtl.tasks.tagging import Tagging
from tfmtl.training import validate
from tfmtl.training.trainer import train_and_evaluate


def _sentence(tags, label=None, line=1):
    return Sentence(tokens=tuple("x" * len(tags)), fields={"1": tuple(tags)}, label=label,
                    path="t.txt", line=line)


def _tagger(output="softmax"):
    task = Tagging("pos", task_config("tagging", output=output,
                                      data=dict(format="conll", column="1", missing="_")))
    task.build_labels([_sentence(["A", "_", "B"]), _sentence(["C", "_"])])
    return task


def test_unlabelled_tokens_leave_the_vocabulary_and_the_loss():
    task = _tagger()
    assert "_" not in task.labels.tokens
    ids = task.encode_target(_sentence(["A", "_", "B"]))["tags"]
    np.testing.assert_array_equal(ids, [task.labels.lookup("A"), -1, task.labels.lookup("B")])
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(2, 3, len(task.labels))), tf.float32)
    tags = [[task.labels.lookup("A"), -1, task.labels.lookup("B")], [-1, -1, 0]]
    batch = {"tags": tf.constant(tags), "lengths": tf.constant([3, 2])}
    loss = task.losses(batch, {"logits": logits})["pos"]
    log_p = tf.nn.log_softmax(logits).numpy()
    want = -(log_p[0, 0, tags[0][0]] + log_p[0, 2, tags[0][2]])
    assert float(loss.count) == 2.0 and float(loss.total) == pytest.approx(want, rel=1e-5)
    # Changing an unlabelled token's logits changes nothing.
    changed = tf.tensor_scatter_nd_update(logits, [[0, 1, 0]], [50.0])
    assert float(task.losses(batch, {"logits": changed})["pos"].total) == pytest.approx(
        float(loss.total), rel=1e-6)
    # A batch without a labelled token: zero, and no NaN in the gradient.
    empty = {"tags": tf.constant([[-1, -1, -1]]), "lengths": tf.constant([3])}
    variable = tf.Variable(logits[:1])
    with tf.GradientTape() as tape:
        loss = task.losses(empty, {"logits": variable})["pos"]
        value = loss.total / tf.maximum(loss.count, 1.0)
    assert float(loss.count) == 0.0 and float(value) == 0.0
    assert np.all(tape.gradient(value, variable).numpy() == 0.0)


def test_crf_leaves_out_the_sentences_with_an_unlabelled_token():
    task = _tagger("crf")
    from tfmtl.layers.crf import crf_log_likelihood

    n = len(task.labels)
    rng = np.random.default_rng(1)
    logits = tf.constant(rng.normal(size=(2, 3, n)), tf.float32)
    # CRF's output: [B, K + 2, K] (transitions, start, end scores).
    transitions = tf.constant(np.broadcast_to(rng.normal(size=(n + 2, n)), (2, n + 2, n)),
                              tf.float32)
    complete = [1, 2, 0]
    batch = {"tags": tf.constant([complete, [1, -1, 2]]), "lengths": tf.constant([3, 3])}
    loss = task.losses(batch, {"logits": logits, "crf": transitions})["pos"]
    want = -crf_log_likelihood(logits[:1], tf.constant([complete]), tf.constant([3]),
                               transitions[:1]).numpy()[0]
    assert float(loss.count) == 3.0 and float(loss.total) == pytest.approx(want, rel=1e-5)


def test_unlabelled_sentences_leave_a_classifiers_loss():
    task = Classification("label", task_config("classification", data=dict(
        format="tsv", missing="?")))
    task.build_labels([_sentence(["A"], "pos"), _sentence(["A"], "?"), _sentence(["A"], "neg")])
    assert "?" not in task.labels.tokens
    assert int(task.encode_target(_sentence(["A"], "?"))["label"]) == -1
    logits = tf.constant([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    label = task.labels.lookup("neg")
    loss = task.losses({"label": tf.constant([-1, label])}, {"logits": logits})["label"]
    want = -tf.nn.log_softmax(logits)[1, label].numpy()
    assert float(loss.count) == 1.0 and float(loss.total) == pytest.approx(want, rel=1e-6)


def test_dev_data_must_be_fully_labelled_and_other_types_refuse_the_key(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("a A\nb B\n\nc _\n", encoding="utf-8")
    train = tmp_path / "train.txt"
    train.write_text("a A\nb _\n", encoding="utf-8")
    task = Tagging("pos", task_config("tagging", data=dict(
        format="conll", column="1", missing="_", train=str(train), dev=str(dev))))
    assert len(task.read("train")) == 1
    with pytest.raises(DataError, match=r"dev.txt.*4.*fully labelled"):
        task.read("dev")
    config = base_config()
    config.tasks.pos = task_config("tagging", data=dict(format="conll", column="1",
                                                        train=str(train)))
    config.tasks.lm = task_config("language_model", data=dict(format="text", train=str(train),
                                                              missing="_"))
    with pytest.raises(ConfigError, match=r"tasks\.lm\.data\.missing"):
        validate(config)


@pytest.mark.slow  # A 30-step run of three heads on 300 EWT sentences (about 30 s).
def test_ewt_upos_xpos_deprel_with_labels_removed_at_random_train_on_the_all_step(
        tmp_path, shared_data):
    ewt = shared_data("ud_english_ewt")
    rng = np.random.default_rng(0)
    lines, sentences, removed, labelled = [], 0, {3: 0, 4: 0, 7: 0}, 0
    with open(ewt / "en_ewt-ud-train.conllu", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                sentences += 1
                lines.append(line)
                if sentences == 300:
                    break
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 10 and fields[0].isdigit():
                labelled += 1
                for column in removed:  # UPOS, XPOS, DEPREL: each gone for 30% of tokens.
                    if rng.random() < 0.3:
                        fields[column] = "_"
                        removed[column] += 1
                line = "\t".join(fields) + "\n"
            lines.append(line)
    train = tmp_path / "train.conllu"
    train.write_text("".join(lines), encoding="utf-8")
    config = base_config()
    data = dict(format="conllu", train=str(train), dev=str(ewt / "en_ewt-ud-dev.conllu"),
                missing="_")
    for name in ("upos", "xpos", "deprel"):
        config.tasks[name] = task_config("tagging", data=dict(column=name, **data))
    config.model.embeddings.text.word_dim = 16
    config.model.embeddings.text.char.type = "none"
    config.model.encoders.shared.units = 16
    config.training.update(steps=30, eval_every=30, checkpoint_every=30, log_every=10,
                           batch_size=16, step="all", reference_task="upos")
    workdir = tmp_path / "run"
    train_and_evaluate(validate(config), str(workdir))
    scalars = logged_scalars(workdir)
    assert all(count > 0.2 * labelled for count in removed.values())
    for name in ("upos", "xpos", "deprel"):
        losses = scalars[f"{name}/loss"]
        assert all(np.isfinite(v) for v in losses.values()), name
        assert losses[30] < losses[10], name  # Each head learns from its labelled tokens.
