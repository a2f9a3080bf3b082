"""Checking a whole config: the base schema, the task types' and the model's plug-ins.

:func:`validate` is where a user's config becomes a resolved, locked one. The
base keys are :func:`tfmtl.config.base_config`'s; each task entry's keys are
its type's (``default_config()``), and the model's plug-ins (LSTM
implementations, sharing schemes) check the values that name them. The
training plug-ins (samplers, weightings, callbacks) are checked by
:func:`tfmtl.training.validate`, which calls this first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections

from tfmtl.config import (
    ConfigError,
    base_config,
    check_unknown_name,
    choice,
    decoder_config,
    embedding_config,
    encoder_config,
    merge,
    positive,
    resolve_path,
    update,
)
from tfmtl.data.featurizer import FIELDS
from tfmtl.layers.lstm import LSTMS
from tfmtl.models.multitask_model import RESERVED_OUTPUTS
from tfmtl.models.sharing import SHARING
from tfmtl.tasks import TASKS

ConfigDict = ml_collections.ConfigDict
#: ``config.training`` sections whose keys belong to training plug-ins (weightings, callbacks,
#: samplers).
TRAINING_PLUGIN_SECTIONS = ("weighting", "callbacks", "sampler")


def task_config(task_type: str, **values: Any) -> ConfigDict:
    """Returns a task entry: the type's defaults updated with `values`.

    Nested sections are given as dicts, e.g.
    ``task_config("tagging", layer=1, data=dict(format="conll", column="1"))``.
    """
    try:
        task_cls = TASKS.get(task_type)
    except KeyError as e:
        raise ConfigError("type", e.args[0]) from None
    config = task_cls.default_config()
    config.type = task_type
    update(config, values, "task")
    return config


def validate(config: ConfigDict | Mapping, *, check_files: bool = True) -> ConfigDict:
    """Checks `config` against the schema and returns a resolved, locked copy.

    Relative data paths are resolved against ``data_dir`` and made absolute.

    Args:
        config: the user's config, as built by a config file and overrides.
        check_files: also check that every named data file exists.

    Raises:
        ConfigError: naming the first offending key.
    """
    resolved = merge(base_config(), config, "config")
    model = config["model"] if "model" in config else {}
    for section, schema in (("embeddings", embedding_config), ("encoders", encoder_config),
                            ("decoders", decoder_config)):
        entries = model[section] if section in model else resolved.model[section]
        resolved.model[section] = _named_entries(entries, f"config.model.{section}",
                                                 lambda _, schema=schema: schema())
    resolved.model.schemes = _scheme_sections(model["schemes"] if "schemes" in model else {},
                                              resolved.model)
    training = config["training"] if "training" in config else {}
    for section in (*TRAINING_PLUGIN_SECTIONS, "baselines", "loss_baselines"):
        # Checked, and completed with the plug-ins' defaults, by tfmtl.training.validate
        # (as are the task baselines of Δm and of select "loss").
        if section in training:
            value = training[section]
            value = value.to_dict() if isinstance(value, ConfigDict) else dict(value)
            resolved.training[section] = ConfigDict(value)
    tasks = config["tasks"] if "tasks" in config else {}
    if not tasks:
        raise ConfigError("config.tasks", "no tasks: add at least one with task_config(...)")
    resolved.tasks = _named_entries(tasks, "config.tasks", _task_schema)
    _check_model(resolved, check_files=check_files)
    for name, entry in resolved.tasks.items():
        TASKS.get(entry.type).resolve_config(
            entry, f"config.tasks.{name}", resolved, check_files=check_files
        )
        _check_input_fields(name, entry)
    _check_every_module_is_read(resolved)
    _check_reference_task(resolved)
    resolved.lock()
    return resolved


def _task_schema(entry: Mapping) -> ConfigDict:
    task_type = entry["type"] if "type" in entry else None
    if task_type is None:
        raise ConfigError("type", "missing; known types: " + ", ".join(TASKS.names()))
    if task_type not in TASKS:
        raise ConfigError("type", f"unknown task type {task_type!r}; known: "
                          f"{', '.join(TASKS.names())}")
    schema = TASKS.get(task_type).default_config()
    schema.type = task_type
    return schema


def _named_entries(entries: Mapping, key: str, schema_of) -> ConfigDict:
    """Merges each user-named entry of a section onto the schema `schema_of(entry)` gives."""
    resolved = ConfigDict()
    for name in entries.keys():
        sub = f"{key}.{name}"
        entry = entries[name]
        if not isinstance(entry, ConfigDict | Mapping):
            raise ConfigError(sub, f"expected a section, got {entry!r}")
        try:
            schema = schema_of(entry)
        except ConfigError as e:
            raise ConfigError(f"{sub}.{e.key}", str(e)[len(e.key) + 2:]) from None
        resolved[name] = merge(schema, entry, sub)
    return resolved


def _scheme_sections(sections: Mapping, model: ConfigDict) -> ConfigDict:
    """``config.model.schemes``: each scheme an encoder uses, its keys merged onto the
    scheme's defaults; a section for a scheme no encoder uses is an error."""
    check_unknown_name(SHARING, model.sharing, "config.model.sharing")
    used = set()
    for name, encoder in model.encoders.items():
        if encoder.sharing:
            check_unknown_name(SHARING, encoder.sharing, f"config.model.encoders.{name}.sharing")
        used.add(encoder.sharing or model.sharing)
    resolved = ConfigDict()
    for name in sections.keys():
        key = f"config.model.schemes.{name}"
        check_unknown_name(SHARING, name, key)
        if name not in used:
            raise ConfigError(key, f"set, but no encoder uses sharing scheme {name!r} (they use "
                              f"{', '.join(sorted(used))}): set config.model.sharing or an "
                              "encoder's sharing")
    for name in sorted(used):
        user = sections[name] if name in sections else {}
        resolved[name] = merge(SHARING.get(name).default_config(), user,
                               f"config.model.schemes.{name}")
    return resolved


def _fraction(value: float, key: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ConfigError(key, f"must be in [0, 1), got {value!r}")


def _check_model(c: ConfigDict, *, check_files: bool) -> None:
    positive(c.data.max_length, "config.data.max_length", allow_zero=True)
    m = c.model
    if not m.embeddings:
        raise ConfigError("config.model.embeddings", "no language: add one with "
                          "embedding_config()")
    for language, e in m.embeddings.items():
        key = f"config.model.embeddings.{language}"
        for name in ("min_count", "max_chars", "word_dim"):
            positive(e[name], f"{key}.{name}")
        positive(e.max_vocab, f"{key}.max_vocab", allow_zero=True)
        _fraction(e.word_dropout, f"{key}.word_dropout")
        _fraction(e.dropout, f"{key}.dropout")
        choice(e.char.type, ("cnn", "bilstm", "none"), f"{key}.char.type")
        for name in ("dim", "units", "width"):
            positive(e.char[name], f"{key}.char.{name}")
        choice(e.missing, ("normal", "zeros"), f"{key}.missing")
        e.vectors = resolve_path(c, e.vectors)
        if check_files and e.vectors and not os.path.isfile(e.vectors):
            raise ConfigError(f"{key}.vectors", f"no such file: {e.vectors}")
    if not m.encoders:
        raise ConfigError("config.model.encoders", "no encoder: add one with encoder_config()")
    for name, options in m.schemes.items():
        SHARING.get(name).check_config(options, f"config.model.schemes.{name}", c)
    for name, e in m.encoders.items():
        key = f"config.model.encoders.{name}"
        _known(e.language, m.embeddings, f"{key}.language", "language")
        positive(e.layers, f"{key}.layers")
        positive(e.units, f"{key}.units")
        _fraction(e.dropout, f"{key}.dropout")
        check_unknown_name(LSTMS, e.lstm, f"{key}.lstm")
    languages = sorted({e.language for e in m.encoders.values()})
    if len(languages) > 1:
        raise ConfigError(
            f"config.model.encoders.{next(iter(m.encoders))}.language",
            f"the encoders read {', '.join(languages)}: today every encoder reads the one "
            "language of the tasks' `words` field (fields in other languages come with the "
            "sequence-to-sequence task types)",
        )
    for name, d in m.decoders.items():
        key = f"config.model.decoders.{name}"
        _known(d.language, m.embeddings, f"{key}.language", "language")
        _known(d.encoder, m.encoders, f"{key}.encoder", "encoder")
        positive(d.layers, f"{key}.layers")
        positive(d.units, f"{key}.units")
        _fraction(d.dropout, f"{key}.dropout")
        check_unknown_name(LSTMS, d.lstm, f"{key}.lstm")
        choice(d.attention, ("none", "dot", "general"), f"{key}.attention")
    for task in c.tasks:
        if task in RESERVED_OUTPUTS:
            raise ConfigError(f"config.tasks.{task}", f"{task!r} is a reserved name (the "
                              "model's outputs use it); rename the task")


def _check_every_module_is_read(c: ConfigDict) -> None:
    """Every encoder and decoder is read by a task, and every language by an encoder or a
    decoder (after the tasks' own checks, so a task naming an unknown encoder is reported
    as that)."""
    m = c.model
    for kind, modules, later in (("encoder", m.encoders, ""), ("decoder", m.decoders, (
            "; no task type reads a decoder yet: they come with the sequence-to-sequence "
            "types"))):
        for name in modules:
            if not any(entry.get(kind) == name for entry in c.tasks.values()):
                raise ConfigError(f"config.model.{kind}s.{name}",
                                  f"no task reads {kind} {name!r} (a task names it with its "
                                  f"`{kind}` key{later}): remove it or point a task at it")
    read = {e.language for e in m.encoders.values()} | {d.language for d in m.decoders.values()}
    for language in m.embeddings:
        if language not in read:
            raise ConfigError(f"config.model.embeddings.{language}",
                              f"no encoder or decoder reads language {language!r} (they name "
                              "it with their `language` key): remove it")


def _check_input_fields(name: str, entry: ConfigDict) -> None:
    """Every field the task type declares it reads is one the model's inputs provide."""
    missing = [field for field in TASKS.get(entry.type).input_fields if field not in FIELDS]
    if missing:
        raise ConfigError(
            f"config.tasks.{name}.type",
            f"task type {entry.type!r} reads the field(s) {', '.join(map(repr, missing))}, "
            f"which no input of the model provides (fields: {', '.join(FIELDS)})",
        )


def _known(name: str, section: Mapping, key: str, kind: str) -> None:
    if name not in section:
        raise ConfigError(key, f"unknown {kind} {name!r}; known: {', '.join(section) or 'none'}")


def _check_reference_task(c: ConfigDict) -> None:
    if not c.training.reference_task and len(c.tasks) > 1:
        raise ConfigError(
            "config.training.reference_task",
            f"name the main task: one of {', '.join(c.tasks)}",
        )
    if c.training.reference_task and c.training.reference_task not in c.tasks:
        raise ConfigError(
            "config.training.reference_task",
            f"{c.training.reference_task!r} is not a task; tasks: {', '.join(c.tasks)}",
        )


def from_json(text: str, *, source: str = "<json>", check_files: bool = False) -> ConfigDict:
    """Rebuilds and validates a config written by :func:`tfmtl.config.to_json`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(source, f"not valid JSON: {e}") from None
    return validate(ConfigDict(data), check_files=check_files)
