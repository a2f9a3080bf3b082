"""The base configuration schema of a tfmtl run and the helpers that check it.

A run is described by one ``ml_collections.ConfigDict``. Config files in
``configs/`` start from :func:`base_config` and add tasks made with
:func:`tfmtl.experiment.task_config`, so every key has a default and can be
overridden from the command line (``--config.training.steps=2000``).

This module knows the base schema only. Plug-ins (task types, sharing schemes,
LSTM implementations, samplers, weightings, callbacks) own their keys, and the
whole config is checked where the experiment is assembled
(:func:`tfmtl.experiment.validate`, and :func:`tfmtl.training.validate` for
the training plug-ins): an unknown key, a value of the wrong type, a task
naming a missing file or a layer the encoder does not have is a
:class:`ConfigError` that names the key (``config.tasks.pos.layer``).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections

ConfigDict = ml_collections.ConfigDict

# Sections whose entries are user-named (tasks, languages, encoders, decoders) rather than
# schema keys; validation checks each entry against its own schema.
USER_NAMED = ("config.tasks", "config.model.embeddings", "config.model.encoders",
              "config.model.decoders", "config.model.schemes", "config.training.callbacks",
              "config.training.weighting", "config.training.sampler",
              "config.training.baselines", "config.training.loss_baselines")


class ConfigError(ValueError):
    """A config value is invalid; the message starts with the dotted key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


def embedding_config(**values: Any) -> ConfigDict:
    """A language's vocabulary and word features (``config.model.embeddings.<language>``)."""
    c = ConfigDict()
    c.lowercase = False  # Lowercase words for the word vocabulary (characters keep case).
    c.min_count = 1  # Words seen fewer times in training map to the OOV id.
    c.max_vocab = 0  # Largest word vocabulary, most frequent first (0 = no limit).
    c.max_chars = 20  # Characters kept per word for character features.
    c.word_dim = 64  # Word embedding size (the vectors' size when `vectors` is set).
    c.word_dropout = 0.0  # Probability of replacing a training word by the OOV id.
    c.dropout = 0.2  # Dropout on the concatenated word and character features.
    # Local word-vector file (word2vec/GloVe/fastText text format) that initialises the word
    # embedding ("" = random initialisation).
    c.vectors = ""
    c.trainable = True  # With `vectors`: fine-tune the embedding (False: frozen).
    # With `vectors`: vectors of vocabulary words the file lacks: "normal" (drawn from a normal
    # with the per-dimension mean and standard deviation of the vocabulary words the file has,
    # seeded) or "zeros". Padding is always 0.
    c.missing = "normal"
    c.char = ConfigDict()
    c.char.type = "cnn"  # Character features: "cnn", "bilstm" (Plank et al. 2016) or "none".
    c.char.dim = 32  # Character embedding size.
    c.char.units = 64  # CNN filters, or BiLSTM units per direction.
    c.char.width = 3  # CNN kernel width.
    update(c, values, "embedding")
    return c


def encoder_config(**values: Any) -> ConfigDict:
    """A (Bi)LSTM stack over one language (``config.model.encoders.<name>``)."""
    c = ConfigDict()
    c.language = "text"  # The language (config.model.embeddings key) it reads.
    c.layers = 2  # Number of (Bi)LSTM layers.
    c.units = 128  # LSTM units per direction.
    c.bidirectional = True  # BiLSTM layers (False: left-to-right LSTMs).
    c.dropout = 0.3  # Dropout on each layer's output.
    # LSTM implementation: "keras", "fused" (native op) or "export" (stock BlockLSTMV2 at
    # inference; exports build with it). All keep the same weights.
    c.lstm = "keras"
    c.sharing = ""  # Sharing scheme of this encoder ("" = config.model.sharing).
    update(c, values, "encoder")
    return c


def decoder_config(**values: Any) -> ConfigDict:
    """An LSTM stack over a target language (``config.model.decoders.<name>``)."""
    c = ConfigDict()
    c.language = "text"  # The target language (config.model.embeddings key).
    c.encoder = "shared"  # The encoder whose final states start it and whose outputs it attends.
    c.layers = 2  # Number of LSTM layers.
    c.units = 128  # LSTM units.
    c.dropout = 0.3  # Dropout on each layer's output.
    c.lstm = "keras"  # LSTM implementation: "keras", "fused" or "export".
    # Luong global attention over the encoder outputs: "none", "dot" or "general".
    c.attention = "none"
    update(c, values, "decoder")
    return c


def base_config() -> ConfigDict:
    """Returns the defaults of every key except the tasks."""
    c = ConfigDict()
    c.seed = 0  # Seeds weights, dropout, shuffling and the task sampler.
    c.data_dir = ""  # Folder that relative task data paths are resolved against ("" = the cwd).

    c.data = ConfigDict()
    c.data.max_length = 0  # Training sentences longer than this are dropped (0 = keep all).

    c.model = ConfigDict()
    # Language name -> its vocabulary and word features (embedding_config()). Every text field
    # belongs to a language; tagging and classification read the "words" of their encoder's.
    c.model.embeddings = ConfigDict({"text": embedding_config()})
    # Encoder name -> a (Bi)LSTM stack over one language (encoder_config()); tasks name the
    # encoder they read (tasks.X.encoder).
    c.model.encoders = ConfigDict({"shared": encoder_config()})
    # Decoder name -> an LSTM stack over a target language (decoder_config()), for the
    # sequence-to-sequence task types; none by default.
    c.model.decoders = ConfigDict()
    c.model.sharing = "hard"  # Default sharing scheme of every encoder (tfmtl/models/sharing/).
    # Sharing scheme name -> its own keys (tfmtl.models.sharing.scheme_config(name, ...)),
    # for every encoder that uses it; each used scheme's section is filled with its defaults.
    c.model.schemes = ConfigDict()

    c.training = ConfigDict()
    # Training steps: with step "sampled" one batch of one task (or joint group); with "all"
    # one batch of every group.
    c.training.steps = 5000
    c.training.batch_size = 32  # Sentences per step, over all replicas.
    c.training.eval_batch_size = 128  # Sentences per evaluation batch.
    c.training.buckets = 8  # Length buckets for batching training sentences (0 = none).
    # Train tasks that read the same training sentences (e.g. POS and chunking of one CoNLL
    # file) jointly: one batch updates all their heads. Otherwise each step trains one task.
    c.training.joint = False
    # "sampled": each step trains one task group drawn by the sampler (Luong et al.'s
    # alternation); "all": each step takes one batch of every group (tasks reading the same
    # sentences form one) and combines their losses through the weighting.
    c.training.step = "sampled"
    # Keras dtype policy of the model: "float32", "mixed_bfloat16" or "mixed_float16"
    # (computations in 16 bits, variables, losses and outputs in float32; "mixed_float16"
    # adds dynamic loss scaling). The fused LSTM runs in float32 either way.
    c.training.mixed_precision = "float32"
    c.training.weighting = ConfigDict()
    # For step "all": "equal" (sum of the losses) or "static" (weighted by loss_weight); the
    # weighting's own keys sit beside `type` (tfmtl/training/weightings/).
    c.training.weighting.type = "equal"
    # Callback name -> its keys (tfmtl.training.callback_config(name, ...)), besides the
    # built-in summaries, best checkpoint and early stopping (tfmtl/training/callbacks/).
    c.training.callbacks = ConfigDict()
    c.training.sampler = ConfigDict()
    # Task sampler: "ratio" (Luong et al.), "proportional", "temperature" or "uniform".
    # Its own keys sit beside `type` (tfmtl/training/samplers/: "temperature" reads
    # `temperature` and `cap`, "proportional" `cap`).
    c.training.sampler.type = "ratio"
    # Task for early stopping and the best checkpoint, and the anchor of mixing ratios; may be
    # "" only when there is a single task. (Config sections list keys sorted, not as written.)
    c.training.reference_task = ""
    # The dev score of the best checkpoint and early stopping: "reference" (the reference
    # task's main metric), "mean" (the mean of every exported task's main dev metric) or
    # "delta_m" (Δm over `baselines`: the mean relative gain over single-task baselines) or
    # "loss" (the lowest mean over the tasks of each one's dev loss divided by its
    # `loss_baselines` entry, 1 where it has none; the dev losses are then scored too).
    c.training.select = "reference"
    # For select "loss": task name -> the dev loss that task's is divided by (its
    # single-task network's, for tfmtl-group). Empty = none (raw losses).
    c.training.loss_baselines = ConfigDict()
    # Task name -> the dev value of its main metric in a single-task baseline run (float).
    # Δm averages over these tasks; every exported task needs one. Required by select
    # "delta_m"; with another select, the dev Δm is only logged. Empty = none.
    c.training.baselines = ConfigDict()
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


def update(target: ConfigDict, values: Mapping[str, Any], key: str) -> None:
    for name, value in values.items():
        sub = f"{key}.{name}"
        if name not in target:
            raise ConfigError(sub, f"unknown key; known keys: {', '.join(sorted(target))}")
        if isinstance(target[name], ConfigDict):
            if not isinstance(value, Mapping | ConfigDict):
                raise ConfigError(sub, f"expected a section, got {value!r}")
            update(target[name], value, sub)
        else:
            target[name] = check_type(target[name], value, sub)


def check_type(default: Any, value: Any, key: str) -> Any:
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    raise ConfigError(
        key, f"expected {expected.__name__}, got {type(value).__name__} {value!r}"
    )


def merge(schema: ConfigDict, user: ConfigDict | Mapping, key: str) -> ConfigDict:
    """Copies `user` onto a copy of `schema`, rejecting unknown keys and wrong types."""
    resolved = ConfigDict(schema.to_dict())
    for name in user.keys():
        sub = f"{key}.{name}"
        value = user[name]
        if name not in schema:
            raise ConfigError(sub, f"unknown key; known keys: {', '.join(sorted(schema))}")
        if sub in USER_NAMED:
            continue
        if isinstance(schema[name], ConfigDict):
            if not isinstance(value, ConfigDict | Mapping):
                raise ConfigError(sub, f"expected a section, got {value!r}")
            resolved[name] = merge(schema[name], value, sub)
        else:
            resolved[name] = check_type(schema[name], value, sub)
    return resolved


def choice(value: str, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise ConfigError(key, f"{value!r} is not one of {', '.join(choices)}")


def positive(value: float, key: str, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(key, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


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


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as a dict of dotted keys: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, Mapping | ConfigDict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def plugin_config(registry, name: str, kind: str, values: Mapping[str, Any]) -> ConfigDict:
    """A plug-in's section: the ``default_config()`` of `registry`'s entry `name` updated
    with `values` (an unknown name or key is a ConfigError naming the `kind`)."""
    try:
        plugin = registry.get(name)
    except KeyError as e:
        raise ConfigError(kind, e.args[0]) from None
    config = plugin.default_config()
    update(config, values, f"{kind} {name}")
    return config


def to_json(config: ConfigDict) -> str:
    return json.dumps(config.to_dict(), indent=2, sort_keys=False) + "\n"


#: The config sections plug-ins own (their keys come from the plug-in a config names), and
#: ``training.baselines`` (its keys are task names): a config file need not hold them for a
#: ``--config.KEY=VALUE`` override to set one of their keys (see
#: tfmtl.training.validation.apply_plugin_overrides).
PLUGIN_SECTIONS = ("model.schemes.", "training.callbacks.", "training.weighting.",
                   "training.sampler.", "training.baselines.",
                   "training.loss_baselines.")


def check_key_path(config: ConfigDict, path: str) -> None:
    """Raises a ConfigError naming the first key of dotted `path` that `config` lacks.

    The message gives the keys close to the misspelled one (``config.model.encoder:
    unknown key; close matches: encoders``), or every key there when none is close.

    Args:
        config: a config.
        path: dotted keys below `config`, as in ``--config.model.encoders.shared.units``.
    """
    node, key = config, "config"
    for part in path.split("."):
        if not isinstance(node, ConfigDict | Mapping):
            raise ConfigError(key, f"holds {node!r} ({type(node).__name__}), not a section "
                              f"with a key {part!r}")
        if part not in node:
            known = sorted(node.keys())
            close = difflib.get_close_matches(part, known, n=3)
            if close:
                hint = f"close matches: {', '.join(close)}"
            elif known:
                hint = f"known keys: {', '.join(known)}"
            else:
                hint = f"{key} has no keys"
            raise ConfigError(f"{key}.{part}", f"unknown key; {hint}")
        node, key = node[part], f"{key}.{part}"


def check_unknown_name(registry, name: str, key: str) -> None:
    """Raises a ConfigError naming `key` when `registry` (a tfmtl Registry) lacks `name`."""
    if name not in registry:
        raise ConfigError(key, f"unknown {registry.kind} {name!r}; known: "
                          f"{', '.join(registry.names())}")
