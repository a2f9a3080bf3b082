"""The one module of :mod:`tfmtl.runs` that reaches into the core's Python API.

Everything else in ``tfmtl.runs`` trains through the ``tfmtl-train`` program
(``python -m tfmtl.cli.train``), whose command line is the stable contract,
and reads what it writes (``config.json``, ``metrics.json``). Two things need
the core's Python API: the resolved config a run is identified by (the same
validation ``tfmtl-train`` runs), and the per-sentence test predictions of a
trained workdir (for the paired bootstrap). Both are here, so that when a
core module moves only the imports here change (they are inside the functions:
loading the core loads TensorFlow, which a worker does only after training).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import ml_collections
from absl import flags
from ml_collections import config_flags

from tfmtl.config import PLUGIN_SECTIONS, ConfigError

__all__ = ["ConfigError", "RunsError", "config_defaults", "config_keys", "load_config",
           "predict_split", "resolve_config", "validate_loaded"]


def _validate():
    """The validation ``tfmtl-train`` runs: the experiment's checks plus the training
    plug-ins' (imported late: it loads TensorFlow)."""
    from tfmtl.training.validation import validate

    return validate


class RunsError(ValueError):
    """A sweep or run request is invalid; the message names the flag, file or key."""


def _config_path(config: str) -> str:
    """The file of a ``PATH[:ARG]`` config argument."""
    path, _, _ = config.partition(":")
    return path


def load_config(config: str, overrides: Sequence[str] = (), *,
                where: str = "--config") -> ml_collections.ConfigDict:
    """Loads a config file with ``--config.KEY=VALUE`` overrides, as ``tfmtl-train`` does.

    The file and the overrides are parsed by the same ``ml_collections``
    config flag that ``tfmtl-train`` uses, so values are read exactly as the
    training program will read them.

    Args:
        config: ``PATH`` or ``PATH:ARG`` (the argument of ``get_config``).
        overrides: ``KEY=VALUE`` strings (``training.steps=300``).
        where: what to name in errors (the flag or file the request came from).

    Raises:
        RunsError: the file is missing or fails to load, or an override names an
            unknown key or a value of the wrong type.
    """
    path = _config_path(config)
    if not os.path.isfile(path):
        raise RunsError(f"{where}: {path}: no such config file")
    config_dict = _parse(config, (), where)
    plain, plugin = [], []
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key:
            raise RunsError(f"{where}: {override!r} is not KEY=VALUE")
        if check_override_key(config_dict, key, where):
            plugin.append((key, value))  # A plug-in's key the file lacks: set after parsing.
        else:
            plain.append(override)
    loaded = _parse(config, plain, where) if plain else config_dict
    if plugin:
        try:
            _plugin_override()[1](loaded, plugin)
        except ConfigError as e:
            raise RunsError(f"{where}: {e}") from None
    return loaded


def check_override_key(config: ml_collections.ConfigDict, key: str, where: str) -> bool:
    """Checks that an override's dotted `key` names a value of `config` (RunsError if not),
    or is a plug-in's key the config file lacks (True: set after parsing, see
    :func:`load_config`)."""
    if key.startswith(PLUGIN_SECTIONS) and _plugin_override()[0](config, key):
        return True
    check_key(config, key, where)
    return False


def _plugin_override():
    """``(is_plugin_override, apply_plugin_overrides)`` (imported late: TensorFlow)."""
    from tfmtl.training.validation import apply_plugin_overrides, is_plugin_override

    return is_plugin_override, apply_plugin_overrides


def _parse(config: str, overrides: Sequence[str], where: str) -> ml_collections.ConfigDict:
    argv = ["tfmtl-sweep", f"--config={config}", *[f"--config.{o}" for o in overrides]]
    values = flags.FlagValues()
    holder = config_flags.DEFINE_config_file("config", None, "config file", flag_values=values,
                                             lock_config=False, sys_argv=argv)
    try:
        values(argv)
        loaded = holder.value
    except flags.Error as e:
        raise RunsError(f"{where}: {e}") from None
    except Exception as e:  # A config file's own error (ImportError, ValueError, ...).
        raise RunsError(f"{where}: {config}: {type(e).__name__}: {e}") from None
    if not isinstance(loaded, ml_collections.ConfigDict):
        raise RunsError(f"{where}: {config}: get_config() returned {type(loaded).__name__}, "
                        "not a ConfigDict")
    return loaded


def check_key(config: ml_collections.ConfigDict, key: str, where: str) -> None:
    """Raises RunsError unless the dotted `key` names a value of `config`."""
    node: Any = config
    for depth, part in enumerate(key.split(".")):
        if not isinstance(node, ml_collections.ConfigDict) or part not in node:
            known = ", ".join(sorted(node)) if isinstance(node, ml_collections.ConfigDict) \
                else "none (not a section)"
            prefix = ".".join(key.split(".")[:depth])
            raise RunsError(f"{where}: config.{key}: unknown key"
                            + (f" in config.{prefix}" if prefix else "")
                            + f"; known keys: {known}")
        node = node[part]
    if isinstance(node, ml_collections.ConfigDict):
        raise RunsError(f"{where}: config.{key}: is a section, not a value")


def config_keys(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    """Every dotted value key of `config`."""
    keys = []
    for name, value in config.items():
        if isinstance(value, ml_collections.ConfigDict):
            keys.extend(config_keys(value, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def resolve_config(config: str, overrides: Sequence[str] = (), *,
                   where: str = "--config") -> ml_collections.ConfigDict:
    """The resolved config ``tfmtl-train --config=CONFIG --config.KEY=VALUE ...`` trains.

    Data files are not checked here (a run naming a missing file fails when it
    runs, and is recorded with its error); every key and value is.

    Raises:
        RunsError: as :func:`load_config`, or naming the invalid key.
    """
    return validate_loaded(load_config(config, overrides, where=where), where=where)


def validate_loaded(config: ml_collections.ConfigDict, *, where: str = "--config"
                    ) -> ml_collections.ConfigDict:
    """Validates a loaded config as ``tfmtl-train`` does (data files not checked)."""
    try:
        return _validate()(config, check_files=False)
    except ConfigError as e:
        raise RunsError(f"{where}: {e}") from None


# --- Per-sentence predictions of a trained workdir. ---------------------------------------

def config_defaults(flat: dict[str, Any]) -> dict[str, Any]:
    """:func:`tfmtl.training.validation.config_defaults`: each resolved key's default."""
    from tfmtl.training.validation import config_defaults

    return config_defaults(flat)


def predict_split(workdir: str, split: str = "test") -> dict[str, dict]:
    """Predicts every task of a trained workdir on `split` with its best checkpoint.

    Returns, per task with data on the split, its gold and predicted labels
    per example, as the task's own evaluation compares them:

    * tagging: ``{"type": "tagging", "spans": bool, "iobes": bool, "examples":
      [{"gold": [tag, ...], "pred": [tag, ...], "oov": [bool, ...]}, ...]}``
      (``spans``: the labels are BIO/BIOES chunks, scored with span F1;
      ``iobes``: they use ``E-``/``S-``, converted to BIO before span scoring);
    * classification: ``{"type": "classification", "examples": [{"gold": label,
      "pred": label}, ...]}``.

    Task types without per-example scoring here are left out.
    """
    from tfmtl.experiment import Experiment, restore_model
    from tfmtl.training.evaluation import Evaluator

    experiment = Experiment.restore(workdir)
    model = experiment.build_model(restoring=True)
    restore_model(workdir, model.model, "best")
    evaluator = Evaluator(experiment, model, experiment.config.training.eval_batch_size)
    results: dict[str, dict] = {}
    for task in experiment.tasks:
        kind = task.config.type
        if kind not in ("tagging", "classification"):
            continue
        sentences = experiment.sentences(task.name, split)
        if not sentences:
            continue
        examples = experiment.examples(task.name, split)
        predictions = evaluator.predict(task.name, examples)
        rows = []
        if kind == "tagging":
            for sentence, example, ids in zip(sentences, examples, predictions, strict=True):
                gold = list(task.tags(sentence))
                pred = list(task.labels.decode(ids[: len(gold)]))
                oov = [bool(x) for x in experiment.featurizer.oov(example["words"])[: len(gold)]]
                rows.append({"gold": gold, "pred": pred, "oov": oov})
            results[task.name] = {
                "type": kind,
                "spans": bool(task.spans),
                "iobes": any(t[:2] in ("E-", "S-") for t in task.labels.tokens),
                "examples": rows,
            }
        else:
            for sentence, ids in zip(sentences, predictions, strict=True):
                rows.append({"gold": task.label(sentence), "pred": task.labels.tokens[int(ids)]})
            results[task.name] = {"type": kind, "examples": rows}
    return results
