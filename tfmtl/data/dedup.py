"""Deterministic splits and cross-corpus deduplication of sentence classification corpora.

MR (sentence polarity), SUBJ and SST share most of their sentences (SST was
built from MR's snippets), so a multi-task run that trains on one and tests
on another would be tested on its own training sentences. :func:`deduplicate`
removes from every corpus' training split each sentence that occurs in any
corpus' dev or test split, matching sentences on their lowercased letters and
digits only (so tokenization, punctuation and PTB escapes do not hide a match).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from tfmtl.data.sentence import Sentence

SPLITS = ("train", "dev", "test")
# PTB bracket escapes (SST's trees): punctuation, so nothing of them is matched.
_ESCAPES = {"-LRB-", "-RRB-", "-LSB-", "-RSB-", "-LCB-", "-RCB-"}


def sentence_key(tokens: Sequence[str]) -> str:
    """The sentence as matched across corpora: its lowercased letters and digits only."""
    return "".join(ch for token in tokens if token not in _ESCAPES
                   for ch in token.lower() if ch.isalnum())


def split_sentences(sentences: Sequence[Sentence], *, seed: int, dev: float, test: float
                    ) -> dict[str, list[Sentence]]:
    """Splits a corpus without splits into train/dev/test by a seeded permutation.

    The same sentences, seed and fractions always give the same split; dev and test get
    ``round(fraction * n)`` sentences each, in the permutation's order.
    """
    if not 0 <= dev < 1 or not 0 <= test < 1 or dev + test >= 1:
        raise ValueError(f"dev and test fractions must be in [0, 1) with a sum below 1, "
                         f"got {dev} and {test}")
    order = np.random.default_rng(seed).permutation(len(sentences))
    n_dev, n_test = round(dev * len(sentences)), round(test * len(sentences))
    picked = [sentences[i] for i in order]
    return {"dev": picked[:n_dev], "test": picked[n_dev:n_dev + n_test],
            "train": picked[n_dev + n_test:]}


@dataclasses.dataclass
class Removed:
    """What deduplication removed from one corpus' training split."""

    before: int
    after: int
    by_source: dict[str, int]  # "<corpus>/<split>" -> training sentences that occur there.

    @property
    def removed(self) -> int:
        return self.before - self.after


def deduplicate(corpora: Mapping[str, Mapping[str, Sequence[Sentence]]]
                ) -> tuple[dict[str, dict[str, list[Sentence]]], dict[str, Removed]]:
    """Removes from every corpus' train split each sentence of any corpus' dev or test split.

    Dev and test splits are left as they are (a sentence in two evaluation sets stays in
    both). Sentences without a letter or digit are never matched.

    Returns:
        (the corpora with cleaned training splits, per corpus what was removed).
    """
    held_out: dict[str, set[str]] = {}
    for name, splits in corpora.items():
        for split in ("dev", "test"):
            for sentence in splits.get(split, ()):
                key = sentence_key(sentence.tokens)
                if key:
                    held_out.setdefault(key, set()).add(f"{name}/{split}")
    cleaned, report = {}, {}
    for name, splits in corpora.items():
        train = list(splits.get("train", ()))
        kept, by_source = [], {}
        for sentence in train:
            sources = held_out.get(sentence_key(sentence.tokens))
            if sources:
                for source in sources:
                    by_source[source] = by_source.get(source, 0) + 1
            else:
                kept.append(sentence)
        cleaned[name] = {**{s: list(v) for s, v in splits.items()}, "train": kept}
        report[name] = Removed(len(train), len(kept), dict(sorted(by_source.items())))
    return cleaned, report


def overlap(a: Sequence[Sentence], b: Sequence[Sentence]) -> int:
    """How many sentences of `a` occur in `b` (by :func:`sentence_key`)."""
    keys = {sentence_key(s.tokens) for s in b} - {""}
    return sum(sentence_key(s.tokens) in keys for s in a)


def write_tsv(path, sentences: Sequence[Sentence]) -> None:
    """Writes labelled sentences as ``label<TAB>tokens`` lines, atomically."""
    from tfmtl.files import atomic_write_text

    atomic_write_text(path, "".join(f"{s.label}\t{' '.join(s.tokens)}\n" for s in sentences))
