"""Exporting a trained workdir as a versioned SavedModel for TensorFlow Serving."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Sequence

from tfmtl.export.models_config import MODELS_CONFIG, read_models_config, update_models_config
from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops
from tfmtl.export.tokenizers import (
    CORE_OPS,
    TOKENIZER_OPS,
    TOKENIZERS,
    default_tokenizer,
    make_tokenizer,
)
from tfmtl.files import fsync_directory

METADATA_FILE = "tfmtl_export.json"
# The LSTM implementation (tfmtl.layers.lstm) exports are built with.
EXPORT_LSTM = "export"
# Sentences are cut to this many tokens when the config sets no data.max_length.
DEFAULT_MAX_LENGTH = 512
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TEMPORARY_PREFIX = ".tmp-export-"


class ExportError(ValueError):
    """An export cannot be written as asked; the message names the input at fault."""


@dataclasses.dataclass
class ExportResult:
    """What :func:`export_saved_model` wrote.

    Attributes:
        path: the version folder, ``<export_base>/<name>/<version>``.
        name: the model name.
        version: the version number.
        models_config: the TF Serving model config file.
        signatures: per signature, its inputs and outputs (dtype, shape, doc).
        tokenizer: the in-graph tokenizer's name.
        max_length: most tokens read per sentence (0: no limit).
        tasks: the exported tasks.
    """

    path: str
    name: str
    version: int
    models_config: str
    signatures: dict[str, dict]
    tokenizer: str
    max_length: int
    tasks: tuple[str, ...]

    def serve_command(self) -> str:
        """The TF Serving command line that serves every model of ``models.config``."""
        return shlex.join([
            "tensorflow_model_server", "--port=8500", "--rest_api_port=8501",
            f"--model_config_file={self.models_config}",
        ])

    def docker_command(self) -> str:
        """The same with the ``tensorflow/serving`` image (the base folder mounted as is)."""
        base = os.path.dirname(self.models_config)
        return shlex.join([
            "docker", "run", "--rm", "-p", "8500:8500", "-p", "8501:8501",
            "-v", f"{base}:{base}", "tensorflow/serving",
            f"--model_config_file={self.models_config}",
        ])


def existing_versions(model_dir: str) -> list[int]:
    """The numbered version folders of a model folder, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir)
                  if n.isdigit() and os.path.isdir(os.path.join(model_dir, n)))


def _select_tasks(experiment, tasks: Sequence[str] | None) -> list:
    if not tasks:
        selected = [task for task in experiment.tasks if task.exported]
        if not selected:
            raise ExportError("config.tasks: no task is exported by default (auxiliary "
                              "tasks are not): set tasks.<name>.export = \"yes\" or name "
                              "the tasks to export with --tasks")
        return selected
    known = [task.name for task in experiment.tasks]
    selected = []
    for name in tasks:
        if name not in experiment.task_by_name:
            raise ExportError(f"--tasks: unknown task {name!r}; the model has {', '.join(known)}")
        if not experiment.task_by_name[name].serving_schema:
            raise ExportError(f"--tasks: task {name!r} ({experiment.config.tasks[name].type}, "
                              "an auxiliary objective) serves nothing and cannot be exported")
        if name not in selected:
            selected.append(name)
    return [task for task in experiment.tasks if task.name in selected]


def load_stock_model(workdir: str, checkpoint: str = "best", experiment=None):
    """Restores a workdir's experiment and weights into a model built of stock ops.

    The model is built with the ``"export"`` LSTM implementation
    (:class:`tfmtl.layers.lstm.export_lstm.ExportLSTM`: TensorFlow's fused
    ``BlockLSTMV2`` kernel at inference) whatever implementation trained it;
    every implementation keeps the Keras weights, so the checkpoint loads as it
    is; and in float32, whatever ``training.mixed_precision`` trained it (a
    mixed-precision model keeps float32 variables). Its bidirectional layers are the
    implementation's
    (:class:`~tfmtl.layers.lstm.export_lstm.ExportBidirectional`: both
    directions side by side), and once the weights are loaded every export LSTM
    copies its kernels into ``BlockLSTMV2``'s layout
    (:func:`~tfmtl.layers.lstm.export_lstm.freeze_block_kernels`), which its
    inference then reads: the model is for inference only. Called with
    ``training=False``, where gradient reversal is the identity, the graph holds
    stock TensorFlow ops only.

    Args:
        workdir: a folder written by ``tfmtl-train``.
        checkpoint: ``"best"`` or ``"latest"``.
        experiment: the workdir's experiment, when already restored.

    Returns:
        (experiment, MultiTaskModel, checkpoint path).
    """
    from tfmtl.experiment import Experiment, restore_model
    from tfmtl.layers.lstm.export_lstm import freeze_block_kernels

    if experiment is None:
        experiment = Experiment.restore(workdir)
    config = experiment.config.copy_and_resolve_references()
    for stack in (*config.model.encoders.values(), *config.model.decoders.values()):
        stack.lstm = EXPORT_LSTM
    # Served in float32 whatever the training's policy: the variables are float32 either way.
    config.training.mixed_precision = "float32"
    experiment = Experiment(config, experiment.tasks, experiment.featurizer)
    model = experiment.build_model(restoring=True)
    path = restore_model(workdir, model.model, checkpoint)
    freeze_block_kernels(model.model)
    return experiment, model, path


def _write_vocabularies(experiment, tasks, directory: str) -> tuple[str, str | None, dict]:
    """Saves the vocabularies under the names the SavedModel's assets will have."""
    featurizer = experiment.featurizer
    words = os.path.join(directory, "words.txt")
    featurizer.words.save(words)
    chars = None
    if featurizer.chars is not None:
        chars = os.path.join(directory, "chars.txt")
        featurizer.chars.save(chars)
    labels = {}
    for task in tasks:
        labels[task.name] = os.path.join(directory, f"labels.{task.name}.txt")
        task.labels.save(labels[task.name])
    return words, chars, labels


def build_serving_model(workdir: str, *, tasks: Sequence[str] | None = None,
                        tokenizer: str | None = None, tokenizer_ops: str = CORE_OPS,
                        checkpoint: str = "best", max_length: int | None = None,
                        assets_dir: str):
    """Builds the :class:`ServingModel` of a workdir, its vocabularies written to `assets_dir`.

    Args:
        workdir: a folder written by ``tfmtl-train``.
        tasks: tasks to export (default: every task whose ``export`` is "yes", or "auto"
            for a main task type; auxiliary ones are not); the others' heads stay out of
            the graph.
        tokenizer: ``"whitespace"`` or ``"treebank"``; None picks by the tasks' data format.
        tokenizer_ops: ``"core"`` (core TensorFlow ops only) or ``"tensorflow_text"``
            (``tensorflow_text.regex_split``); both split alike.
        checkpoint: ``"best"`` or ``"latest"``.
        max_length: most tokens read per sentence; None: the config's ``data.max_length``,
            or :data:`DEFAULT_MAX_LENGTH` when that is 0; 0: no limit.
        assets_dir: an existing folder for the vocabulary files.

    Returns:
        (ServingModel, metadata dict).
    """
    import keras

    from tfmtl.data.featurizer import TokenEncoder
    from tfmtl.experiment import Experiment
    from tfmtl.experiment.experiment import language_config
    from tfmtl.export.serving_model import ServingModel
    from tfmtl.layers.lstm.export_lstm import unfrozen_lstms

    if tokenizer is not None and tokenizer not in TOKENIZERS:
        raise ExportError(f"--tokenizer: unknown tokenizer {tokenizer!r}; known: "
                          f"{', '.join(TOKENIZERS)}")
    if tokenizer_ops not in TOKENIZER_OPS:
        raise ExportError(f"--tokenizer_ops: unknown {tokenizer_ops!r}; known: "
                          f"{', '.join(TOKENIZER_OPS)}")
    if max_length is not None and max_length < 0:
        raise ExportError(f"--max_length: must be >= 0, got {max_length}")
    if checkpoint not in ("best", "latest"):
        raise ExportError(f"--checkpoint: must be 'best' or 'latest', got {checkpoint!r}")
    experiment = Experiment.restore(workdir)
    selected = _select_tasks(experiment, tasks)
    experiment, multitask, checkpoint_path = load_stock_model(workdir, checkpoint, experiment)
    config = experiment.config
    language = language_config(config)
    if max_length is None:
        max_length = config.data.max_length or DEFAULT_MAX_LENGTH
    formats = [task.config.data.format for task in selected]
    name = tokenizer or default_tokenizer(formats)
    spec = make_tokenizer(name, experiment.featurizer.words.items,
                          lowercase=language.lowercase)

    names = [task.name for task in selected]
    task_models = {n: multitask.task_models[n] for n in names}
    pruned = keras.Model(multitask.model.input, {n: task_models[n].output for n in names},
                         name="serving")
    unfrozen = unfrozen_lstms(pruned)
    if unfrozen:  # The graph would concatenate their kernels on every call.
        raise RuntimeError(f"{workdir}: the export LSTMs {', '.join(unfrozen)} hold no current "
                           "copy of their kernels (freeze_block_kernels after loading weights)")
    words, chars, label_files = _write_vocabularies(experiment, selected, assets_dir)
    metadata = {
        "format_version": 1,
        "tasks": {
            task.name: {"type": task.config.type, "data_format": task.config.data.format,
                        "labels": len(task.labels), "labels_file": os.path.basename(
                            label_files[task.name])}
            for task in selected
        },
        "tokenizer": {**spec.to_json(), "ops": tokenizer_ops},
        "max_length": max_length,
        "lowercase": language.lowercase,
        "max_chars": language.max_chars,
        "source": {"workdir": os.path.abspath(workdir), "checkpoint": checkpoint_path},
    }
    metadata_file = os.path.join(assets_dir, METADATA_FILE)
    featurizer = TokenEncoder.from_files(words, chars, lowercase=language.lowercase,
                                         max_chars=language.max_chars)
    model = ServingModel(pruned, task_models, selected, featurizer, label_files, spec,
                         max_length, metadata_file, tokenizer_ops=tokenizer_ops)
    try:
        metadata["signatures"] = model.describe()
    except ValueError as e:
        raise ExportError(str(e)) from None
    with open(metadata_file, "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    return model, metadata


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ExportError(f"--name: {name!r} is not a model name (letters, digits, '_', '.', "
                          "'-'; starting with a letter or digit)")


def export_saved_model(workdir: str, export_base: str, name: str, *,
                       version: int | None = None, tasks: Sequence[str] | None = None,
                       tokenizer: str | None = None, tokenizer_ops: str = CORE_OPS,
                       checkpoint: str = "best", max_length: int | None = None) -> ExportResult:
    """Exports a trained workdir as ``<export_base>/<name>/<version>/``, atomically.

    The SavedModel is written into a hidden temporary folder beside the
    versions and renamed into place once complete, so TF Serving (which only
    loads numbered folders) never sees half a version; an export that fails
    or is interrupted removes its folder (a killed one leaves a hidden
    ``.tmp-export-*`` folder, which servers ignore and which may be deleted).
    ``<export_base>/models.config`` then lists the model. The graph is checked
    to hold no custom op.

    Args:
        workdir: a folder written by ``tfmtl-train``.
        export_base: the folder of exported models.
        name: the model name (clients ask for it).
        version: the version number; None takes the next free one.
        tasks: tasks to export (default: all).
        tokenizer: in-graph tokenizer (see :mod:`tfmtl.export.tokenizers`); None picks by
            the tasks' data formats.
        tokenizer_ops: see :func:`build_serving_model`.
        checkpoint: ``"best"`` or ``"latest"``.
        max_length: see :func:`build_serving_model`.

    Returns:
        What was written.

    Raises:
        ExportError: an invalid argument, an existing version, or a custom op in the graph.
        FileNotFoundError: `workdir` is not a trained workdir.
    """
    _check_name(name)
    if version is not None and version < 1:
        raise ExportError(f"--version: must be a positive integer, got {version}")
    model_dir = os.path.join(os.path.abspath(export_base), name)
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ExportError(f"--name: {model_dir} exists and is not a folder")
    config_path = os.path.join(os.path.abspath(export_base), MODELS_CONFIG)
    try:
        read_models_config(config_path)  # Refuse before exporting, not after.
    except ValueError as e:
        raise ExportError(str(e)) from None
    if version is not None and os.path.exists(os.path.join(model_dir, str(version))):
        raise ExportError(f"--version: {os.path.join(model_dir, str(version))} already exists; "
                          "versions are never overwritten (omit --version for the next one)")
    import tensorflow as tf

    os.makedirs(model_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=_TEMPORARY_PREFIX, dir=model_dir)
    try:
        assets = os.path.join(staging, "vocabularies")
        os.makedirs(assets)
        model, metadata = build_serving_model(
            workdir, tasks=tasks, tokenizer=tokenizer, tokenizer_ops=tokenizer_ops,
            checkpoint=checkpoint,
            max_length=max_length, assets_dir=assets,
        )
        saved = os.path.join(staging, "saved_model")
        tf.saved_model.save(model, saved, signatures=model.signatures())
        found = custom_ops(saved_model_ops(saved))
        if found:
            raise ExportError(f"{workdir}: the exported graph holds custom ops "
                              f"{', '.join(sorted(found))}, which TF Serving cannot load")
        version = _move_into_place(saved, model_dir, version)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    path = os.path.join(model_dir, str(version))
    update_models_config(config_path, name, model_dir)
    return ExportResult(
        path=path, name=name, version=version, models_config=config_path,
        signatures=metadata["signatures"], tokenizer=metadata["tokenizer"]["name"],
        max_length=metadata["max_length"], tasks=tuple(metadata["tasks"]),
    )


def _move_into_place(saved: str, model_dir: str, version: int | None) -> int:
    """Renames the finished SavedModel to its version folder; returns the version."""
    for root, _, files in os.walk(saved):
        for file in files:
            with open(os.path.join(root, file), "rb") as f:
                os.fsync(f.fileno())
    explicit = version is not None
    while True:
        if not explicit:
            version = (existing_versions(model_dir) or [0])[-1] + 1
        target = os.path.join(model_dir, str(version))
        try:
            # rename() fails on an existing non-empty folder: a concurrent export that took
            # the same number first keeps it.
            if os.path.exists(target):
                raise FileExistsError(errno.EEXIST, "exists", target)
            os.rename(saved, target)
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or explicit:
                raise ExportError(f"cannot move the export to {target}: {e}") from None
            continue
        fsync_directory(model_dir)
        return version
