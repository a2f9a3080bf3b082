"""An experiment: the resolved config, its tasks, vocabularies and encoded data."""

from __future__ import annotations

import functools
import os

import ml_collections
import numpy as np
from absl import logging

from tfmtl.data import DataError, Sentence, Vocabulary
from tfmtl.data.featurizer import Featurizer
from tfmtl.data.word_vectors import embedding_matrix
from tfmtl.experiment.validation import from_json
from tfmtl.models.multitask_model import MultiTaskModel, build_multitask_model
from tfmtl.tasks import TASKS
from tfmtl.tasks.base import Task
from tfmtl.tasks.data_source import train_source

CONFIG_FILE = "config.json"
VOCAB_DIR = "vocab"
LABELS_DIR = "labels"


class Experiment:
    """Everything a run, an evaluation or an export needs besides the weights.

    Args:
        config: the resolved config.
        tasks: the tasks, in config order, with label vocabularies.
        featurizer: the input vocabularies.
    """

    def __init__(self, config: ml_collections.ConfigDict, tasks: list[Task],
                 featurizer: Featurizer):
        self.config = config
        self.tasks = tasks
        self.featurizer = featurizer
        self.task_by_name = {task.name: task for task in tasks}

    @staticmethod
    def make_tasks(config: ml_collections.ConfigDict) -> list[Task]:
        return [TASKS.get(entry.type)(name, entry) for name, entry in config.tasks.items()]

    @classmethod
    def create(cls, config: ml_collections.ConfigDict) -> Experiment:
        """Reads the training data and builds every vocabulary from it."""
        tasks = cls.make_tasks(config)
        seen: set[tuple] = set()
        unique: list[Sentence] = []
        experiment = cls(config, tasks, featurizer=None)  # type: ignore[arg-type]
        for task in tasks:
            train = experiment.sentences(task.name, "train")
            if not train:
                raise DataError(
                    task.config.data.train or "<synthetic>", None,
                    f"task {task.name!r} has no training sentences",
                )
            task.build_labels(train)
            for sentence in train:
                key = (sentence.path, sentence.line, sentence.tokens)
                if key not in seen:
                    seen.add(key)
                    unique.append(sentence)
        e = language_config(config)
        experiment.featurizer = Featurizer.build(
            unique, lowercase=e.lowercase, min_count=e.min_count, max_vocab=e.max_vocab,
            max_chars=e.max_chars, use_chars=e.char.type != "none",
        )
        return experiment

    @classmethod
    def restore(cls, workdir: str) -> Experiment:
        """Loads the config and vocabularies a training run wrote into `workdir`."""
        path = os.path.join(workdir, CONFIG_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file; is {workdir} a tfmtl workdir?")
        with open(path, encoding="utf-8") as f:
            config = from_json(f.read(), source=path)
        return cls.load_vocabularies(config, workdir)

    @classmethod
    def load_vocabularies(cls, config: ml_collections.ConfigDict, workdir: str) -> Experiment:
        vocab_dir = os.path.join(workdir, VOCAB_DIR)
        tasks = cls.make_tasks(config)
        for task in tasks:
            task.labels = Vocabulary.load(os.path.join(vocab_dir, LABELS_DIR, f"{task.name}.txt"))
        e = language_config(config)
        featurizer = Featurizer.load(
            vocab_dir, lowercase=e.lowercase, max_chars=e.max_chars,
            use_chars=e.char.type != "none",
        )
        return cls(config, tasks, featurizer)

    def build_model(self, *, restoring: bool = False) -> MultiTaskModel:
        """The multi-task model of this experiment's config, tasks and vocabularies.

        With ``vectors`` set, the word embedding starts from the vector file (read
        again here, not stored in the workdir: the checkpoint holds the weights),
        unless ``restoring``: a model whose weights a checkpoint is about to
        overwrite (evaluation, export) does not need the file. Its layers take the dtype
        policy of ``training.mixed_precision``.
        """
        e = language_config(self.config)
        word_vectors = None
        if e.vectors and not restoring:
            word_vectors, found = embedding_matrix(
                e.vectors, self.featurizer.words, e.word_dim, missing=e.missing,
                seed=self.config.seed,
            )
            logging.info("word vectors: %d of %d vocabulary words found in %s", found,
                         len(self.featurizer.words), e.vectors)
        return build_multitask_model(self.config.model, self.tasks, self.featurizer,
                                     seed=self.config.seed, word_vectors=word_vectors,
                                     dtype_policy=self.config.training.mixed_precision)

    def save_vocabularies(self, workdir: str) -> None:
        vocab_dir = os.path.join(workdir, VOCAB_DIR)
        self.featurizer.save(vocab_dir)
        os.makedirs(os.path.join(vocab_dir, LABELS_DIR), exist_ok=True)
        for task in self.tasks:
            task.labels.save(os.path.join(vocab_dir, LABELS_DIR, f"{task.name}.txt"))

    @functools.cache  # noqa: B019 (an experiment lives as long as its run)
    def sentences(self, task_name: str, split: str) -> list[Sentence]:
        """A task's sentences of one split; long training sentences dropped per config."""
        sentences = self.task_by_name[task_name].read(split)
        max_length = self.config.data.max_length
        if split == "train" and max_length:
            sentences = [s for s in sentences if len(s.tokens) <= max_length]
        return sentences

    def groups(self, joint: bool) -> list[tuple[Task, ...]]:
        """The units a training step trains: single tasks, or with `joint` the tasks that
        read the same training sentences together (in config order). A task that
        accompanies another (:attr:`Task.accompanies`) is always in that task's unit."""
        units: dict = {}
        for task in self.tasks:
            if task.accompanies is None:
                key = train_source(task.config.data) if joint else task.name
                units.setdefault(key, []).append(task)
        for task in self.tasks:
            if task.accompanies is not None:
                unit = next(u for u in units.values()
                            if any(t.name == task.accompanies for t in u))
                unit.append(task)
        return [tuple(unit) for unit in units.values()]

    @functools.cache  # noqa: B019
    def train_examples(self, group: tuple[str, ...]) -> list[dict[str, np.ndarray]]:
        """Encoded training examples with the targets of every task in `group`.

        A task's target keys are prefixed with its name (``pos/tags``); see
        :func:`task_batch`.
        """
        first = self.task_by_name[group[0]]
        sentences = self.sentences(first.name, "train")
        examples = self.featurizer.encode_batch([sentence.tokens for sentence in sentences])
        for sentence, example in zip(sentences, examples, strict=True):
            for name in group:
                for key, value in self.task_by_name[name].encode_target(sentence).items():
                    example[f"{name}/{key}"] = value
        return examples

    @functools.cache  # noqa: B019
    def examples(self, task_name: str, split: str) -> list[dict[str, np.ndarray]]:
        """A task's encoded examples of one split: input features and target."""
        task = self.task_by_name[task_name]
        sentences = self.sentences(task_name, split)
        examples = self.featurizer.encode_batch([sentence.tokens for sentence in sentences])
        for sentence, example in zip(sentences, examples, strict=True):
            example.update(task.encode_target(sentence))
        return examples


def language(config: ml_collections.ConfigDict) -> str:
    """The language the tasks' encoders read (validation allows one today)."""
    encoders = {task.encoder for task in config.tasks.values()}
    return next(iter(config.model.encoders[name].language for name in sorted(encoders)))


def language_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The ``config.model.embeddings`` entry of the tasks' language."""
    return config.model.embeddings[language(config)]


def task_batch(batch: dict, task_name: str) -> dict:
    """A task's view of a group batch: its own targets unprefixed, plus ``lengths``."""
    prefix = f"{task_name}/"
    view = {key[len(prefix):]: value for key, value in batch.items() if key.startswith(prefix)}
    view["lengths"] = batch["lengths"]
    return view
