"""Fast adaptive multitask optimization (Liu et al. 2023): weights that even out how fast
the tasks' log-losses fall."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, Weighting, global_losses, state_variable

EPSILON = 1e-8  # Added to every loss before its log (the official code's).
BETA_1, BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults.


@WEIGHTINGS.register("famo")
class FAMO(Weighting):
    """``sum_i z_i log(L_i + eps) / c`` with ``z = softmax(w)`` and ``c = sum_i z_i /
    (L_i + eps)`` held constant: the step follows ``sum_i z_i / (c (L_i + eps)) grad L_i``,
    which lowers every task's log-loss at a rate set by ``z``. After the model's update the
    ``all`` step takes the tasks' losses again on the same batches (``needs_reevaluation``);
    ``delta_i = log(L_i + eps) - log(L'_i + eps)`` is how much the update lowered task
    ``i``'s log-loss, and the logits ``w`` take one Adam step along
    ``J_softmax(w)^T delta``: the tasks that fell least gain weight.

    As the official code: ``w`` starts at 0 (equal weights), ``eps`` is 1e-8, each loss's
    minimum is taken as 0 (the paper's ``L_i - L_i*``; the losses here are
    cross-entropies), and the Adam step is ``torch.optim.Adam``'s (betas 0.9 and 0.999,
    epsilon 1e-8, bias correction) with L2 weight decay ``gamma`` added to the gradient.
    Its moments and step count are state, saved with the logits in every checkpoint.

    The losses it reads are the global ones (all-reduced over replicas), so every replica
    takes the same Adam step; the loss it returns has, summed over replicas, the value and
    the gradient above. ``<task>/weight`` is ``z_i``, the weight of the next step.

    Reference:
        Liu, Liu, Jin, Stone and Liu, "FAMO: Fast Adaptive Multitask Optimization",
        NeurIPS 2023.
    """

    needs_reevaluation = True

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.lr = 0.025  # Learning rate of the logits' Adam.
        c.gamma = 0.001  # L2 weight decay of the logits (pulls the weights to equal).
        return c

    @classmethod
    def check_config(cls, config, key):
        if not config.lr > 0:
            raise ConfigError(f"{key}.lr", f"must be > 0, got {config.lr}")
        if not config.gamma >= 0:
            raise ConfigError(f"{key}.gamma", f"must be >= 0, got {config.gamma}")

    def build(self):
        k = len(self.task_names)

        state = state_variable

        self.logits = state("logits", tf.zeros([k]))  # w; the weights are softmax(w).
        self.m = state("m", tf.zeros([k]))  # Adam's first moment ...
        self.v = state("v", tf.zeros([k]))  # ... and second moment of w's gradient.
        self.steps = state("steps", 0, tf.int64)  # Adam steps taken.

    def combine(self, losses):
        z = tf.nn.softmax(self.logits)
        shifted = tf.stack(global_losses(losses, self.task_names)) + EPSILON
        scale = z / tf.reduce_sum(z / shifted)  # z_i / c.
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        total = 0.0
        for i, name in enumerate(self.task_names):
            # Value z_i log(L_i + eps) / c over the replicas; gradient z_i / (c (L_i + eps)).
            total += scale[i] * (tf.math.log(shifted[i]) / replicas
                                 + (losses[name] - tf.stop_gradient(losses[name])) / shifted[i])
        return total

    def update_after_step(self, losses_before, losses_after):
        before = tf.stack(global_losses(losses_before, self.task_names))
        after = tf.stack(global_losses(losses_after, self.task_names))
        delta = tf.math.log(before + EPSILON) - tf.math.log(after + EPSILON)
        logits = tf.convert_to_tensor(self.logits)
        z = tf.nn.softmax(logits)
        # J^T delta, with J = diag(z) - z z^T the softmax's (symmetric) Jacobian.
        grad = z * (delta - tf.reduce_sum(z * delta)) + self.config.gamma * logits
        m = BETA_1 * self.m + (1.0 - BETA_1) * grad
        v = BETA_2 * self.v + (1.0 - BETA_2) * tf.square(grad)
        t = tf.cast(self.steps + 1, tf.float32)
        step_size = self.config.lr / (1.0 - tf.pow(BETA_1, t))
        denominator = tf.sqrt(v) / tf.sqrt(1.0 - tf.pow(BETA_2, t)) + ADAM_EPSILON
        self.logits.assign(logits - step_size * m / denominator)
        self.m.assign(m)
        self.v.assign(v)
        self.steps.assign_add(1)

    def metrics(self):
        z = tf.nn.softmax(self.logits)
        return {f"{name}/weight": z[i] for i, name in enumerate(self.task_names)}
