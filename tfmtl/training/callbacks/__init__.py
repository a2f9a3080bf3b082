"""Callbacks: what runs at the boundaries of training, a step and an evaluation.

The loop calls every callback's ``on_train_begin(run)``, ``on_step_end(run,
logs)`` after each step, ``on_eval_end(run, results)`` after each dev
evaluation and ``on_train_end(run)``, with the run's state (:class:`Run`).
A callback may set ``run.stop`` to end training. Inside the ``all`` step, a
callback's :meth:`Callback.in_step` is traced into the step itself, in
replica context, with each task's batch and loss (TAG's lookahead needs this);
what it returns is summed over replicas and handed to ``on_step_end`` under
``logs["in_step"][name]``.

The summaries, the best checkpoint and early stopping are the built-in
callbacks that every run has; others are chosen by
``config.training.callbacks.<name>`` (made with :func:`callback_config`),
whose keys are the callback's :meth:`Callback.default_config`. Add one by
writing a module in this package:

    @CALLBACKS.register("mine")
    class Mine(Callback):
        def on_step_end(self, run, logs): ...
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import ml_collections

from tfmtl.config import plugin_config
from tfmtl.registry import Registry

CALLBACKS = Registry("callback", "tfmtl.training.callbacks")
#: Callbacks every run has, in the order they are called.
BUILT_IN = ("summaries", "best_checkpoint", "early_stopping")


@dataclasses.dataclass
class Run:
    """The state of a training run that callbacks see.

    Attributes:
        config: the resolved config.
        workdir: the run's folder.
        experiment: tasks, vocabularies and data.
        model: the :class:`tfmtl.models.multitask_model.MultiTaskModel`.
        optimizer: the optimizer.
        state: the checkpointed :class:`tfmtl.training.checkpoints.RunState`.
        checkpoints: the run's :class:`tfmtl.training.checkpoints.Checkpoints`.
        writer: the TensorBoard summary writer (a no-op one off the chief).
        chief: whether this worker writes the workdir.
        start: the step the run started or resumed at.
        step: the number of steps done.
        stop: set by a callback to end training after this step.
        weighting: the ``all`` step's weighting (None for ``sampled``).
    """

    config: ml_collections.ConfigDict
    workdir: str
    experiment: Any
    model: Any
    optimizer: Any
    state: Any
    checkpoints: Any
    writer: Any
    chief: bool
    start: int
    step: int
    stop: bool = False
    weighting: Any = None

    @property
    def total_steps(self) -> int:
        return self.config.training.steps


class Callback:
    """The base of callbacks: every hook does nothing.

    Args:
        config: the callback's section (its :meth:`default_config` keys).
    """

    #: Built-in callbacks are always on and have no config section.
    built_in: ClassVar[bool] = False

    def __init__(self, config: ml_collections.ConfigDict | None = None):
        self.config = config if config is not None else self.default_config()

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict()

    @classmethod
    def check_config(cls, config: ml_collections.ConfigDict, key: str,
                     run_config: ml_collections.ConfigDict) -> None:
        """Checks the callback's keys; raises ConfigError naming the key."""

    def on_train_begin(self, run: Run) -> None:
        pass

    def on_step_end(self, run: Run, logs: dict) -> None:
        pass

    def on_eval_end(self, run: Run, results: dict) -> None:
        pass

    def on_train_end(self, run: Run) -> None:
        pass

    def in_step(self, context) -> dict | None:
        """In the ``all`` step's graph, in replica context: see :class:`StepContext`.

        Returns a dict of tensors (summed over replicas), or None.
        """
        return None


@dataclasses.dataclass
class StepContext:
    """What :meth:`Callback.in_step` sees inside the ``all`` step.

    Attributes:
        model: the MultiTaskModel (callable in replica context).
        batches: per group (a tuple of task names), its batch.
        losses: per task name, its loss on its batch (a scalar, the global mean).
        outputs: per group, the model's outputs on its batch.
        tape: the (persistent) gradient tape that recorded the losses.
        optimizer: the optimizer.
    """

    model: Any
    batches: dict
    losses: dict
    outputs: dict
    tape: Any
    optimizer: Any


def callback_config(name: str, **values: Any) -> ml_collections.ConfigDict:
    """A ``config.training.callbacks.<name>`` entry: the callback's defaults updated.

    Example: ``config.training.callbacks.gradient_reversal = callback_config(
    "gradient_reversal")``.
    """
    return plugin_config(CALLBACKS, name, "callback", values)


def make_callbacks(run_config: ml_collections.ConfigDict) -> list[Callback]:
    """The built-in callbacks, then the config's, in name order."""
    callbacks = [CALLBACKS.get(name)() for name in BUILT_IN]
    for name, section in run_config.training.callbacks.items():
        callbacks.append(CALLBACKS.get(name)(section))
    return callbacks


__all__ = ["BUILT_IN", "CALLBACKS", "Callback", "Run", "StepContext", "callback_config",
           "make_callbacks"]
