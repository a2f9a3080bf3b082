"""Standardizing features by running (not batch) statistics."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class RunningStandardization(keras.layers.Layer):
    """Scales [batch, dim] features to zero mean and unit variance per dimension, by
    statistics averaged over the batches seen in training, in training as in inference.

    Unlike batch normalization, a training batch is standardized by the running
    statistics (updated with that batch first), never by its own: when every batch
    comes from one corpus (the sampled step), the batch's own mean would remove just
    what tells the corpora apart. The statistics are constants to the gradient, so
    features shrunk along a dimension are scaled back up once the statistics follow:
    what reads them sees each dimension on the scale a fresh standardized probe does.

    Args:
        momentum: weight of the old statistics in each update (0.99: about the last
            100 batches).
        epsilon: added to the variance; small, so that a dimension shrunk to a
            hundredth of its scale is still read at its full scale.
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        shape = (input_shape[-1],)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer="zeros", trainable=False,
                                           autocast=False, aggregation="mean")
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer="ones", trainable=False,
                                               autocast=False, aggregation="mean")
        # Batches seen: the first one sets the statistics rather than moving them
        # from their initial values. Replicas' updates are averaged (aggregation).
        self.count = self.add_weight(shape=(), name="count", initializer="zeros",
                                     trainable=False, autocast=False,
                                     aggregation="mean")

    def call(self, inputs, training=False):
        mean = ops.cast(self.moving_mean, inputs.dtype)
        variance = ops.cast(self.moving_variance, inputs.dtype)
        if training:
            batch = ops.stop_gradient(inputs)
            batch_mean = ops.mean(batch, axis=0)
            batch_variance = ops.var(batch, axis=0)
            momentum = ops.where(self.count > 0, self.momentum, 0.0)
            mean = mean * momentum + batch_mean * (1.0 - momentum)
            variance = variance * momentum + batch_variance * (1.0 - momentum)
            self.moving_mean.assign(ops.cast(mean, self.moving_mean.dtype))
            self.moving_variance.assign(ops.cast(variance, self.moving_variance.dtype))
            self.count.assign(self.count + 1.0)
        return (inputs - mean) * ops.rsqrt(variance + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
