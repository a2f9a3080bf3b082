"""Parameter sharing schemes: how the tasks reading an encoder share it.

A scheme is built per encoder (``config.model.encoders.<name>``, whose
``sharing`` key, or else ``config.model.sharing``, names it) and called on
that encoder's embedded inputs with the tasks that read it. It returns a
:class:`Shared`: each task's encoder features, each task's head outputs
(the scheme builds the heads through ``heads``, so that a scheme may feed a
head's output to the layers above it, as label embeddings do), and the
scheme's own named losses (regularizers), which the trainer adds to every
step's loss and logs by name, and its per-task named losses, added to the
steps that train the task. Add one by writing a module in this package:

    @SHARING.register("mine")
    class Mine(SharingScheme):
        def __call__(self, embedded, mask, tasks, heads) -> Shared: ...

A scheme owns its config keys: :meth:`SharingScheme.default_config` declares
them, a user sets them in ``config.model.schemes.<name>`` (made with
:func:`scheme_config`), validation merges that section onto the defaults and
calls :meth:`SharingScheme.check_config`, and every encoder using the scheme
gets the section as ``options``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import ml_collections

from tfmtl.config import plugin_config
from tfmtl.layers.column_mixing import ColumnMixing
from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.layers.layer_mixing import LayerMixing
from tfmtl.layers.lstm_stack import LSTMStack
from tfmtl.registry import Registry

SHARING = Registry("sharing scheme", "tfmtl.models.sharing")

#: ``heads(task, features) -> outputs``: builds a task's head on the features it reads.
HeadBuilder = Callable[[object, EncoderFeatures], dict]


@dataclasses.dataclass
class Shared:
    """What a sharing scheme returns.

    Attributes:
        features: per task name, the encoder features its head read.
        outputs: per task name, its head's outputs (a dict of Keras tensors).
        losses: the scheme's named regularization losses (scalar Keras tensors, already
            weighted), added to the loss of every step.
        task_losses: per task name, named losses (scalar Keras tensors, already weighted)
            that belong to the sentences of that task: a step adds them only when it trains
            the task, on the task's batch (an adversarial loss whose target is the task's
            corpus, a penalty on the task's private features). A step training several tasks
            adds, per name, the mean over those of its tasks that have it.
    """

    features: dict[str, EncoderFeatures]
    outputs: dict[str, dict]
    losses: dict = dataclasses.field(default_factory=dict)
    task_losses: dict = dataclasses.field(default_factory=dict)


class SharingScheme:
    """The base of sharing schemes.

    Args:
        name: the encoder's name (the prefix of the layers the scheme builds).
        encoder_config: the encoder's entry (``config.model.encoders.<name>``).
        seed: the run's seed.
        options: the scheme's resolved keys (``config.model.schemes.<scheme>``; default:
            :meth:`default_config`).
    """

    def __init__(self, name: str, encoder_config: ml_collections.ConfigDict, seed: int = 0,
                 options: ml_collections.ConfigDict | None = None):
        self.name = name
        self.config = encoder_config
        self.seed = seed
        self.options = options if options is not None else self.default_config()

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """The scheme's own keys with their defaults (``config.model.schemes.<name>``).
        Default: none."""
        return ml_collections.ConfigDict()

    @classmethod
    def check_config(cls, options: ml_collections.ConfigDict, key: str,
                     config: ml_collections.ConfigDict) -> None:
        """Checks the scheme's resolved keys (`options`, at `key`) against the whole config;
        raises ConfigError naming the key. Default: nothing."""

    @classmethod
    def required_callbacks(cls, options: ml_collections.ConfigDict) -> tuple[str, ...]:
        """The training callbacks (``config.training.callbacks`` names) the scheme needs
        with these keys; validation adds any the config lacks, with their defaults (e.g.
        the gradient-reversal schedule of an adversarial loss). Default: none."""
        return ()

    def make_stack(self, name: str | None = None, **overrides) -> LSTMStack:
        """An LSTM stack as the encoder's config describes (fields overridable; e.g.
        ``return_state=True`` when a task's ``reads_final_states``)."""
        e = self.config
        values = dict(layers=e.layers, units=e.units, bidirectional=e.bidirectional,
                      dropout=e.dropout, lstm=e.lstm)
        values.update(overrides)
        layers = values.pop("layers")
        units = values.pop("units")
        return LSTMStack(layers, units, name=name or self.name, **values)

    def __call__(self, embedded, mask, tasks: Sequence, heads: HeadBuilder) -> Shared:
        raise NotImplementedError


def mixing_weights(model) -> dict[str, float]:
    """The learned sharing weights of a Keras model, for logging: every cross-stitch or
    sluice alpha entry (``<layer>/<row>_<column>``) and every sluice beta
    (``<layer>/<index>``); {} for schemes without any."""
    values = {}
    for layer in model.layers:
        if isinstance(layer, ColumnMixing):
            alpha = layer.alpha.numpy()
            values.update({f"{layer.name}/{i}_{j}": float(alpha[i, j])
                           for i in range(alpha.shape[0]) for j in range(alpha.shape[1])})
        elif isinstance(layer, LayerMixing):
            values.update({f"{layer.name}/{i}": float(b) for i, b in
                           enumerate(layer.beta.numpy())})
    return values


def scheme_config(name: str, **values: Any) -> ml_collections.ConfigDict:
    """A ``config.model.schemes.<name>`` section: the scheme's defaults updated.

    Example: ``config.model.schemes.soft = scheme_config("soft", weight=0.01)``.
    """
    return plugin_config(SHARING, name, "sharing scheme", values)


__all__ = ["SHARING", "HeadBuilder", "Shared", "SharingScheme", "mixing_weights",
           "scheme_config"]
