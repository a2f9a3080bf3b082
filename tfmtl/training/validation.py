"""Checking a config for training: the experiment's checks plus the training plug-ins'."""

from __future__ import annotations

import ast
import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import ml_collections

from tfmtl.config import (
    PLUGIN_SECTIONS,
    ConfigError,
    base_config,
    check_key_path,
    check_type,
    check_unknown_name,
    choice,
    decoder_config,
    embedding_config,
    encoder_config,
    flatten,
    merge,
    positive,
)
from tfmtl.experiment import validate as validate_experiment
from tfmtl.models.multitask_model import DTYPE_POLICIES
from tfmtl.models.sharing import SHARING
from tfmtl.tasks import TASKS
from tfmtl.training.callbacks import CALLBACKS
from tfmtl.training.samplers import SAMPLERS
from tfmtl.training.weightings import WEIGHTINGS

ConfigDict = ml_collections.ConfigDict


def validate(config: ml_collections.ConfigDict | Mapping, *,
             check_files: bool = True) -> ml_collections.ConfigDict:
    """Validates `config` as :func:`tfmtl.experiment.validate` does, then its training keys.

    The weighting's and the callbacks' sections are completed with their
    plug-ins' defaults and checked against their schemas.

    Raises:
        ConfigError: naming the first offending key.
    """
    user = ConfigDict(config.to_dict() if isinstance(config, ConfigDict) else dict(config))
    training = user.training if "training" in user else ConfigDict()
    if "weighting" in training:
        training.weighting = _weighting_section(training.weighting)
    training.sampler = _sampler_section(training.get("sampler", ConfigDict()),
                                        training.get("step", "sampled"))
    if "callbacks" in training:
        training.callbacks = _callback_sections(training.callbacks)
    for section in ("baselines", "loss_baselines"):
        if section in training:
            training[section] = _baselines_section(training[section], section)
    resolved = validate_experiment(user, check_files=check_files)
    _add_required_callbacks(resolved)
    check_training(resolved)
    return resolved


def _add_required_callbacks(c: ml_collections.ConfigDict) -> None:
    """Adds, with their defaults, the callbacks a sharing scheme needs and the config lacks
    (:meth:`SharingScheme.required_callbacks`; e.g. shared-private's adversary needs the
    gradient-reversal schedule), so the resolved config names every callback that runs."""
    for scheme, options in c.model.schemes.items():
        for name in SHARING.get(scheme).required_callbacks(options):
            if name not in c.training.callbacks:
                with c.unlocked():
                    c.training.callbacks[name] = CALLBACKS.get(name).default_config()


#: The ``config.training`` sections that one plug-in, named by their ``type``, owns.
_TYPED_SECTIONS = {"weighting": WEIGHTINGS, "sampler": SAMPLERS}


def _typed_schema(section: str, user) -> ConfigDict:
    """The schema of ``config.training.<section>`` for the plug-in its ``type`` names in
    `user` (the base config's default type when unset): the plug-in's keys and ``type``."""
    name = user["type"] if "type" in user else base_config().training[section].type
    check_unknown_name(_TYPED_SECTIONS[section], name, f"config.training.{section}.type")
    plugin = _TYPED_SECTIONS[section].get(name)
    schema = plugin.schema() if section == "weighting" else plugin.default_config()
    schema.type = name
    return schema


def _weighting_section(section) -> ConfigDict:
    return merge(_typed_schema("weighting", section), section, "config.training.weighting")


def _sampler_section(section, step: str) -> ConfigDict:
    """The sampler's section completed with its defaults. A key another sampler reads is
    an error naming it and its readers; so is any key set away from the default sampler's
    with step 'all' (which draws nothing)."""
    key = "config.training.sampler"
    default = base_config().training.sampler.type
    if step == "all":
        for entry in sorted(section.keys()):
            if entry != "type" or section["type"] != default:
                raise ConfigError(f"{key}.{entry}", "set, but the sampler draws the task of a "
                                  "'sampled' step; step 'all' trains every task at every step")
    schema = _typed_schema("sampler", section)
    others = {n: SAMPLERS.get(n).default_config() for n in SAMPLERS.names()}
    own = {}
    for entry in sorted(section.keys()):
        if entry not in schema:
            readers = {n: c[entry] for n, c in others.items() if entry in c}
            if readers and all(section[entry] == v for v in readers.values()):
                continue  # Another sampler's key at its default (config.json of tfmtl < 12-04).
            if readers:
                raise ConfigError(f"{key}.{entry}", f"set, but sampler {schema.type!r} does "
                                  f"not read it (read by: {', '.join(readers)})")
        own[entry] = section[entry]
    return merge(schema, own, key)


def _callback_sections(sections) -> ConfigDict:
    resolved = ConfigDict()
    for name in sections.keys():
        key = f"config.training.callbacks.{name}"
        check_unknown_name(CALLBACKS, name, key)
        if CALLBACKS.get(name).built_in:
            raise ConfigError(key, f"{name!r} is built in (always on); its keys are in "
                              "config.training")
        resolved[name] = merge(CALLBACKS.get(name).default_config(), sections[name], key)
    return resolved


def _baselines_section(section, name: str = "baselines") -> ConfigDict:
    """``config.training.baselines`` (or ``loss_baselines``) with each value a float;
    :func:`check_training` checks the task names and the values."""
    key = f"config.training.{name}"
    if not isinstance(section, ConfigDict | Mapping):
        raise ConfigError(key, "expected a section (task name -> the baseline's dev value "
                          f"of its {'loss' if name == 'loss_baselines' else 'main metric'}), "
                          f"got {section!r}")
    resolved = ConfigDict()
    for name in section.keys():
        resolved[name] = check_type(0.0, section[name], f"{key}.{name}")
    return resolved


def is_plugin_override(config: ml_collections.ConfigDict, key: str) -> bool:
    """Whether the dotted `key` (``model.schemes.soft.weight``) is in a plug-in's section
    and `config` lacks it: such an override is applied by :func:`apply_plugin_overrides`,
    after the config file's own keys."""
    if not key.startswith(PLUGIN_SECTIONS):
        return False
    try:
        check_key_path(config, key)
    except ConfigError:
        return True
    return False


def _plugin_schema(config: ml_collections.ConfigDict, key: str):
    """The dotted path of the plug-in section `key` is in, and that section's defaults."""
    parts = key.split(".")
    for section in _TYPED_SECTIONS:
        if key.startswith(f"training.{section}."):
            return ["training", section], _typed_schema(section, config.training[section])
    if key.startswith(("training.baselines.", "training.loss_baselines.")):  # A task's value.
        return ["training", parts[1]], ConfigDict({parts[2]: 0.0})
    if len(parts) < 4:
        raise ConfigError(f"config.{key}", "name a key of the plug-in's section "
                          f"(config.{'.'.join(parts[:3])}.KEY)")
    registry = SHARING if parts[0] == "model" else CALLBACKS
    check_unknown_name(registry, parts[2], f"config.{'.'.join(parts[:3])}")
    return parts[:3], registry.get(parts[2]).default_config()


def _typed(raw: str, default: Any, key: str) -> Any:
    """An override's string as the type of the key's default (as ml_collections reads the
    config file's own keys)."""
    text = raw.strip()
    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return lowered in ("true", "1")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, str):
            if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
                return text[1:-1]
            return text
        return type(default)(ast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError):
        raise ConfigError(f"config.{key}", f"{raw!r} is not of its default's type "
                          f"({type(default).__name__}: {default!r})") from None


def apply_plugin_overrides(config: ml_collections.ConfigDict,
                           overrides: Sequence[tuple[str, str]]) -> None:
    """Sets ``KEY=VALUE`` overrides of plug-in keys the config file did not hold: each
    section is added with its plug-in's defaults (``model.schemes.<scheme>``,
    ``training.callbacks.<name>``, or the keys of ``training.weighting.type``'s weighting)
    and the value read as the type of the key's default.

    Raises:
        ConfigError: naming an unknown plug-in, or the key with its close matches, or a
            value of the wrong type.
    """
    for key, raw in overrides:
        path, schema = _plugin_schema(config, key)
        with config.unlocked() if config.is_locked else contextlib.nullcontext():
            node = config
            for part in path[:-1]:
                node = node[part]
            if path[-1] in node:
                for name in node[path[-1]].keys():
                    schema[name] = node[path[-1]][name]
            node[path[-1]] = schema
            check_key_path(config, key)
            section, rest = node[path[-1]], key[len(".".join(path)) + 1:]
            if "." in rest:
                raise ConfigError(f"config.{key}", "a plug-in's section holds values only")
            section[rest] = _typed(raw, section[rest], key)


def config_defaults(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The default of each key of a resolved config, as dotted keys: what validation fills
    in where the user sets nothing (the base schema's, each named language's, encoder's and
    decoder's, each task's type's, the weighting's and the callbacks' own defaults).

    `flat` is the resolved config as dotted keys (:func:`tfmtl.config.flatten`); the
    plug-ins whose defaults apply are read from it (``tasks.X.type``, the
    ``model.schemes`` names,
    ``training.weighting.type``, the ``training.callbacks`` names).
    """
    base = base_config()
    defaults = {k: v for k, v in flatten(base.to_dict()).items()
                if not k.startswith(("model.embeddings.", "model.encoders.",
                                     "model.decoders.", "training.weighting.",
                                     "training.sampler."))}

    def section(prefix: str, schema: ml_collections.ConfigDict) -> None:
        defaults.update(flatten(schema.to_dict(), f"{prefix}."))

    def names(prefix: str) -> list[str]:
        return sorted({key[len(prefix):].split(".", 1)[0] for key in flat
                       if key.startswith(prefix)})

    for kind, schema in (("embeddings", embedding_config), ("encoders", encoder_config),
                         ("decoders", decoder_config)):
        for name in names(f"model.{kind}."):
            section(f"model.{kind}.{name}", schema())
    for name in names("model.schemes."):
        if name in SHARING:
            section(f"model.schemes.{name}", SHARING.get(name).default_config())
    for name in names("tasks."):
        task_type = flat.get(f"tasks.{name}.type")
        if task_type in TASKS:
            section(f"tasks.{name}", TASKS.get(task_type).default_config())
    for name, registry in _TYPED_SECTIONS.items():
        default = base.training[name].type
        chosen = flat.get(f"training.{name}.type", default)
        if chosen in registry:
            section(f"training.{name}", registry.get(chosen).default_config())
        defaults[f"training.{name}.type"] = default
    for name in names("training.callbacks."):
        if name in CALLBACKS:
            section(f"training.callbacks.{name}", CALLBACKS.get(name).default_config())
    return json.loads(json.dumps(defaults))  # Tuples as lists, as config.json has them.


def _check_gradient_mode(c: ml_collections.ConfigDict) -> None:
    """A gradient weighting's ``gradients`` key: a mode it takes; ``representation`` needs
    every encoder's tasks to read one tensor of it: hard sharing, all at one layer."""
    weighting = WEIGHTINGS.get(c.training.weighting.type)
    if "gradients" not in c.training.weighting:
        return
    key = "config.training.weighting.gradients"
    mode = c.training.weighting.gradients
    choice(mode, ("exact", "representation"), key)
    if mode not in weighting.gradient_modes:
        takers = sorted(name for name in WEIGHTINGS.names()
                        if mode in WEIGHTINGS.get(name).gradient_modes)
        raise ConfigError(key, f"weighting {c.training.weighting.type!r} takes only "
                          f"{', '.join(weighting.gradient_modes)} gradients (its update is "
                          f"defined on the shared variables' gradients); {mode!r} gradients: "
                          f"{', '.join(takers)}")
    if mode != "representation":
        return
    for name, encoder in c.model.encoders.items():
        readers = [(task_name, task) for task_name, task in c.tasks.items()
                   if task.encoder == name]
        if not readers:
            continue
        scheme = encoder.sharing or c.model.sharing
        if scheme != "hard":
            raise ConfigError(key, f"representation gradients are taken on the output of a "
                              f"hard-shared encoder, but encoder {name!r} uses sharing "
                              f"{scheme!r} (its tasks read no common tensor); use "
                              "gradients='exact'")
        layers = {task_name: encoder.layers if task.layer == -1 else task.layer
                  for task_name, task in readers}
        if len(set(layers.values())) > 1:
            raise ConfigError(key, f"representation gradients need the tasks of encoder "
                              f"{name!r} to read one layer of it, but they read "
                              f"{', '.join(f'{t}: {v}' for t, v in layers.items())}; use "
                              "gradients='exact'")


def check_training(c: ml_collections.ConfigDict) -> None:
    """Checks the ``training`` and ``distribute`` sections of a resolved config."""
    t = c.training
    for key in ("steps", "batch_size", "eval_batch_size", "eval_every", "checkpoint_every",
                "keep_checkpoints", "log_every"):
        positive(t[key], f"config.training.{key}")
    positive(t.buckets, "config.training.buckets", allow_zero=True)
    positive(t.patience, "config.training.patience", allow_zero=True)
    choice(t.step, ("sampled", "all"), "config.training.step")
    choice(t.mixed_precision, DTYPE_POLICIES, "config.training.mixed_precision")
    choice(t.select, ("reference", "mean", "delta_m", "loss"), "config.training.select")
    _check_baselines(c)
    _check_loss_baselines(c)
    if t.step == "all":
        if t.joint:
            raise ConfigError("config.training.joint", "step 'all' always trains tasks that "
                              "read the same sentences together; leave joint False")
    else:
        _unchanged(t.weighting, base_config().training.weighting, "config.training.weighting",
                   "a weighting combines the tasks' losses of an 'all' step; set "
                   "config.training.step='all'")
    check_unknown_name(WEIGHTINGS, t.weighting.type, "config.training.weighting.type")
    WEIGHTINGS.get(t.weighting.type).check_config(t.weighting, "config.training.weighting")
    _check_gradient_mode(c)
    if t.step == "all" and not WEIGHTINGS.get(t.weighting.type).reads_loss_weight:
        for name, task in c.tasks.items():
            if task.loss_weight != TASKS.get(task.type).default_config().loss_weight:
                raise ConfigError(f"config.tasks.{name}.loss_weight",
                                  f"set to {task.loss_weight}, but weighting "
                                  f"{t.weighting.type!r} does not read it; use "
                                  "config.training.weighting.type='static'")
    for name, section in t.callbacks.items():
        key = f"config.training.callbacks.{name}"
        check_unknown_name(CALLBACKS, name, key)
        CALLBACKS.get(name).check_config(section, key, c)
    check_unknown_name(SAMPLERS, t.sampler.type, "config.training.sampler.type")
    SAMPLERS.get(t.sampler.type).check_config(t.sampler, "config.training.sampler")
    _check_sampler_task_keys(c)
    o = t.optimizer
    choice(o.type, ("adam", "sgd"), "config.training.optimizer.type")
    choice(o.schedule, ("constant", "exponential", "cosine", "linear"),
           "config.training.optimizer.schedule")
    positive(o.learning_rate, "config.training.optimizer.learning_rate")
    positive(o.decay_rate, "config.training.optimizer.decay_rate")
    positive(o.decay_steps, "config.training.optimizer.decay_steps")
    for key in ("momentum", "warmup_steps", "clip_norm"):
        positive(o[key], f"config.training.optimizer.{key}", allow_zero=True)
    choice(c.distribute.strategy, ("default", "mirrored", "multi_worker"),
           "config.distribute.strategy")
    positive(c.distribute.cpu_devices, "config.distribute.cpu_devices", allow_zero=True)


def _check_baselines(c: ml_collections.ConfigDict) -> None:
    """``config.training.baselines``: each a task's, a finite number > 0; required by select
    'delta_m', and when given, one for every exported task (Δm averages over them)."""
    t, key = c.training, "config.training.baselines"
    tasks = {name: TASKS.get(entry.type)(name, entry) for name, entry in c.tasks.items()}
    # The messages do not name a task's main metric: a tagger's depends on its labels.
    _check_task_values(t.baselines, key, tasks, "the baseline's main dev metric; Δm "
                       "divides by it")
    if t.select == "delta_m" and not t.baselines:
        raise ConfigError(key, "empty, but select 'delta_m' needs each exported task's "
                          "main dev metric in its single-task baseline run")
    if t.baselines:
        for name, task in tasks.items():
            if task.exported and name not in t.baselines:
                raise ConfigError(f"{key}.{name}", "missing: Δm averages over every exported "
                                  f"task; give the main dev metric of {name}'s single-task "
                                  "baseline run")


def _check_loss_baselines(c: ml_collections.ConfigDict) -> None:
    """``config.training.loss_baselines``: each a task's dev loss, a finite number > 0, and
    only with select 'loss' (the one reader)."""
    t, key = c.training, "config.training.loss_baselines"
    if t.loss_baselines and t.select != "loss":
        raise ConfigError(key, f"set, but select is {t.select!r}: only select 'loss' "
                          "divides the dev losses by them")
    _check_task_values(t.loss_baselines, key, c.tasks, "a dev loss the task's is divided by")


def _check_task_values(section, key: str, tasks, what: str) -> None:
    """Each entry of a task-keyed section (`key`) names a task of `tasks` and is a finite
    number > 0 (`what` it is, for the message)."""
    for name, value in section.items():
        if name not in tasks:
            raise ConfigError(f"{key}.{name}", f"unknown task {name!r}; tasks: "
                              f"{', '.join(tasks)}")
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value <= 0):
            raise ConfigError(f"{key}.{name}", f"must be a number > 0 ({what}), got "
                              f"{value!r}")


def _check_sampler_task_keys(c: ml_collections.ConfigDict) -> None:
    """A task key that samplers read (``Sampler.reads_task_keys``: ``mixing_ratio``) set away
    from its task type's default is an error where no sampler reads it: with another
    sampler, or with step 'all' (no sampler at all)."""
    t = c.training
    keys = sorted({key for name in SAMPLERS.names() for key in SAMPLERS.get(name).reads_task_keys})
    read = SAMPLERS.get(t.sampler.type).reads_task_keys if t.step == "sampled" else ()
    for name, task in c.tasks.items():
        default = TASKS.get(task.type).default_config()
        for key in keys:
            if key in read or task[key] == default[key]:
                continue
            readers = [n for n in SAMPLERS.names() if key in SAMPLERS.get(n).reads_task_keys]
            why = (f"sampler {t.sampler.type!r} does not read it (read by: "
                   f"{', '.join(readers)})" if t.step == "sampled" else
                   "step 'all' trains every task at every step; weigh its loss with "
                   "loss_weight (and config.training.weighting.type='static')")
            raise ConfigError(f"config.tasks.{name}.{key}", f"set to {task[key]}, but {why}")


def _unchanged(section, default, key: str, why: str) -> None:
    """Raises naming the first key of `section` set away from its default."""
    for name in sorted(set(section.keys()) | set(default.keys())):
        if name not in default or section.get(name) != default[name]:
            raise ConfigError(f"{key}.{name}", f"set, but {why}")
