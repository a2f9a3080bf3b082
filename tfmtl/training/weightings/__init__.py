"""Loss weightings: how the ``all`` step combines the tasks' losses (or gradients).

A weighting sees, at every ``all`` step, each task's loss (its named losses
summed, each the global mean over the step's batch) and returns the loss to
minimise; one that declares ``needs_gradients`` instead combines the tasks'
gradients on the shared variables (all-reduced over replicas first). One that
declares ``needs_reevaluation`` also sees, after the model's update, each
task's loss on the same batches again (:meth:`update_after_step`). Its
state is a set of ``tf.Variable``s it creates in :meth:`build`, saved with
every checkpoint. Add one by writing a module in this package:

    @WEIGHTINGS.register("mine")
    class Mine(Weighting):
        def combine(self, losses): ...

Its keys (``config.training.weighting.*`` besides ``type``) are its
:meth:`default_config`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ml_collections
import tensorflow as tf

from tfmtl.registry import Registry

WEIGHTINGS = Registry("weighting", "tfmtl.training.weightings")


class Weighting(tf.Module):
    """The base of weightings.

    Args:
        config: the ``config.training.weighting`` section.
        tasks: the tasks, in config order.
    """

    #: Whether :meth:`combine_gradients` (per-task gradients) replaces :meth:`combine`.
    needs_gradients = False
    #: Whether the ``all`` step, once the optimizer has applied the update, evaluates the
    #: tasks' losses again on the step's batches (forward only) and calls
    #: :meth:`update_after_step`.
    needs_reevaluation = False
    #: Whether it reads the tasks' ``loss_weight`` (a weight set with one that does not is a
    #: config error).
    reads_loss_weight = False
    #: For ``needs_gradients``: the gradient modes it takes (its ``gradients`` key):
    #: ``exact``, each task's gradient on the shared variables; ``representation``, each
    #: task's gradient on the shared encoder's output, from which :meth:`representation_alpha`
    #: makes the coefficients of the tasks' losses (see :mod:`tfmtl.training.steps`).
    gradient_modes: tuple[str, ...] = ("exact",)

    def __init__(self, config: ml_collections.ConfigDict, tasks: Sequence):
        super().__init__(name=f"weighting_{config.type}")
        self.config = config
        self.task_names = [task.name for task in tasks]
        self.tasks = {task.name: task for task in tasks}

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """The weighting's own keys; none by default."""
        return ml_collections.ConfigDict()

    @classmethod
    def schema(cls) -> ml_collections.ConfigDict:
        """Every key of ``config.training.weighting`` besides ``type``: its
        :meth:`default_config`, and for a gradient weighting the gradient mode."""
        config = cls.default_config()
        if cls.needs_gradients:
            # "exact" (per-task gradients of the shared variables) or "representation" (of
            # the shared encoder's output; one backward pass through the encoder).
            config.gradients = "exact"
        return config

    @classmethod
    def check_config(cls, config: ml_collections.ConfigDict, key: str) -> None:
        """Checks the weighting's keys; raises ConfigError naming the key."""

    @property
    def gradient_mode(self) -> str:
        """``exact`` or ``representation`` (its ``gradients`` key; exact when absent)."""
        return self.config.get("gradients", "exact")

    def build(self) -> None:
        """Creates the state variables (called under the strategy's scope)."""

    def combine(self, losses: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """The loss to minimise from each task's loss (in replica context)."""
        raise NotImplementedError

    def combine_gradients(self, losses: Mapping[str, tf.Tensor],
                          gradients: Mapping[str, list]) -> list:
        """For ``needs_gradients``: the update direction of the shared variables from each
        task's (all-reduced) gradients on them; None entries are variables a task misses."""
        raise NotImplementedError

    def representation_alpha(self, gram: tf.Tensor, losses: Mapping[str, tf.Tensor]
                             ) -> tf.Tensor:
        """For the ``representation`` mode: the coefficients (K) of the tasks' losses for the
        shared variables, from the Gram matrix (float64, K x K, summed over replicas) of the
        tasks' gradients on the shared encoder's output."""
        raise NotImplementedError

    def update_after_step(self, losses_before: Mapping[str, tf.Tensor],
                          losses_after: Mapping[str, tf.Tensor]) -> None:
        """For ``needs_reevaluation``: updates the state from each task's loss on the step's
        batches before the model's update (what :meth:`combine` saw) and after it (in
        replica context; each, as in :meth:`combine`, this replica's share of the global
        mean: see :func:`global_losses`)."""
        raise NotImplementedError

    def metrics(self) -> dict[str, tf.Tensor]:
        """Scalars to log (task weights...), read after each step. Default: none."""
        return {}


def global_losses(losses: Mapping[str, tf.Tensor], names: Sequence[str]) -> list[tf.Tensor]:
    """The tasks' losses over the whole step's batch, as constants: each replica's loss is
    its share of the global mean, so their sum over replicas (the identity on one replica).
    What a weighting computes from them is then the same on every replica."""
    context = tf.distribute.get_replica_context()
    return [context.all_reduce(tf.distribute.ReduceOp.SUM, tf.stop_gradient(losses[name]))
            for name in names]


def state_variable(name: str, value, dtype=tf.float32) -> tf.Variable:
    """A weighting's non-trainable state: assigned in replica context with the same value
    on every replica (computed from global losses or all-reduced gradients), so the first
    replica's is kept; checkpointed with the weighting."""
    return tf.Variable(value, dtype=dtype, trainable=False, name=name,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)


def make_weighting(config: ml_collections.ConfigDict, tasks: Sequence) -> Weighting:
    return WEIGHTINGS.get(config.type)(config, tasks)


__all__ = ["WEIGHTINGS", "Weighting", "global_losses", "make_weighting", "state_variable"]
