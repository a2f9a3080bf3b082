"""Nash-MTL (Navon et al. 2022): the update as the Nash bargaining solution of the tasks."""

import ml_collections
import tensorflow as tf

from tfmtl.config import ConfigError
from tfmtl.training.weightings import WEIGHTINGS, state_variable
from tfmtl.training.weightings.gradients import GramWeighting

RIDGE = 1e-6  # Added to the normalized Gram matrix's diagonal, so a zero gradient's task
# has a finite weight (its gradient contributes nothing whatever its weight).


def nash_alpha(gram: tf.Tensor, start: tf.Tensor, iterations: int) -> tf.Tensor:
    """The positive solution of ``(G G^T) alpha = 1 / alpha`` for ``G G^T`` normalized
    by its Frobenius norm (as the reference code does): the unique minimiser of the
    strictly convex ``0.5 a^T M a - sum_i log a_i``, found by `iterations` damped Newton
    steps from `start` (the last step's solution: a warm start)."""
    k = gram.shape[0]
    m = gram / tf.maximum(tf.norm(gram), 1e-300) + RIDGE * tf.eye(k, dtype=tf.float64)

    def body(i, a):
        gradient = tf.linalg.matvec(m, a) - 1.0 / a
        hessian = m + tf.linalg.diag(1.0 / (a * a))
        delta = tf.linalg.solve(hessian, gradient[:, None])[:, 0]
        # Stay inside a > 0: at most 99% of the way to the boundary.
        one = tf.constant(1.0, tf.float64)
        room = tf.where(delta > 0.0, a / tf.where(delta > 0.0, delta, one),
                        tf.constant(float("inf"), tf.float64))
        step = tf.minimum(one, 0.99 * tf.reduce_min(room))
        return i + 1, a - step * delta

    start = tf.where(start > 0.0, start, 1.0)
    _, a = tf.while_loop(lambda i, _: i < iterations, body, (tf.constant(0), start))
    return a


@WEIGHTINGS.register("nash_mtl")
class NashMTL(GramWeighting):
    """Multi-task learning as a bargaining game: the update ``d = sum_i alpha_i g_i``
    with ``(G G^T) alpha = 1 / alpha`` (each task's improvement ``g_i . d`` is
    ``1 / alpha_i``: the Nash bargaining solution within a ball). Solved in graph by
    damped Newton steps on the K x K Gram matrix, warm-started from the last solution
    (checkpointed state); the weights are recomputed every ``update_every`` steps (the
    reference code's ``update_weights_every``) and the update's norm is clipped to
    ``max_norm`` (0: not clipped; the reference code clips the shared gradients at 1).

    Reference:
        Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik and Fetaya, "Multi-Task
        Learning as a Bargaining Game", ICML 2022.
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.update_every = 1  # Steps between recomputations of the weights.
        c.max_norm = 1.0  # Clip the update's norm to this (0: no clipping).
        c.iterations = 20  # Newton steps per solve.
        return c

    @classmethod
    def check_config(cls, config, key):
        for name in ("update_every", "iterations"):
            value = config[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{key}.{name}", f"an integer >= 1, got {value!r}")
        if not isinstance(config.max_norm, (int, float)) or config.max_norm < 0:
            raise ConfigError(f"{key}.max_norm", f"a number >= 0, got {config.max_norm!r}")

    def build(self):
        super().build()
        self.solution = state_variable("solution", tf.ones([len(self.task_names)], tf.float64),
                                       tf.float64)

    def alpha(self, gram, losses):
        due = tf.equal(self.step % int(self.config.update_every), 0)
        solution = tf.cond(due, lambda: nash_alpha(gram, self.solution,
                                                   int(self.config.iterations)),
                           lambda: tf.identity(self.solution))
        self.solution.assign(solution)
        alpha = solution
        if self.config.max_norm > 0:
            norm = tf.sqrt(tf.maximum(tf.tensordot(alpha, tf.linalg.matvec(gram, alpha), 1),
                                      0.0))
            alpha *= tf.minimum(tf.constant(1.0, tf.float64),
                                float(self.config.max_norm) / tf.maximum(norm, 1e-300))
        return alpha
