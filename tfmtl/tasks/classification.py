"""Sentence classification: one label per sentence from pooled encoder states."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import ml_collections
import numpy as np
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.data import DataError, Sentence, Vocabulary
from tfmtl.layers.masked_pooling import MaskedPooling
from tfmtl.metrics import classification_scores
from tfmtl.tasks import TASKS
from tfmtl.tasks.base import Loss, Task


def check_pooled_head(entry, key: str) -> None:
    """Checks the ``pooling`` and ``hidden`` keys of a head on pooled encoder states."""
    if entry.pooling not in MaskedPooling.MODES:
        raise ConfigError(f"{key}.pooling",
                          f"{entry.pooling!r} is not one of {', '.join(MaskedPooling.MODES)}")
    if entry.hidden < 0:
        raise ConfigError(f"{key}.hidden", f"must be >= 0, got {entry.hidden}")


def pooled_logits(task, features):
    """One logit per label of `task` from the masked pooling of its layer (a tanh layer
    between with ``hidden``)."""
    x = MaskedPooling(task.config.pooling, name=f"{task.name}_pool")(
        features.output(task.config.layer), mask=features.mask)
    if task.config.hidden:
        x = keras.layers.Dense(task.config.hidden, activation="tanh",
                               name=f"{task.name}_hidden")(x)
    return keras.layers.Dense(len(task.labels), name=f"{task.name}_logits")(x)


#: The data formats whose sentences carry a label.
SENTENCE_LABEL_FORMATS = ("tsv", "class_files", "sst", "synthetic")


@TASKS.register("classification")
class Classification(Task):
    """A softmax over sentence labels on the masked pooling of one encoder layer.

    Labels come from TSV files (``label<TAB>text``), one file per class
    (``class_files``), SST trees (``sst``) or the synthetic corpus's sentence label.
    """

    target_key = "label"
    reads_missing_labels = True
    serving_schema = {
        "labels": ("string", "[batch]", "label of each sentence, \"\" without tokens"),
        "scores": ("float32", "[batch]", "probability of the label"),
        "probabilities": ("float32", "[batch, C]", "probability of every label"),
        "classes": ("string", "[batch, C]", "the label of each probability"),
    }

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        c.data.format = "tsv"
        c.pooling = "max"  # Pooling over tokens: "max", "mean" or "max_mean".
        c.hidden = 0  # Units of a tanh layer before the softmax (0 = none).
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        super().resolve_config(entry, key, config, check_files=check_files)
        if entry.data.format not in SENTENCE_LABEL_FORMATS:
            raise ConfigError(
                f"{key}.data.format",
                f"classification reads sentence labels from "
                f"{', '.join(map(repr, SENTENCE_LABEL_FORMATS))}, not {entry.data.format!r}",
            )
        check_pooled_head(entry, key)

    @classmethod
    def metric_names(cls):
        return ("accuracy", "macro_f1")

    @staticmethod
    def label(sentence: Sentence) -> str:
        if sentence.label is None:
            raise DataError(sentence.path, sentence.line, "sentence has no label")
        return sentence.label

    def has_missing_label(self, sentence: Sentence) -> bool:
        return bool(self.config.data.missing) and sentence.label == self.config.data.missing

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        self.labels = Vocabulary.build((self.label(s) for s in train
                                        if not self.has_missing_label(s)), pad=False, oov=True)
        return self.labels

    def encode_target(self, sentence: Sentence) -> dict[str, np.ndarray]:
        if self.has_missing_label(sentence):  # Unlabelled: -1, out of the loss.
            return {"label": np.int32(-1)}
        return {"label": np.int32(self.labels.lookup(self.label(sentence)))}

    def build_head(self, features):
        return {"logits": pooled_logits(self, features)}

    def losses(self, batch, outputs):
        logits = outputs["logits"]
        if self.config.data.missing:  # Unlabelled sentences (-1) are out of the loss.
            labelled = tf.cast(batch["label"] >= 0, logits.dtype)
            xent = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.maximum(batch["label"], 0), logits=logits)
            return {self.name: Loss(tf.reduce_sum(xent * labelled), tf.reduce_sum(labelled))}
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=batch["label"], logits=logits)
        return {self.name: Loss(tf.reduce_sum(xent), tf.cast(tf.shape(xent)[0], logits.dtype))}

    def predict(self, outputs):
        return tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32)

    def serving_outputs(self, outputs, lengths, classes):
        """Per sentence: its label, that label's probability and every label's probability.

        A sentence without tokens has no label: ``""`` with probabilities 0.

        Returns:
            ``labels``: string [B]; ``scores``: float32 [B]; ``probabilities``: float32
            [B, C]; ``classes``: string [B, C], the label of each probability.
        """
        has_tokens = lengths > 0
        probabilities = tf.where(has_tokens[:, None], tf.nn.softmax(outputs["logits"]), 0.0)
        return {
            "labels": tf.where(has_tokens, tf.gather(classes, self.predict(outputs)), ""),
            "scores": tf.reduce_max(probabilities, axis=-1),
            "probabilities": probabilities,
            "classes": tf.broadcast_to(classes, tf.shape(probabilities)),
        }

    @property
    def main_metric(self) -> str:
        return "accuracy" if self.config.metric == "auto" else self.config.metric

    def evaluate(self, sentences, predictions, oov):
        gold = [self.label(s) for s in sentences]
        pred = [self.labels.tokens[int(p)] for p in predictions]
        return classification_scores(gold, pred)
