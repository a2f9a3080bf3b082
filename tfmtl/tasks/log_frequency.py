"""Predicting each word's frequency class: an auxiliary tagging objective needing no labels."""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import ml_collections

from tfmtl.data import Sentence, Vocabulary
from tfmtl.tasks import TASKS
from tfmtl.tasks.auxiliary import Accompanying, resolve_lowercase
from tfmtl.tasks.tagging import Tagging


@TASKS.register("log_frequency")
class LogFrequency(Accompanying, Tagging):
    """Tags each token with ``int(log(count))``, its frequency class in the training corpus.

    The counts are those of this task's training split (the accompanied
    task's, with ``accompanies``); a word seen once and a word never seen
    (OOV) are both class 0. Words are counted as the embeddings look them up
    (lowercased when ``model.embeddings.<language>.lowercase``, unless
    ``lowercase`` says otherwise). A softmax per token at ``layer``, like any
    tagger; dev metrics accuracy and OOV accuracy. Not exported.

    Reference:
        Plank, Søgaard and Goldberg, "Multilingual part-of-speech tagging
        with bidirectional long short-term memory models and auxiliary loss",
        ACL 2016.
    """

    exported_by_default = False

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = super().default_config()
        # Count words lowercased: "auto" (as the embeddings look them up), "yes" or "no".
        c.lowercase = "auto"
        return c

    @classmethod
    def resolve_config(cls, entry, key, config, *, check_files):
        super().resolve_config(entry, key, config, check_files=check_files)
        resolve_lowercase(entry, key, config)

    @classmethod
    def check_label_source(cls, data, key):
        """Any sentences will do: the labels are counted, not read."""

    def __init__(self, name, config):
        super().__init__(name, config)
        self._counts: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Each word's count in the training sentences (read again after a restore)."""
        if self._counts is None:
            self._count(self.read("train"))
        return self._counts

    def _count(self, train: Sequence[Sentence]) -> None:
        self._counts = dict(collections.Counter(self._word(t) for s in train for t in s.tokens))

    def _word(self, token: str) -> str:
        return token.lower() if self.config.lowercase == "yes" else token

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        # Counted over the whole training split (also after a restore), not the sentences
        # left after data.max_length.
        self._count(self.read("train"))
        top = int(math.log(max(self.counts.values(), default=1)))
        self.labels = Vocabulary([str(c) for c in range(top + 1)], pad=False, oov=False)
        return self.labels

    def tags(self, sentence: Sentence) -> tuple[str, ...]:
        top = len(self.labels) - 1
        return tuple(str(min(int(math.log(self.counts.get(self._word(t), 1))), top))
                     for t in sentence.tokens)
