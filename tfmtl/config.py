"""The configuration schema of a tfmtl run and its validation.

A run is described by one ``ml_collections.ConfigDict``. Config files in
``configs/`` start from :func:`base_config` and add tasks made with
:func:`task_config`, so every key has a default and can be overridden from the
command line (``--config.training.steps=2000``). :func:`validate` checks a
config against the schema: an unknown key, a value of the wrong type, a task
naming a missing file or a layer the encoder does not have is a
:class:`ConfigError` that names the key (``config.tasks.pos.layer``).

Task types own the schema of their entries under ``config.tasks``: each
registered type's ``default_config()`` gives its keys and defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections

ConfigDict = ml_collections.ConfigDict

# Sections whose entries are user-named (task names) rather than schema keys.
_USER_NAMED = ("tasks",)


class ConfigError(ValueError):
    """A config value is invalid; the message starts with the dotted key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


def base_config() -> ConfigDict:
    """Returns the defaults of every key except the tasks."""
    c = ConfigDict()
    c.seed = 0  # Seeds weights, dropout, shuffling and the task sampler.
    c.data_dir = ""  # Folder that relative task data paths are resolved against ("" = the cwd).

    c.data = ConfigDict()
    c.data.lowercase = False  # Lowercase words for the word vocabulary (characters keep case).
    c.data.min_count = 1  # Words seen fewer times in training map to the OOV id.
    c.data.max_vocab = 0  # Largest word vocabulary, most frequent first (0 = no limit).
    c.data.max_chars = 20  # Characters kept per word for character features.
    c.data.max_length = 0  # Training sentences longer than this are dropped (0 = keep all).

    c.model = ConfigDict()
    c.model.word_dim = 64  # Word embedding size.
    c.model.word_dropout = 0.0  # Probability of replacing a training word by the OOV id.
    c.model.embedding_dropout = 0.2  # Dropout on the concatenated word and character features.
    c.model.char = ConfigDict()
    c.model.char.type = "cnn"  # Character features: "cnn", "bilstm" (Plank et al. 2016) or "none".
    c.model.char.dim = 32  # Character embedding size.
    c.model.char.units = 64  # CNN filters, or BiLSTM units per direction.
    c.model.char.width = 3  # CNN kernel width.
    c.model.encoder = ConfigDict()
    c.model.encoder.layers = 2  # Number of shared (Bi)LSTM layers.
    c.model.encoder.units = 128  # LSTM units per direction.
    c.model.encoder.bidirectional = True  # BiLSTM layers (False: left-to-right LSTMs).
    c.model.encoder.dropout = 0.3  # Dropout on each encoder layer's output.
    c.model.encoder.lstm = "keras"  # LSTM implementation: "keras" or "fused" (native op).
    c.model.sharing = "hard"  # Parameter sharing scheme (tfmtl/models/sharing/).

    c.training = ConfigDict()
    c.training.steps = 5000  # Training steps (one batch of one task, or of a joint group).
    c.training.batch_size = 32  # Sentences per step, over all replicas.
    c.training.eval_batch_size = 128  # Sentences per evaluation batch.
    c.training.buckets = 8  # Length buckets for batching training sentences (0 = none).
    # Train tasks that read the same training sentences (e.g. POS and chunking of one CoNLL
    # file) jointly: one batch updates all their heads. Otherwise each step trains one task.
    c.training.joint = False
    c.training.sampler = ConfigDict()
    # Task sampler: "ratio" (Luong et al.), "proportional", "temperature" or "uniform".
    c.training.sampler.type = "ratio"
    c.training.sampler.temperature = 2.0  # For "temperature": p_i ~ min(n_i, cap) ** (1 / T).
    c.training.sampler.cap = 0  # For "temperature" and "proportional": cap on n_i (0 = none).
    # Task for early stopping and the best checkpoint, and the anchor of mixing ratios; may be
    # "" only when there is a single task. (Config sections list keys sorted, not as written.)
    c.training.reference_task = ""
    c.training.optimizer = ConfigDict()
    c.training.optimizer.type = "adam"  # "adam" or "sgd".
    c.training.optimizer.learning_rate = 1e-3  # Peak learning rate.
    c.training.optimizer.momentum = 0.0  # SGD momentum.
    c.training.optimizer.schedule = "constant"  # "constant", "exponential", "cosine" or "linear".
    c.training.optimizer.decay_rate = 0.5  # For "exponential": factor per decay_steps.
    c.training.optimizer.decay_steps = 1000  # For "exponential": steps per decay_rate.
    c.training.optimizer.warmup_steps = 0  # Linear warm-up steps before the schedule.
    c.training.optimizer.clip_norm = 5.0  # Global gradient norm clipping (0 = none).
    c.training.eval_every = 500  # Evaluate on the dev sets every this many steps.
    c.training.patience = 0  # Stop after this many evals without dev gain (0 = never).
    c.training.checkpoint_every = 500  # Save a resumable checkpoint every this many steps.
    c.training.keep_checkpoints = 2  # Resumable checkpoints kept.
    c.training.log_every = 100  # Print progress every this many steps.

    c.distribute = ConfigDict()
    c.distribute.strategy = "default"  # "default", "mirrored" or "multi_worker".
    c.distribute.cpu_devices = 0  # Split the CPU into this many logical devices (0 = no split).

    c.tasks = ConfigDict()  # Task name -> task_config(...).
    return c


def task_config(task_type: str, **values: Any) -> ConfigDict:
    """Returns a task entry: the type's defaults updated with `values`.

    Nested sections are given as dicts, e.g.
    ``task_config("tagging", layer=1, data=dict(format="conll", column="1"))``.
    """
    from tfmtl.tasks import TASKS  # The task types own their schema.

    try:
        task_cls = TASKS.get(task_type)
    except KeyError as e:
        raise ConfigError("type", e.args[0]) from None
    config = task_cls.default_config()
    config.type = task_type
    _update(config, values, "task")
    return config


def _update(target: ConfigDict, values: Mapping[str, Any], key: str) -> None:
    for name, value in values.items():
        sub = f"{key}.{name}"
        if name not in target:
            raise ConfigError(sub, f"unknown key; known keys: {', '.join(sorted(target))}")
        if isinstance(target[name], ConfigDict):
            if not isinstance(value, Mapping | ConfigDict):
                raise ConfigError(sub, f"expected a section, got {value!r}")
            _update(target[name], value, sub)
        else:
            target[name] = _check_type(target[name], value, sub)


def _check_type(default: Any, value: Any, key: str) -> Any:
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    raise ConfigError(
        key, f"expected {expected.__name__}, got {type(value).__name__} {value!r}"
    )


def _merge(schema: ConfigDict, user: ConfigDict | Mapping, key: str) -> ConfigDict:
    """Copies `user` onto a copy of `schema`, rejecting unknown keys and wrong types."""
    resolved = ConfigDict(schema.to_dict())
    for name in user.keys():
        sub = f"{key}.{name}"
        value = user[name]
        if name not in schema:
            raise ConfigError(sub, f"unknown key; known keys: {', '.join(sorted(schema))}")
        if name in _USER_NAMED and key == "config":
            continue
        if isinstance(schema[name], ConfigDict):
            if not isinstance(value, ConfigDict | Mapping):
                raise ConfigError(sub, f"expected a section, got {value!r}")
            resolved[name] = _merge(schema[name], value, sub)
        else:
            resolved[name] = _check_type(schema[name], value, sub)
    return resolved


def validate(config: ConfigDict | Mapping, *, check_files: bool = True) -> ConfigDict:
    """Checks `config` against the schema and returns a resolved, locked copy.

    Relative data paths are resolved against ``data_dir`` and made absolute.

    Args:
        config: the user's config, as built by a config file and overrides.
        check_files: also check that every named data file exists.

    Raises:
        ConfigError: naming the first offending key.
    """
    from tfmtl.tasks import TASKS

    resolved = _merge(base_config(), config, "config")
    tasks = config["tasks"] if "tasks" in config else {}
    if not tasks:
        raise ConfigError("config.tasks", "no tasks: add at least one with task_config(...)")
    resolved_tasks = ConfigDict()
    for name in tasks.keys():
        key = f"config.tasks.{name}"
        entry = tasks[name]
        if not isinstance(entry, ConfigDict | Mapping):
            raise ConfigError(key, f"expected a task section, got {entry!r}")
        if "type" not in entry:
            raise ConfigError(f"{key}.type", "missing; known types: " + ", ".join(TASKS.names()))
        task_type = entry["type"]
        if task_type not in TASKS:
            raise ConfigError(
                f"{key}.type", f"unknown task type {task_type!r}; known: {', '.join(TASKS.names())}"
            )
        task_cls = TASKS.get(task_type)
        schema = task_cls.default_config()
        schema.type = task_type
        resolved_tasks[name] = _merge(schema, entry, key)
    resolved.tasks = resolved_tasks
    _check_values(resolved)
    for name, entry in resolved.tasks.items():
        TASKS.get(entry.type).resolve_config(
            entry, f"config.tasks.{name}", resolved, check_files=check_files
        )
    resolved.lock()
    return resolved


def _choice(value: str, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise ConfigError(key, f"{value!r} is not one of {', '.join(choices)}")


def _positive(value: float, key: str, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(key, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def _check_values(c: ConfigDict) -> None:
    from tfmtl.models.lstm import LSTMS
    from tfmtl.models.sharing import SHARING
    from tfmtl.training.samplers import SAMPLERS

    for key in ("min_count", "max_chars"):
        _positive(c.data[key], f"config.data.{key}")
    for key in ("max_vocab", "max_length"):
        _positive(c.data[key], f"config.data.{key}", allow_zero=True)
    m = c.model
    _positive(m.word_dim, "config.model.word_dim")
    for key in ("word_dropout", "embedding_dropout"):
        if not 0.0 <= m[key] < 1.0:
            raise ConfigError(f"config.model.{key}", f"must be in [0, 1), got {m[key]!r}")
    _choice(m.char.type, ("cnn", "bilstm", "none"), "config.model.char.type")
    for key in ("dim", "units", "width"):
        _positive(m.char[key], f"config.model.char.{key}")
    _positive(m.encoder.layers, "config.model.encoder.layers")
    _positive(m.encoder.units, "config.model.encoder.units")
    if not 0.0 <= m.encoder.dropout < 1.0:
        raise ConfigError("config.model.encoder.dropout",
                          f"must be in [0, 1), got {m.encoder.dropout!r}")
    if m.encoder.lstm not in LSTMS:
        raise ConfigError(
            "config.model.encoder.lstm",
            f"unknown LSTM implementation {m.encoder.lstm!r}; known: {', '.join(LSTMS.names())}",
        )
    if m.sharing not in SHARING:
        raise ConfigError(
            "config.model.sharing",
            f"unknown sharing scheme {m.sharing!r}; known: {', '.join(SHARING.names())}",
        )
    t = c.training
    for key in ("steps", "batch_size", "eval_batch_size", "eval_every", "checkpoint_every",
                "keep_checkpoints", "log_every"):
        _positive(t[key], f"config.training.{key}")
    _positive(t.buckets, "config.training.buckets", allow_zero=True)
    _positive(t.patience, "config.training.patience", allow_zero=True)
    if t.sampler.type not in SAMPLERS:
        raise ConfigError(
            "config.training.sampler.type",
            f"unknown sampler {t.sampler.type!r}; known: {', '.join(SAMPLERS.names())}",
        )
    _positive(t.sampler.temperature, "config.training.sampler.temperature")
    _positive(t.sampler.cap, "config.training.sampler.cap", allow_zero=True)
    if not t.reference_task and len(c.tasks) > 1:
        raise ConfigError(
            "config.training.reference_task",
            f"name the main task: one of {', '.join(c.tasks)}",
        )
    if t.reference_task and t.reference_task not in c.tasks:
        raise ConfigError(
            "config.training.reference_task",
            f"{t.reference_task!r} is not a task; tasks: {', '.join(c.tasks)}",
        )
    o = t.optimizer
    _choice(o.type, ("adam", "sgd"), "config.training.optimizer.type")
    _choice(o.schedule, ("constant", "exponential", "cosine", "linear"),
            "config.training.optimizer.schedule")
    _positive(o.learning_rate, "config.training.optimizer.learning_rate")
    _positive(o.decay_rate, "config.training.optimizer.decay_rate")
    _positive(o.decay_steps, "config.training.optimizer.decay_steps")
    for key in ("momentum", "warmup_steps", "clip_norm"):
        _positive(o[key], f"config.training.optimizer.{key}", allow_zero=True)
    _choice(c.distribute.strategy, ("default", "mirrored", "multi_worker"),
            "config.distribute.strategy")
    _positive(c.distribute.cpu_devices, "config.distribute.cpu_devices", allow_zero=True)


def resolve_path(config: ConfigDict, path: str) -> str:
    """Resolves a data path against ``config.data_dir``; "" stays ""."""
    if not path:
        return ""
    path = os.path.expanduser(path)
    if not os.path.isabs(path) and config.data_dir:
        path = os.path.join(os.path.expanduser(config.data_dir), path)
    return os.path.abspath(path)


def reference_task(config: ConfigDict) -> str:
    """The task that drives early stopping and anchors mixing ratios."""
    return config.training.reference_task or next(iter(config.tasks.keys()))


def to_json(config: ConfigDict) -> str:
    return json.dumps(config.to_dict(), indent=2, sort_keys=False) + "\n"


def from_json(text: str, *, source: str = "<json>", check_files: bool = False) -> ConfigDict:
    """Rebuilds and validates a config written by :func:`to_json`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(source, f"not valid JSON: {e}") from None
    return validate(ConfigDict(data), check_files=check_files)
