"""Counts over a corpus: sizes, label inventories, OOV and ambiguity rates."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable

from tfmtl.data.sentence import Sentence


@dataclasses.dataclass
class CorpusStatistics:
    """Sizes and per-column value counts of a corpus, gathered in one pass.

    Args:
        sentences: the number of sentences.
        tokens: the number of tokens.
        words: how often each token occurs.
        columns: for each token-aligned field, how often each value occurs.
        labels: how often each sentence label occurs (empty when there are none).
        target_tokens: how often each target-side token occurs (empty without targets).
    """

    sentences: int = 0
    tokens: int = 0
    words: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    columns: dict[str, collections.Counter] = dataclasses.field(default_factory=dict)
    labels: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    target_tokens: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def add(self, sentence: Sentence) -> None:
        """Counts one more sentence."""
        self.sentences += 1
        self.tokens += len(sentence.tokens)
        self.words.update(sentence.tokens)
        for name, values in sentence.fields.items():
            self.columns.setdefault(name, collections.Counter()).update(values)
        if sentence.label is not None:
            self.labels[sentence.label] += 1
        if sentence.target is not None:
            self.target_tokens.update(sentence.target)


def corpus_statistics(sentences: Iterable[Sentence]) -> CorpusStatistics:
    """Returns the :class:`CorpusStatistics` of a stream of sentences (read only once)."""
    statistics = CorpusStatistics()
    for sentence in sentences:
        statistics.add(sentence)
    return statistics


def oov_rate(known: Iterable[str], tokens: Iterable[str]) -> float:
    """The share of ``tokens`` not in ``known`` (for example dev tokens unseen in training)."""
    vocabulary = set(known)
    total = unseen = 0
    for token in tokens:
        total += 1
        unseen += token not in vocabulary
    return unseen / total if total else 0.0


def ambiguity_rate(sentences: Iterable[Sentence], column: str) -> float:
    """The share of tokens whose word form takes more than one value of ``column`` in the data.

    For ``column="pos"`` this is the share of running words that are homographs across word
    classes: what a tagger cannot get right from the word alone.
    """
    values: dict[str, set[str]] = collections.defaultdict(set)
    counts: collections.Counter = collections.Counter()
    for sentence in sentences:
        for token, value in zip(sentence.tokens, sentence.column(column), strict=True):
            values[token].add(value)
            counts[token] += 1
    total = sum(counts.values())
    ambiguous = sum(count for token, count in counts.items() if len(values[token]) > 1)
    return ambiguous / total if total else 0.0
