"""Word dropout: replacing training words by the OOV id."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class WordDropout(keras.layers.Layer):
    """Replaces each real word id by `oov_id` with probability `rate` in training.

    This teaches the model to use character features and context for words it
    has not seen (Plank et al. 2016). Padding (id 0) is never replaced.

    Args:
        rate: replacement probability.
        oov_id: the id that replaces dropped words.
        seed: seed of the layer's random generator.
    """

    def __init__(self, rate: float, oov_id: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.oov_id = oov_id
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, word_ids, training=False):
        if not training or self.rate <= 0:
            return word_ids
        draw = keras.random.uniform(ops.shape(word_ids), seed=self.seed_generator)
        drop = ops.logical_and(draw < self.rate, ops.not_equal(word_ids, 0))
        return ops.where(drop, ops.cast(self.oov_id, word_ids.dtype), word_ids)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "oov_id": self.oov_id,
                "seed": self.seed}
