"""Lexicon presence: which lexicon classes a sentence's words belong to (an auxiliary objective)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import ml_collections
import numpy as np
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.data import Sentence, Vocabulary, read_lexicon
from tfmtl.tasks import TASKS
from tfmtl.tasks.auxiliary import Accompanying, resolve_lowercase
from tfmtl.tasks.base import Loss, Task
from tfmtl.tasks.classification import check_pooled_head, pooled_logits


@TASKS.register("lexicon")
class Lexicon(Accompanying, Task):
    """Predicts, for every class of a word lexicon, whether the sentence has a word of it.

    "Predict what should be there": a sentence-level multi-label objective
    (one sigmoid per class on the masked pooling of ``layer``) whose labels
    come from a ``word<TAB>class`` file rather than from annotation, e.g. the
    positive and negative words of a sentiment lexicon next to a polarity
    classifier (``accompanies``). Words are matched as the embeddings look
    them up (``lowercase``). Dev metrics: accuracy over (sentence, class)
    decisions and macro F1 over the classes. Not exported.

    Reference:
        Yu and Jiang, "Learning sentence embeddings with auxiliary tasks for
        cross-domain sentiment classification", EMNLP 2016.
    """

    exported_by_default = False

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        c.lexicon = ""  # The lexicon file: one word<TAB>class per line.
        c.pooling = "max"  # Pooling over tokens: "max", "mean" or "max_mean".
        c.hidden = 0  # Units of a tanh layer before the sigmoids (0 = none).
        # Match words lowercased: "auto" (as the embeddings look them up), "yes" or "no".
        c.lowercase = "auto"
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        from tfmtl.config import resolve_path

        super().resolve_config(entry, key, config, check_files=check_files)
        if not entry.lexicon:
            raise ConfigError(f"{key}.lexicon", "no lexicon file given (word<TAB>class lines)")
        entry.lexicon = resolve_path(config, entry.lexicon)
        if check_files and not os.path.isfile(entry.lexicon):
            raise ConfigError(f"{key}.lexicon", f"no such file: {entry.lexicon}")
        check_pooled_head(entry, key)
        resolve_lowercase(entry, key, config)

    @classmethod
    def metric_names(cls):
        return ("accuracy", "macro_f1")

    def __init__(self, name, config):
        super().__init__(name, config)
        self._lexicon: dict[str, set[str]] | None = None

    @property
    def lexicon(self) -> dict[str, set[str]]:
        if self._lexicon is None:
            self._lexicon = read_lexicon(self.config.lexicon,
                                         lowercase=self.config.lowercase == "yes")
        return self._lexicon

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        classes = sorted({c for labels in self.lexicon.values() for c in labels})
        self.labels = Vocabulary(classes, pad=False, oov=False)
        return self.labels

    def presence(self, sentence: Sentence) -> np.ndarray:
        """1 for each class with a word in the sentence, else 0: int32 [C]."""
        present = np.zeros(len(self.labels), np.int32)
        lower = self.config.lowercase == "yes"
        for token in sentence.tokens:
            for label in self.lexicon.get(token.lower() if lower else token, ()):
                present[self.labels.lookup(label)] = 1
        return present

    def encode_target(self, sentence: Sentence) -> dict[str, np.ndarray]:
        return {"presence": self.presence(sentence)}

    def build_head(self, features):
        return {"logits": pooled_logits(self, features)}

    def losses(self, batch, outputs):
        logits = outputs["logits"]
        labels = tf.cast(batch["presence"], logits.dtype)
        xent = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        # Summed over the classes, averaged over the sentences.
        return {self.name: Loss(tf.reduce_sum(xent), tf.cast(tf.shape(xent)[0], logits.dtype))}

    def predict(self, outputs):
        return tf.cast(outputs["logits"] > 0, tf.int32)

    @property
    def main_metric(self) -> str:
        return "accuracy" if self.config.metric == "auto" else self.config.metric

    def evaluate(self, sentences, predictions, oov):
        gold = np.array([self.presence(s) for s in sentences]).reshape(-1, len(self.labels))
        pred = np.array(predictions).reshape(-1, len(self.labels))
        f1s = []
        for column in range(len(self.labels)):
            hits = int((gold[:, column] & pred[:, column]).sum())
            guessed, true = int(pred[:, column].sum()), int(gold[:, column].sum())
            f1s.append(200.0 * hits / (guessed + true) if guessed + true else 100.0)
        return {"accuracy": 100.0 * float((gold == pred).mean()) if gold.size else 0.0,
                "macro_f1": float(np.mean(f1s)) if f1s else 0.0}
