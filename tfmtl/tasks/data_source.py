"""Reading a task's train/dev/test sentences as its data config describes.

Several tasks often read the same files (POS and chunking from one CoNLL-2000
file), so parsed files are cached for the life of the process.
"""

from __future__ import annotations

import functools
import os

import ml_collections

from tfmtl.data import READERS, DataError, Sentence, synthetic_splits
from tfmtl.data.sentiment import parse_class_files, read_class_files, read_sst

SPLITS = ("train", "dev", "test")
FORMATS = (*READERS, "class_files", "sst", "synthetic")
SYNTHETIC_COLUMNS = ("pos", "chunk", "ner")


def data_config() -> ml_collections.ConfigDict:
    """The `data` section shared by every task type."""
    c = ml_collections.ConfigDict()
    # "conllu", "conll" (word-per-line columns), "tsv" (label<TAB>text), "text" (one
    # unlabelled sentence per line), "class_files" (one file per class, see `classes`),
    # "sst" (Stanford Sentiment Treebank trees) or "synthetic".
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
    # For "synthetic": the NER column, "chunks" (typed names, each a whole NP chunk) or
    # "lexical" (a fixed function of the word form, unrelated to POS and chunks).
    c.ner = "chunks"
    # For "class_files": "class=file,class=file" (e.g. "positive=rt-polarity.pos,
    # negative=rt-polarity.neg"), one sentence per line; dev from `holdout`.
    c.classes = ""
    c.sst = "fine"  # For "sst": "fine" (root label 0-4) or "binary" (neutral dropped).
    c.phrases = False  # For "sst": every labelled phrase of a training tree is an example too.
    c.encoding = "utf-8"  # The files' text encoding (e.g. "cp1252"); bad bytes are an error.
    # A label value that marks a token (tagging) or a sentence (classification) of the
    # training data as unlabelled for this task: it is left out of the task's loss, not
    # dropped (the sentence still trains the tasks that read it too). "" = none; e.g. "_",
    # CoNLL-U's empty value. Dev and test data must be fully labelled.
    c.missing = ""
    return c


def load_split(data: ml_collections.ConfigDict, split: str) -> list[Sentence]:
    """Returns the sentences of one split ([] when the split has no data)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if data.format == "synthetic":
        return list(_synthetic(data.sentences, data.seed, data.ner)[split])
    if data.holdout and not data.dev and split != "test":
        train = _read_split(data, "train")
        if len(train) <= data.holdout:
            raise DataError(
                data.train or data.classes, None,
                f"holdout={data.holdout} needs more sentences than the {len(train)} in the file",
            )
        return list(train[-data.holdout:] if split == "dev" else train[: -data.holdout])
    return list(_read_split(data, split))


def _read_split(data: ml_collections.ConfigDict, split: str) -> tuple[Sentence, ...]:
    if data.format == "class_files":
        return _class_files(data.classes, data.encoding) if split == "train" else ()
    path = data[split]
    if not path:
        return ()
    if data.format == "sst":
        return _sst(path, data.sst, data.phrases and split == "train", data.encoding)
    return _read(data.format, path, data.encoding)


def train_source(data: ml_collections.ConfigDict) -> tuple:
    """Identifies a data config's training sentences: equal keys, equal sentences."""
    if data.format == "synthetic":
        return ("synthetic", data.sentences, data.seed, data.ner)
    holdout = data.holdout if not data.dev else 0
    if data.format == "class_files":
        return ("class_files", data.classes, holdout, data.encoding)
    if data.format == "sst":
        return ("sst", data.train, holdout, data.sst, data.phrases, data.encoding)
    return (data.format, data.train, holdout, data.encoding)


@functools.lru_cache(maxsize=16)
def _read(fmt: str, path: str, encoding: str) -> tuple[Sentence, ...]:
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file")
    return tuple(READERS[fmt](path, encoding=encoding))


@functools.lru_cache(maxsize=8)
def _class_files(classes: str, encoding: str) -> tuple[Sentence, ...]:
    files = parse_class_files(classes)
    for _, path in files:
        if not os.path.isfile(path):
            raise DataError(path, None, "no such file")
    return tuple(read_class_files(files, encoding=encoding))


@functools.lru_cache(maxsize=8)
def _sst(path: str, labels: str, phrases: bool, encoding: str) -> tuple[Sentence, ...]:
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file")
    return tuple(read_sst(path, labels=labels, phrases=phrases, encoding=encoding))


@functools.lru_cache(maxsize=4)
def _synthetic(sentences: int, seed: int, ner: str) -> dict[str, list[Sentence]]:
    return synthetic_splits(sentences, seed, ner)
