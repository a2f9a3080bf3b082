"""Token tagging: POS, chunking, named entities, any label per token."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import ml_collections
import numpy as np
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.data import Sentence, Vocabulary
from tfmtl.layers.crf import CRF, crf_decode, crf_log_likelihood, crf_marginals
from tfmtl.metrics import iobes_to_bio, is_span_tagset, span_f1, token_accuracy
from tfmtl.tasks import TASKS, data_source
from tfmtl.tasks.base import Loss, Task

OUTPUTS = ("softmax", "crf")
CONLLU_COLUMNS = ("lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")


@TASKS.register("tagging")
class Tagging(Task):
    """A softmax over labels for every token, or a CRF over the sentence, read from one layer.

    Supervising a low-level task (POS) at a lower layer than a higher-level
    one (chunking) is Søgaard & Goldberg's low-level supervision: set the
    task's ``layer``. With ``label_embedding`` the task also feeds its
    predicted label distribution to the layers above it, as in Hashimoto et
    al.'s joint many-task model. Labels that look like BIO/BIOES spans are
    also scored with span F1 exactly as the conlleval script scores them.
    With ``output = "crf"`` the labels of a sentence are scored jointly by a
    linear-chain CRF (learned transitions, sentence likelihood as the loss,
    Viterbi decoding in graph, marginals as the served probabilities), the
    BiLSTM-CRF the literature's tagging numbers are measured with.

    Reference:
        Søgaard and Goldberg, "Deep multi-task learning with low level tasks
        supervised at lower layers", ACL 2016. Hashimoto, Xiong, Tsuruoka and
        Socher, "A joint many-task model: growing a neural network for
        multiple NLP tasks", EMNLP 2017. Lample, Ballesteros, Subramanian,
        Kawakami and Dyer, "Neural architectures for named entity recognition",
        NAACL 2016 (the CRF output).
    """

    target_key = "tags"
    predicts_tokens = True
    reads_missing_labels = True
    serving_schema = {
        "labels": ("string", "[batch, T]", "label of each token, \"\" past the end"),
        "scores": ("float32", "[batch, T]", "probability of each token's label"),
        "probabilities": ("float32", "[batch, T, C]", "probability of every label per token"),
        "classes": ("string", "[batch, C]", "the label of each probability"),
    }

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        c.hidden = 0  # Units of a tanh layer before the softmax (0 = none).
        # Feed the predicted label distribution, through a learned label embedding of this
        # size, into the encoder layers above this task's (Hashimoto et al. 2017; 0 = off).
        c.label_embedding = 0
        # "softmax": each token's label on its own; "crf": a linear-chain CRF over the
        # sentence's labels (Lample et al. 2016), Viterbi decoding.
        c.output = "softmax"
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        super().resolve_config(entry, key, config, check_files=check_files)
        cls.check_label_source(entry.data, key)
        if entry.hidden < 0:
            raise ConfigError(f"{key}.hidden", f"must be >= 0, got {entry.hidden}")
        if entry.label_embedding < 0:
            raise ConfigError(f"{key}.label_embedding",
                              f"must be >= 0, got {entry.label_embedding}")
        if entry.output not in OUTPUTS:
            raise ConfigError(f"{key}.output",
                              f"unknown output {entry.output!r}; use one of {', '.join(OUTPUTS)}")
        if entry.output == "crf" and entry.label_embedding:
            raise ConfigError(f"{key}.label_embedding", "feeds a per-token label distribution "
                              "upwards; it needs output='softmax', not 'crf'")

    @classmethod
    def check_label_source(cls, data, key: str) -> None:
        """Checks that `data` has token labels where ``data.column`` says."""
        column = data.column
        if data.format in ("tsv", "text"):
            raise ConfigError(f"{key}.data.format",
                              f"tagging needs token labels; {data.format} has none")
        if data.format == "conllu" and column not in CONLLU_COLUMNS:
            raise ConfigError(
                f"{key}.data.column",
                f"{column!r} is not a CoNLL-U column; use one of {', '.join(CONLLU_COLUMNS)}",
            )
        if data.format == "synthetic" and column not in data_source.SYNTHETIC_COLUMNS:
            raise ConfigError(
                f"{key}.data.column",
                f"{column!r} is not a synthetic column; use one of "
                f"{', '.join(data_source.SYNTHETIC_COLUMNS)}",
            )
        if data.format == "conll":
            try:
                index = int(column)
            except ValueError:
                index = 0
            if index == 0:
                raise ConfigError(
                    f"{key}.data.column",
                    f"{column!r}: give the label column's index, e.g. '1' or '-1' (the last)",
                )

    @classmethod
    def metric_names(cls):
        return ("accuracy", "oov_accuracy", "f1", "precision", "recall")

    def tags(self, sentence: Sentence) -> tuple[str, ...]:
        return sentence.column(self.config.data.column)

    def has_missing_label(self, sentence: Sentence) -> bool:
        missing = self.config.data.missing
        return bool(missing) and missing in self.tags(sentence)

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        missing = self.config.data.missing
        self.labels = Vocabulary.build(
            (tag for sentence in train for tag in self.tags(sentence)
             if not missing or tag != missing), pad=False, oov=True
        )
        return self.labels

    @property
    def spans(self) -> bool:
        """True when the labels are BIO/BIOES-style spans."""
        return is_span_tagset(t for t in self.labels.tokens if t != Vocabulary.OOV)

    def encode_target(self, sentence: Sentence) -> dict[str, np.ndarray]:
        tags = self.tags(sentence)
        ids = self.labels.encode(tags)
        if self.config.data.missing:  # Unlabelled tokens: -1, out of the loss.
            ids[np.asarray(tags, dtype=object) == self.config.data.missing] = -1
        return {"tags": ids}

    def build_head(self, features):
        x = features.output(self.config.layer)
        if self.config.hidden:
            x = keras.layers.Dense(self.config.hidden, activation="tanh",
                                   name=f"{self.name}_hidden")(x)
        logits = keras.layers.Dense(len(self.labels), name=f"{self.name}_logits")(x)
        if self.config.output == "softmax":
            return {"logits": logits}
        lengths = keras.ops.sum(keras.ops.cast(features.mask, "int32"), axis=1)
        return {"logits": logits, "crf": CRF(len(self.labels), name=f"{self.name}_crf")(logits),
                "lengths": lengths}

    def label_features(self, outputs):
        """The label distribution times a label embedding, when configured."""
        if not self.config.label_embedding:
            return None
        logits = outputs["logits"]
        # Activation, not Softmax: Keras' Softmax misreads the [B, T] token mask on [B, T, C].
        probabilities = keras.layers.Activation("softmax",
                                                name=f"{self.name}_label_probabilities")(logits)
        return keras.layers.Dense(self.config.label_embedding, use_bias=False,
                                  name=f"{self.name}_label_embedding")(probabilities)

    def losses(self, batch, outputs):
        logits = outputs["logits"]
        tags = batch["tags"]
        mask = tf.sequence_mask(batch["lengths"], tf.shape(tags)[1], dtype=logits.dtype)
        if self.config.data.missing:
            # Unlabelled tokens (-1) are out of the loss; a batch without a labelled token
            # gives a zero total and count (the step's loss is total / max(count, 1)).
            labelled = tf.cast(tags >= 0, logits.dtype)
            tags = tf.maximum(tags, 0)
            if self.config.output == "crf":
                # A CRF scores whole label sequences: a sentence with an unlabelled token
                # is left out of its loss.
                complete = tf.reduce_min(labelled + (1.0 - mask), axis=1)
                likelihood = crf_log_likelihood(logits, tags, batch["lengths"], outputs["crf"])
                return {self.name: Loss(-tf.reduce_sum(likelihood * complete),
                                        tf.reduce_sum(mask * complete[:, None]))}
            mask *= labelled
        if self.config.output == "crf":
            # The sentences' negative log-likelihood, averaged per token like the softmax's.
            likelihood = crf_log_likelihood(logits, tags, batch["lengths"], outputs["crf"])
            return {self.name: Loss(-tf.reduce_sum(likelihood), tf.reduce_sum(mask))}
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tags, logits=logits)
        return {self.name: Loss(tf.reduce_sum(xent * mask), tf.reduce_sum(mask))}

    def predict(self, outputs):
        if self.config.output == "crf":
            return crf_decode(outputs["logits"], outputs["lengths"], outputs["crf"])
        return tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32)

    def serving_outputs(self, outputs, lengths, classes):
        """Per token: its label, that label's probability and every label's probability.

        Returns:
            ``labels``: string [B, T], ``""`` past a sentence's end (T: the longest
            sentence, 0 when every sentence is empty); ``scores``: float32 [B, T], the
            probability of each label (0 past the end); ``probabilities``: float32
            [B, T, C] (0 past the end; with a CRF output, each token's label
            marginals); ``classes``: string [B, C], the label of each probability.
        """
        time = tf.maximum(tf.reduce_max(lengths), 0)
        logits = outputs["logits"][:, :time]
        mask = tf.sequence_mask(lengths, time)
        if self.config.output == "crf":
            ids = crf_decode(logits, lengths, outputs["crf"])
            probabilities = crf_marginals(logits, lengths, outputs["crf"])
            scores = tf.gather(probabilities, ids, batch_dims=2) * tf.cast(mask, logits.dtype)
        else:
            ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
            probabilities = tf.nn.softmax(logits) * tf.cast(mask, logits.dtype)[:, :, None]
            scores = tf.reduce_max(probabilities, axis=-1)
        return {
            "labels": tf.where(mask, tf.gather(classes, ids), ""),
            "scores": scores,
            "probabilities": probabilities,
            "classes": tf.broadcast_to(classes, tf.stack([tf.shape(lengths)[0],
                                                          tf.shape(classes)[0]])),
        }

    @property
    def main_metric(self) -> str:
        if self.config.metric != "auto":
            return self.config.metric
        return "f1" if self.spans else "accuracy"

    def evaluate(self, sentences, predictions, oov):
        gold = [self.tags(s) for s in sentences]
        pred = [self.labels.decode(p[: len(g)]) for p, g in zip(predictions, gold, strict=True)]
        masks = [m[: len(g)] for m, g in zip(oov, gold, strict=True)]
        scores = token_accuracy(gold, pred, masks)
        if self.spans:
            if any(t[:2] in ("E-", "S-") for t in self.labels.tokens):
                # conlleval has no S- (single) chunks: score IOBES as the BIO it encodes.
                gold = [iobes_to_bio(g) for g in gold]
                pred = [iobes_to_bio(p) for p in pred]
            spans = span_f1(gold, pred)
            scores.update(precision=spans.precision, recall=spans.recall, f1=spans.f1)
        return scores
