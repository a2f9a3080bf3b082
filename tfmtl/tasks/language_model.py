"""Language modelling as an auxiliary objective: each LSTM direction predicts the next word."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import ml_collections
import numpy as np
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.data import Sentence, Vocabulary
from tfmtl.tasks import TASKS
from tfmtl.tasks.auxiliary import Accompanying
from tfmtl.tasks.base import Loss, Task

DIRECTIONS = ("auto", "both", "forward", "backward")
# The first word ids of every word vocabulary: padding 0, OOV 1; the words follow, most
# frequent first (Vocabulary.build), so the `vocab` most frequent are ids 2 .. vocab + 1.
_FIRST_WORD = 2


@TASKS.register("language_model")
class LanguageModel(Accompanying, Task):
    """Rei's language-modelling objective on an encoder layer: no labels needed.

    On the chosen layer, the forward LSTM's state at position t predicts word
    t+1 and the backward LSTM's state predicts word t-1, so neither ever sees
    the word it predicts (the forward state has read words 1..t, the
    backward one t..T). Each goes through its own small tanh layer and a
    softmax over the ``vocab`` most frequent words of the embedding
    vocabulary plus one class shared by every other word (OOV included). The
    first word has no backward target and the last no forward one. On a
    stack of BiLSTMs only layer 1 qualifies: a higher layer's forward half
    reads the backward half below it, which has read the words to the right,
    the one to predict included (a config error says so); on a stack of
    forward LSTMs any layer does.

    With ``accompanies`` naming a task, the objective runs on that task's sentences, in the
    same batches (no extra data: what Rei adds to a sequence labeller). With
    ``accompanies`` empty it reads its own ``data``, e.g. an unlabelled text file
    (``data.format = "text"``, one sentence per line), which makes the model
    semi-supervised. Each direction's loss is named (``<name>/forward``,
    ``<name>/backward``) and weighted by ``gamma``. Dev metrics: next-word
    accuracy and perplexity over the ``vocab + 1`` classes (a perplexity of
    the class distribution, the rare words pooled, not of the full vocabulary).
    Not exported.

    Reference:
        Rei, "Semi-supervised multitask learning for sequence labeling", ACL 2017.
    """

    exported_by_default = False
    predicts_tokens = True
    lower_is_better = ("perplexity", "forward_perplexity", "backward_perplexity")

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        c.vocab = 7500  # Most frequent words predicted; every other word is one class.
        c.hidden = 50  # Units of the tanh layer before each direction's softmax.
        # "auto" (both on a BiLSTM, forward on an LSTM), "both", "forward" or "backward".
        c.directions = "auto"
        c.gamma = 0.1  # Weight of each direction's loss (Rei's gamma).
        c.layer = 1  # On a BiLSTM stack only layer 1 (see the class doc); any layer of an LSTM.
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        super().resolve_config(entry, key, config, check_files=check_files)
        for name in ("vocab", "hidden"):
            if entry[name] < 1:
                raise ConfigError(f"{key}.{name}", f"must be >= 1, got {entry[name]}")
        if entry.gamma <= 0:
            raise ConfigError(f"{key}.gamma", f"must be > 0, got {entry.gamma}")
        if entry.directions not in DIRECTIONS:
            raise ConfigError(f"{key}.directions", f"{entry.directions!r} is not one of "
                              f"{', '.join(DIRECTIONS)}")
        bidirectional = config.model.encoders[entry.encoder].bidirectional
        if not bidirectional and entry.directions in ("both", "backward"):
            raise ConfigError(f"{key}.directions", f"encoder {entry.encoder!r} is "
                              "unidirectional: only the forward language model applies "
                              "(directions = 'forward' or 'auto')")
        layers = config.model.encoders[entry.encoder].layers
        if bidirectional and layers > 1 and entry.layer != 1:
            raise ConfigError(f"{key}.layer", f"{entry.layer}: above layer 1 of the BiLSTM "
                              f"stack {entry.encoder!r} both halves have read the whole "
                              "sentence (through the other direction below), so the word "
                              "each would predict; use layer 1")
        if entry.directions == "auto":
            entry.directions = "both" if bidirectional else "forward"

    @classmethod
    def metric_names(cls):
        return ("accuracy", "perplexity", "forward_accuracy", "forward_perplexity",
                "backward_accuracy", "backward_perplexity")

    def uses(self, direction: str) -> bool:
        """Whether the objective trains `direction` ("auto" is resolved by then)."""
        return self.config.directions in (direction, "both")

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        # The classes: the rest (id 0), then the word ranks 1..vocab.
        self.labels = Vocabulary([f"rank{r}" for r in range(1, self.config.vocab + 1)],
                                 pad=False, oov=True)
        return self.labels

    def encode_target(self, sentence: Sentence) -> dict[str, np.ndarray]:
        return {}  # The targets are the words the encoder reads (features.words).

    def build_head(self, features):
        words = features.words
        ops = keras.ops
        known = ops.logical_and(ops.greater_equal(words, _FIRST_WORD),
                                ops.less(words, _FIRST_WORD + self.config.vocab))
        classes = ops.where(known, ops.subtract(words, _FIRST_WORD - 1), ops.zeros_like(words))
        outputs = {"targets": classes}
        for direction in ("forward", "backward"):
            if not self.uses(direction):
                continue
            states = getattr(features, direction)(self.config.layer)
            hidden = keras.layers.Dense(self.config.hidden, activation="tanh",
                                        name=f"{self.name}_{direction}_hidden")(states)
            outputs[f"{direction}_logits"] = keras.layers.Dense(
                self.config.vocab + 1, name=f"{self.name}_{direction}_logits")(hidden)
        return outputs

    @staticmethod
    def _shifted(outputs, direction, lengths):
        """(logits, targets, mask) of the positions that predict a neighbour."""
        logits = outputs[f"{direction}_logits"]
        targets = tf.cast(outputs["targets"], tf.int32)
        time = tf.shape(targets)[1]
        if direction == "forward":  # State t predicts word t + 1.
            logits, targets = logits[:, :-1], targets[:, 1:]
            mask = tf.sequence_mask(lengths - 1, time - 1, dtype=logits.dtype)
        else:  # State t predicts word t - 1.
            logits, targets = logits[:, 1:], targets[:, :-1]
            valid = tf.sequence_mask(lengths, time, dtype=logits.dtype)[:, 1:]
            mask = valid
        return logits, targets, mask

    def losses(self, batch, outputs):
        losses = {}
        for direction in ("forward", "backward"):
            if f"{direction}_logits" not in outputs:
                continue
            logits, targets, mask = self._shifted(outputs, direction, batch["lengths"])
            xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
            losses[f"{self.name}/{direction}"] = Loss(tf.reduce_sum(xent * mask),
                                                      tf.reduce_sum(mask), self.config.gamma)
        return losses

    def predict(self, outputs):
        """Per token and direction: the log-probability of the word it predicts and whether
        that word's class is the most probable, float [B, T, 4] (forward log-prob, forward
        hit, backward log-prob, backward hit; zeros where a direction has no target)."""
        time = tf.shape(outputs["targets"])[1]
        lengths = tf.fill(tf.shape(outputs["targets"])[:1], time)
        columns = []
        for direction in ("forward", "backward"):
            if f"{direction}_logits" not in outputs:
                zeros = tf.zeros(tf.shape(outputs["targets"]), tf.float32)
                columns += [zeros, zeros]
                continue
            logits, targets, _ = self._shifted(outputs, direction, lengths)
            log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
            picked = tf.gather(log_probabilities, targets, batch_dims=2)
            hit = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), targets),
                          tf.float32)
            pad = [[0, 0], [0, 1]] if direction == "forward" else [[0, 0], [1, 0]]
            columns += [tf.pad(picked, pad), tf.pad(hit, pad)]
        return tf.stack(columns, axis=-1)

    @property
    def main_metric(self) -> str:
        return "accuracy" if self.config.metric == "auto" else self.config.metric

    def evaluate(self, sentences, predictions, oov):
        totals = {"forward": [0.0, 0.0, 0], "backward": [0.0, 0.0, 0]}  # log-prob, hits, count
        for sentence, values in zip(sentences, predictions, strict=True):
            n = len(sentence.tokens)
            values = np.asarray(values)[:n]
            for direction, column, rows in (("forward", 0, slice(0, n - 1)),
                                            ("backward", 2, slice(1, n))):
                part = values[rows]
                totals[direction][0] += float(part[:, column].sum())
                totals[direction][1] += float(part[:, column + 1].sum())
                totals[direction][2] += len(part)
        directions = [d for d in ("forward", "backward") if self.uses(d)]
        scores = {}
        for direction in directions:
            log_probability, hits, count = totals[direction]
            scores[f"{direction}_accuracy"] = 100.0 * hits / max(count, 1)
            scores[f"{direction}_perplexity"] = math.exp(-log_probability / max(count, 1))
        log_probability = sum(totals[d][0] for d in directions)
        hits = sum(totals[d][1] for d in directions)
        count = sum(totals[d][2] for d in directions)
        scores["accuracy"] = 100.0 * hits / max(count, 1)
        scores["perplexity"] = math.exp(-log_probability / max(count, 1))
        return scores
