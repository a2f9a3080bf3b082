"""Reading a task's train/dev/test sentences as its data config describes.

Several tasks often read the same files (POS and chunking from one CoNLL-2000
file), so parsed files are cached for the life of the process.
"""

from __future__ import annotations

import functools
import os

import ml_collections

from tfmtl.data import READERS, DataError, Sentence, synthetic_splits

SPLITS = ("train", "dev", "test")
FORMATS = (*READERS, "synthetic")
SYNTHETIC_COLUMNS = ("pos", "chunk", "ner")


def data_config() -> ml_collections.ConfigDict:
    """The `data` section shared by every task type."""
    c = ml_collections.ConfigDict()
    # "conllu", "conll" (word-per-line columns), "tsv" (label<TAB>text), "text" (one
    # unlabelled sentence per line) or "synthetic".
    c.format = "conll"
    c.train = ""  # Training file (relative paths resolve against config.data_dir).
    c.dev = ""  # Dev file; "" with holdout > 0 takes the last `holdout` training sentences.
    c.test = ""  # Test file ("" = none).
    c.holdout = 0  # Training sentences held out as the dev set when `dev` is "".
    # Token column: "upos", "xpos", ... (CoNLL-U); "1", "-1" (CoNLL); "pos", "chunk", "ner"
    # (synthetic).
    c.column = ""
    c.sentences = 5000  # For "synthetic": sentences generated (split 80/10/10).
    c.seed = 1  # For "synthetic": generator seed.
    return c


def load_split(data: ml_collections.ConfigDict, split: str) -> list[Sentence]:
    """Returns the sentences of one split ([] when the split has no data)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if data.format == "synthetic":
        return list(_synthetic(data.sentences, data.seed)[split])
    if data.holdout and not data.dev and split != "test":
        train = _read(data.format, data.train)
        if len(train) <= data.holdout:
            raise DataError(
                data.train, None,
                f"holdout={data.holdout} needs more sentences than the {len(train)} in the file",
            )
        return list(train[-data.holdout:] if split == "dev" else train[: -data.holdout])
    path = data[split]
    return list(_read(data.format, path)) if path else []


def train_source(data: ml_collections.ConfigDict) -> tuple:
    """Identifies a data config's training sentences: equal keys, equal sentences."""
    if data.format == "synthetic":
        return ("synthetic", data.sentences, data.seed)
    return (data.format, data.train, data.holdout if not data.dev else 0)


@functools.lru_cache(maxsize=16)
def _read(fmt: str, path: str) -> tuple[Sentence, ...]:
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file")
    return tuple(READERS[fmt](path))


@functools.lru_cache(maxsize=4)
def _synthetic(sentences: int, seed: int) -> dict[str, list[Sentence]]:
    return synthetic_splits(sentences, seed)
