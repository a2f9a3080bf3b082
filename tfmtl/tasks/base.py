"""The base class of task types."""

from __future__ import annotations

import codecs
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import ClassVar

import ml_collections
import numpy as np

from tfmtl.config import ConfigError
from tfmtl.data import NER_MODES, DataError, Sentence, Vocabulary
from tfmtl.data.sentiment import SST_LABELS, parse_class_files
from tfmtl.tasks import data_source


@dataclasses.dataclass(frozen=True)
class Loss:
    """One named loss of a batch: ``weight * total / count`` (count summed over replicas).

    Attributes:
        total: the summed loss over the batch's items (a scalar tensor).
        count: the number of items summed (tokens, sentences), a scalar tensor.
        weight: multiplies the mean; a task's main loss has weight 1 (the trainer or the
            weighting applies ``loss_weight``), an auxiliary loss its own weight.
    """

    total: object
    count: object
    weight: float = 1.0


class Task:
    """A task trained on the shared model: its data, head, loss, metrics and outputs.

    A task type subclasses this, declares its config keys in
    :meth:`default_config`, and implements the data, model and evaluation
    hooks below. The trainer only talks to tasks through these methods, so a
    new type (sequence-to-sequence, language modelling, an auxiliary
    objective) is one new module in ``tfmtl/tasks/``.

    Args:
        name: the task's name, the key of its config entry and of its output.
        config: the task's resolved config entry.
    """

    # Key of this task's target in encoded examples and batches.
    target_key: ClassVar[str] = ""
    # The fields of an example the task reads (each in its encoder's language); validation
    # rejects a type that reads a field no model input provides (tfmtl.data.featurizer.FIELDS).
    input_fields: ClassVar[tuple[str, ...]] = ("words",)
    # The metrics of :meth:`metric_names` that are better lower (perplexity); every other
    # is better higher. Δm (tfmtl.metrics.delta_m) reads it for each task's main metric.
    lower_is_better: ClassVar[tuple[str, ...]] = ()
    # Whether :meth:`predict` gives one row per token ([batch, time, ...]) rather than per
    # sentence; the evaluator trims token rows to each sentence's length.
    predicts_tokens: ClassVar[bool] = False
    # Whether the head reads its encoder layer's final states (EncoderFeatures.final_states):
    # a sharing scheme builds the encoder to return them when a task it serves does.
    reads_final_states: ClassVar[bool] = False
    # Whether an export serves the task unless told otherwise (auxiliary tasks: False).
    exported_by_default: ClassVar[bool] = True
    # Whether the type reads `data.missing` (a label value marking unlabelled training
    # examples, left out of its loss); set for another type it is a config error.
    reads_missing_labels: ClassVar[bool] = False
    # What an export serves for this task: output key -> (dtype, shape, doc); the export
    # prefixes each key with the task's name (``pos_labels``).
    serving_schema: ClassVar[dict[str, tuple[str, str, str]]] = {}

    def __init__(self, name: str, config: ml_collections.ConfigDict):
        self.name = name
        self.config = config
        self.labels: Vocabulary | None = None

    @property
    def accompanies(self) -> str | None:
        """The task in whose batches this one trains (an auxiliary objective on that task's
        sentences, e.g. a language model), or None for a task with batches of its own."""
        return None

    # Config ---------------------------------------------------------------

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """The keys every task has; subclasses add their own."""
        c = ml_collections.ConfigDict()
        c.type = ""  # Task type (set by task_config).
        c.data = data_source.data_config()
        c.encoder = "shared"  # The encoder (config.model.encoders key) the head reads.
        c.layer = -1  # Encoder layer the head reads: 1 = lowest, -1 = top.
        c.export = "auto"  # Served by an export: "auto" (the type's default), "yes" or "no".
        c.loss_weight = 1.0  # Multiplies the task's loss.
        c.mixing_ratio = 1.0  # "ratio" sampler: sampling weight relative to the reference task.
        c.metric = "auto"  # Dev metric for early stopping and the best checkpoint ("auto": main).
        return c

    @classmethod
    def resolve_config(cls, entry: ml_collections.ConfigDict, key: str,
                       config: ml_collections.ConfigDict, *, check_files: bool) -> None:
        """Checks a task entry in the context of the whole config; resolves its paths.

        Raises:
            ConfigError: naming the offending key.
        """
        from tfmtl.config import resolve_path

        data = entry.data
        if data.format not in data_source.FORMATS:
            raise ConfigError(
                f"{key}.data.format",
                f"unknown format {data.format!r}; known: {', '.join(data_source.FORMATS)}",
            )
        try:
            codecs.lookup(data.encoding)
        except LookupError:
            raise ConfigError(f"{key}.data.encoding",
                              f"unknown encoding {data.encoding!r}") from None
        if data.format == "class_files":
            cls._resolve_class_files(data, key, config, check_files=check_files)
        if data.format == "sst" and data.sst not in SST_LABELS:
            raise ConfigError(f"{key}.data.sst", f"{data.sst!r} is not one of "
                              f"{', '.join(SST_LABELS)}")
        if data.missing and not cls.reads_missing_labels:
            raise ConfigError(f"{key}.data.missing", f"task type {entry.type!r} has no labels "
                              "to leave out; only tagging and classification read it")
        if data.phrases and data.format != "sst":
            raise ConfigError(f"{key}.data.phrases", "only SST trees have labelled phrases")
        if data.format == "synthetic":
            if data.sentences < 10:
                raise ConfigError(f"{key}.data.sentences", f"must be >= 10, got {data.sentences}")
            if data.ner not in NER_MODES:
                raise ConfigError(f"{key}.data.ner", f"{data.ner!r} is not one of "
                                  f"{', '.join(NER_MODES)}")
        elif data.ner != "chunks":
            raise ConfigError(f"{key}.data.ner", "only the synthetic corpus has a NER mode")
        else:
            if not data.train and data.format != "class_files":
                raise ConfigError(f"{key}.data.train", "no training file given")
            if data.holdout < 0:
                raise ConfigError(f"{key}.data.holdout", f"must be >= 0, got {data.holdout}")
            if data.holdout and data.dev:
                raise ConfigError(f"{key}.data.holdout", "set either data.dev or data.holdout")
            for split in data_source.SPLITS:
                data[split] = resolve_path(config, data[split])
                if check_files and data[split] and not os.path.isfile(data[split]):
                    raise ConfigError(f"{key}.data.{split}", f"no such file: {data[split]}")
        if entry.encoder not in config.model.encoders:
            raise ConfigError(
                f"{key}.encoder",
                f"unknown encoder {entry.encoder!r}; known: {', '.join(config.model.encoders)}",
            )
        if entry.export not in ("auto", "yes", "no"):
            raise ConfigError(f"{key}.export", f"{entry.export!r} is not one of auto, yes, no")
        if entry.export == "yes" and not cls.serving_schema:
            raise ConfigError(f"{key}.export", f"a {entry.type!r} task serves nothing (an "
                              "auxiliary objective): it cannot be exported")
        layers = config.model.encoders[entry.encoder].layers
        if entry.layer != -1 and not 1 <= entry.layer <= layers:
            raise ConfigError(
                f"{key}.layer",
                f"{entry.layer} is not a layer of encoder {entry.encoder!r}, which has {layers} "
                f"(use 1..{layers}, or -1 for the top)",
            )
        if entry.loss_weight <= 0:
            raise ConfigError(f"{key}.loss_weight", f"must be > 0, got {entry.loss_weight}")
        if entry.mixing_ratio < 0:
            raise ConfigError(f"{key}.mixing_ratio", f"must be >= 0, got {entry.mixing_ratio}")
        if entry.metric != "auto" and entry.metric not in cls.metric_names():
            raise ConfigError(
                f"{key}.metric",
                f"unknown metric {entry.metric!r}; known: auto, {', '.join(cls.metric_names())}",
            )

    @staticmethod
    def _resolve_class_files(data, key: str, config, *, check_files: bool) -> None:
        """Checks ``data.classes`` (class=file pairs) and resolves its paths."""
        from tfmtl.config import resolve_path

        if data.train or data.dev or data.test:
            raise ConfigError(f"{key}.data.train", "class_files reads data.classes; leave "
                              "train, dev and test empty (dev: data.holdout)")
        try:
            pairs = parse_class_files(data.classes)
        except ValueError as error:
            raise ConfigError(f"{key}.data.classes", str(error)) from None
        resolved = [(label, resolve_path(config, path)) for label, path in pairs]
        for label, path in resolved:
            if check_files and not os.path.isfile(path):
                raise ConfigError(f"{key}.data.classes", f"class {label!r}: no such file: {path}")
        data.classes = ",".join(f"{label}={path}" for label, path in resolved)

    @classmethod
    def metric_names(cls) -> tuple[str, ...]:
        """Dev metrics this type can report (higher is better, except
        :attr:`lower_is_better`)."""
        raise NotImplementedError

    def layer(self, num_layers: int) -> int:
        """The 1-based encoder layer this task's head reads."""
        return num_layers if self.config.layer == -1 else self.config.layer

    @property
    def exported(self) -> bool:
        """Whether an export serves this task when no task list is given."""
        if self.config.export == "auto":
            return self.exported_by_default
        return self.config.export == "yes"

    # Data -----------------------------------------------------------------

    def read(self, split: str) -> list[Sentence]:
        """The task's sentences of one split ([] when it has none).

        Raises:
            DataError: a dev or test sentence has a label marked missing (``data.missing``
                applies to training data: an unlabelled example cannot be scored).
        """
        sentences = data_source.load_split(self.config.data, split)
        if self.config.data.missing and split != "train":
            for sentence in sentences:
                if self.has_missing_label(sentence):
                    raise DataError(sentence.path, sentence.line,
                                    f"{split} sentence with a label marked missing "
                                    f"({self.config.data.missing!r}, data.missing of task "
                                    f"{self.name!r}): dev and test data must be fully labelled")
        return sentences

    def has_missing_label(self, sentence: Sentence) -> bool:
        """Whether `sentence` lacks a label of this task (``data.missing``)."""
        return False

    def build_labels(self, train: Sequence[Sentence]) -> Vocabulary:
        """Builds (and keeps) the label vocabulary from the training sentences."""
        raise NotImplementedError

    def encode_target(self, sentence: Sentence) -> dict[str, np.ndarray]:
        """The encoded target of one sentence, keyed by :attr:`target_key`."""
        raise NotImplementedError

    # Model ----------------------------------------------------------------

    def build_head(self, features) -> dict:
        """Builds the head on the encoder features it reads; returns its outputs.

        Args:
            features: the :class:`tfmtl.layers.EncoderFeatures` of the task's encoder
                (every layer up to the task's, each direction, the mask).

        Returns:
            A dict of named Keras tensors, ``"logits"`` among them for a predicting
            task; whatever :meth:`losses` needs from the graph goes here too.
        """
        raise NotImplementedError

    def label_features(self, outputs: Mapping):
        """Features fed to the layers above the task's own, or None (the default)."""
        return None

    def losses(self, batch: Mapping, outputs: Mapping) -> dict[str, Loss]:
        """The task's named losses on one batch: its main loss under the task's name, and
        any auxiliary ones as ``"<task>/<name>"``.

        Args:
            batch: the task's view of the batch (its targets and ``lengths``).
            outputs: the head's outputs on the batch. The model is a Keras functional
                graph, so the encoder features a task read exist at step time only as the
                outputs its head made of them: whatever a loss needs from them (a
                direction's half, a layer, the mask) :meth:`build_head` returns too.
        """
        raise NotImplementedError

    def predict(self, outputs: Mapping):
        """Maps the head's outputs to predicted label ids (in graph)."""
        raise NotImplementedError

    def serving_outputs(self, outputs: Mapping, lengths, classes) -> dict:
        """Maps the head's outputs to what an exported model serves (in graph), one tensor
        per :attr:`serving_schema` key.

        Args:
            outputs: the head's outputs for a batch (padded to at least one position).
            lengths: int32 [batch], real tokens per sentence (0 for an empty sentence).
            classes: string [C], the label of each logit (the label vocabulary).

        Returns:
            A dict of named tensors, each with the batch as its first dimension.
        """
        raise NotImplementedError

    # Evaluation -----------------------------------------------------------

    @property
    def main_metric(self) -> str:
        """The dev metric used for early stopping and the best checkpoint."""
        raise NotImplementedError

    def evaluate(self, sentences: Sequence[Sentence], predictions: Sequence[np.ndarray],
                 oov: Sequence[np.ndarray]) -> dict[str, float]:
        """Scores predictions (one id array per sentence) against the gold labels.

        Args:
            sentences: the gold sentences.
            predictions: predicted label ids per sentence.
            oov: per sentence, True for tokens outside the word vocabulary.
        """
        raise NotImplementedError
