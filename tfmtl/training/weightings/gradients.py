"""The base of the gradient weightings that combine the tasks' gradients linearly.

PCGrad, MGDA, IMTL-G, CAGrad, Aligned-MTL and Nash-MTL all return a direction
``d = sum_i alpha_i g_i`` whose coefficients depend on the task gradients only
through their Gram matrix ``M = G G^T`` (``M_ij = g_i . g_j`` over every shared
variable; PCGrad's projections too, tracked as coefficients). So the step
computes ``M`` (K x K, one product per shared variable), each method solves
for ``alpha`` in float64 on that small matrix, and the direction is one weighted
sum per variable: no flattened copy of the gradients, no host solver.

The gradients are the all-reduced ones, so every replica computes the same
``M`` and the same ``alpha``. A shared variable that a task does not reach
(``None``: soft sharing's other columns) counts as a zero gradient for it, so
the methods act on one vector over all the shared variables; with nothing
shared between two tasks their gradients are orthogonal, and what each method
does with orthogonal gradients applies (MGDA, for one, then weights the smaller
gradient more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import tensorflow as tf

from tfmtl.training.weightings import Weighting, state_variable


def gram_matrix(gradients: Mapping[str, list], names: Sequence[str]) -> tf.Tensor:
    """``M_ij = g_i . g_j`` (float64) over every shared variable; None counts as zero."""
    k = len(names)
    total = tf.zeros([k, k], tf.float64)
    for i in range(len(gradients[names[0]])):
        rows = [gradients[n][i] for n in names]
        if all(g is None for g in rows):
            continue
        like = next(g for g in rows if g is not None)
        dense = [tf.reshape(tf.convert_to_tensor(g if g is not None else tf.zeros_like(
            tf.convert_to_tensor(like))), [-1]) for g in rows]
        stacked = tf.cast(tf.stack(dense), tf.float64)
        total += tf.linalg.matmul(stacked, stacked, transpose_b=True)
    return total


def combination(gradients: Mapping[str, list], names: Sequence[str], alpha: tf.Tensor) -> list:
    """``sum_i alpha_i g_i`` per shared variable (None where no task has a gradient)."""
    alpha = tf.cast(alpha, tf.float32)
    out = []
    for i in range(len(gradients[names[0]])):
        terms = [alpha[t] * tf.convert_to_tensor(gradients[n][i])
                 for t, n in enumerate(names) if gradients[n][i] is not None]
        out.append(tf.add_n(terms) if terms else None)
    return out


def project_to_simplex(v: tf.Tensor) -> tf.Tensor:
    """The Euclidean projection of `v` (K) onto the probability simplex (Duchi et al. 2008)."""
    k = tf.shape(v)[0]
    u = tf.sort(v, direction="DESCENDING")
    cumulative = tf.cumsum(u) - 1.0
    index = tf.cast(tf.range(1, k + 1), v.dtype)
    positive = tf.cast(u - cumulative / index > 0, tf.int32)
    rho = tf.reduce_sum(positive)  # >= 1 always.
    theta = cumulative[rho - 1] / tf.cast(rho, v.dtype)
    return tf.maximum(v - theta, 0.0)


def minimize_on_simplex(value_fn, gradient_fn, k: int, lipschitz: tf.Tensor,
                        iterations: int) -> tf.Tensor:
    """Minimises a convex function on the simplex of dimension `k` in float64 by FISTA
    with backtracking (Beck and Teboulle 2009) and adaptive restart (O'Donoghue and
    Candes 2015), a fixed number of iterations: `value_fn(w)` and `gradient_fn(w)` the
    function and its gradient, `lipschitz` a first estimate of the gradient's Lipschitz
    constant (doubled while a step fails the sufficient-decrease test)."""
    w0 = tf.fill([k], tf.constant(1.0 / k, tf.float64))

    def proximal(y, lip):
        return project_to_simplex(y - gradient_fn(y) / lip)

    def decreases(y, x, lip):
        d = x - y
        bound = value_fn(y) + tf.reduce_sum(gradient_fn(y) * d) + 0.5 * lip * tf.reduce_sum(
            d * d)
        return value_fn(x) <= bound + 1e-15 * tf.abs(bound)

    def body(i, w, y, t, lip):
        lip = tf.while_loop(
            lambda lp: tf.logical_not(decreases(y, proximal(y, lp), lp)) & (lp < 1e300),
            lambda lp: [lp * 2.0], [lip], maximum_iterations=100)[0]
        w_next = proximal(y, lip)
        t_next = 0.5 * (1.0 + tf.sqrt(1.0 + 4.0 * t * t))
        uphill = value_fn(w_next) > value_fn(w)
        y_next = tf.where(uphill, w_next, w_next + (t - 1.0) / t_next * (w_next - w))
        t_next = tf.where(uphill, tf.constant(1.0, tf.float64), t_next)
        return i + 1, w_next, y_next, t_next, lip

    lipschitz = tf.maximum(tf.cast(lipschitz, tf.float64), 1e-300)
    _, w, _, _, _ = tf.while_loop(
        lambda i, *_: i < iterations, body,
        (tf.constant(0), w0, w0, tf.constant(1.0, tf.float64), lipschitz))
    return w


class GramWeighting(Weighting):
    """A gradient weighting whose direction is ``sum_i alpha_i g_i`` with ``alpha`` a
    function of the Gram matrix (and the weighting's state): subclasses implement
    :meth:`alpha`. Logs each task's coefficient (``NAME/weight``) and the cosine
    similarity of every pair of task gradients (``cosine/A/B``)."""

    needs_gradients = True

    def build(self):
        k = len(self.task_names)
        self.weights = state_variable("weights", tf.ones([k]))
        self.cosines = state_variable("cosines", tf.zeros([max(k * (k - 1) // 2, 1)]))
        self.step = state_variable("step", 0, tf.int64)

    def alpha(self, gram: tf.Tensor, losses) -> tf.Tensor:
        """The coefficients (float64, K) of the task gradients, from their Gram matrix (and
        the tasks' losses, for a method that reads them)."""
        raise NotImplementedError

    def combine_gradients(self, losses, gradients):
        gram = gram_matrix(gradients, self.task_names)
        return combination(gradients, self.task_names, self._solve(gram, losses))

    def representation_alpha(self, gram, losses):
        return self._solve(gram, losses)

    def _solve(self, gram, losses):
        """``alpha`` from the Gram matrix, the logged weights and cosines updated."""
        alpha = self.alpha(gram, losses)
        self.weights.assign(tf.cast(alpha, tf.float32))
        norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 1e-300))
        cosine = gram / (norms[:, None] * norms[None, :])
        pairs = list(combinations(range(len(self.task_names)), 2))
        if pairs:
            self.cosines.assign(tf.cast(tf.stack([cosine[i, j] for i, j in pairs]),
                                        tf.float32))
        self.step.assign_add(1)
        return alpha

    def metrics(self):
        out = {f"{name}/weight": self.weights[i] for i, name in enumerate(self.task_names)}
        pairs = combinations(range(len(self.task_names)), 2)
        for p, (i, j) in enumerate(pairs):
            out[f"cosine/{self.task_names[i]}/{self.task_names[j]}"] = self.cosines[p]
        return out


__all__ = ["GramWeighting", "combination", "gram_matrix", "minimize_on_simplex",
           "project_to_simplex"]
