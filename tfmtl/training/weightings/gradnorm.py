"""GradNorm (Chen et al. 2018): weights learned so that the tasks' weighted gradient norms
follow their relative training rates."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, Weighting, global_losses, state_variable


@WEIGHTINGS.register("gradnorm")
class GradNorm(Weighting):
    """The shared variables move along ``sum_i w_i g_i``, ``g_i`` task ``i``'s gradient
    on them. With ``G_i = w_i ||g_i||``, ``L~_i = L_i / L_i(0)`` (the loss relative to the
    first step's) and ``r_i = L~_i / mean(L~)``, the weights then take one gradient-descent
    step (learning rate ``lr``) on ``sum_i |G_i - mean(G) r_i^alpha|``, the targets held
    constant, and are scaled back to sum to ``K`` (the number of tasks): a task whose loss
    falls slower than the others' gets a larger gradient. The weights start at 1; the step
    uses them before their update. Each task's own variables follow its own loss.

    The norms are taken over all the shared variables (as LibMTL does), not the paper's
    last shared layer, which a multi-task model here need not have; a variable a task does
    not reach adds nothing to its norm. The gradients are the all-reduced ones and the
    losses the global ones, so every replica takes the same step. The weights, the first
    step's losses and the step count are checkpointed. With ``gradients="representation"``
    the norms are those of the tasks' gradients on the shared encoder's output (close to
    the paper's last shared layer, without its weight gradients), and the shared
    variables follow ``sum_i w_i L_i``. As in the paper, nothing keeps a weight positive:
    with too large an ``lr`` one can cross zero.

    Reference:
        Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization for
        Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018.
    """

    needs_gradients = True
    gradient_modes = ("exact", "representation")

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.alpha = 1.5  # Strength of the pull towards equal training rates (0: equal norms).
        c.lr = 0.025  # Learning rate of the weights' gradient descent.
        return c

    @classmethod
    def check_config(cls, config, key):
        if not config.alpha >= 0:
            raise ConfigError(f"{key}.alpha", f"must be >= 0, got {config.alpha}")
        if not config.lr > 0:
            raise ConfigError(f"{key}.lr", f"must be > 0, got {config.lr}")

    def build(self):
        k = len(self.task_names)

        state = state_variable

        self.weights = state("weights", tf.ones([k]))
        self.initial = state("initial", tf.ones([k]))  # The first step's losses L_i(0).
        self.steps = state("steps", 0, tf.int64)

    def combine_gradients(self, losses, gradients):
        # IndexedSlices (embedding lookups) made dense: repeated rows add up.
        per_task = [[None if g is None else tf.convert_to_tensor(g) for g in gradients[name]]
                    for name in self.task_names]
        norms = tf.stack([tf.sqrt(tf.add_n([tf.constant(0.0)] + [
            tf.reduce_sum(tf.square(g)) for g in grads if g is not None]))
            for grads in per_task])
        weights = self._update(norms, losses)
        direction = []
        for j in range(len(per_task[0])):
            terms = [weights[i] * grads[j] for i, grads in enumerate(per_task)
                     if grads[j] is not None]
            direction.append(tf.add_n(terms) if terms else None)
        return direction

    def representation_alpha(self, gram, losses):
        norms = tf.cast(tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 0.0)), tf.float32)
        return self._update(norms, losses)

    def _update(self, norms, losses):
        """Takes the weights' step from the tasks' gradient `norms`; returns the weights
        before it (those this step uses)."""
        k = len(self.task_names)
        values = tf.stack(global_losses(losses, self.task_names))
        initial = tf.where(self.steps == 0, values, self.initial)
        relative = values / tf.maximum(initial, 1e-12)
        rates = tf.math.divide_no_nan(relative, tf.reduce_mean(relative))
        weights = tf.convert_to_tensor(self.weights)
        norms_weighted = weights * norms
        target = tf.reduce_mean(norms_weighted) * rates ** self.config.alpha
        # d/dw_i of sum_j |w_j ||g_j|| - target_j|, the targets constant.
        updated = weights - self.config.lr * tf.sign(norms_weighted - target) * norms
        self.weights.assign(updated * k / tf.reduce_sum(updated))
        self.initial.assign(initial)
        self.steps.assign_add(1)
        return weights

    def metrics(self):
        return {f"{name}/weight": self.weights[i] for i, name in enumerate(self.task_names)}
