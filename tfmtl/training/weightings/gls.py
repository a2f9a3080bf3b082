"""Geometric loss strategy (Chennupati et al. 2019): the geometric mean of the losses."""

import tensorflow as tf

from tfmtl.training.weightings import WEIGHTINGS, Weighting, global_losses


@WEIGHTINGS.register("gls")
class GeometricLoss(Weighting):
    """``(prod_i L_i)^(1/K)``: its gradient ``G / K * sum_i grad L_i / L_i`` (``G`` the
    geometric mean) weights each task by the inverse of its loss, so no task's scale
    dominates.

    Computed as ``G * mean_i(L_i / stop_gradient(L_i))`` from the tasks' global losses
    (all-reduced over replicas), which has that value and that gradient on one replica
    as on many.

    Reference:
        Chennupati, Sistu, Yogamani and Rawashdeh, "MultiNet++: Multi-Stream Feature
        Aggregation and Geometric Loss Strategy for Multi-Task Learning", CVPR Workshops
        2019.
    """

    def build(self):
        self.weights = {name: tf.Variable(1.0, trainable=False, name=f"weight_{name}",
                                          aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                        for name in self.task_names}

    def combine(self, losses):
        values = global_losses(losses, self.task_names)
        floor = [tf.maximum(v, 1e-12) for v in values]
        geometric = tf.exp(tf.add_n([tf.math.log(v) for v in floor]) / len(floor))
        total = 0.0
        for name, value in zip(self.task_names, floor, strict=True):
            weight = geometric / (len(floor) * value)
            self.weights[name].assign(weight)
            total += weight * losses[name]
        return total

    def metrics(self):
        return {f"{name}/weight": w for name, w in self.weights.items()}
