"""Character CNN word features."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class CharCNN(keras.layers.Layer):
    """A word's characters -> embeddings -> convolution -> max over characters.

    Input: int [batch, time, chars] character ids (0 = padding). Output:
    float [batch, time, filters]; all-zero for padding words.

    Args:
        vocab_size: character vocabulary size (id 0 is padding).
        dim: character embedding size.
        filters: convolution filters (output size).
        width: convolution width in characters.
    """

    def __init__(self, vocab_size: int, dim: int, filters: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.dim = dim
        self.filters = filters
        self.width = width
        self.embedding = keras.layers.Embedding(vocab_size, dim, name="char_embedding")
        self.conv = keras.layers.Conv1D(filters, width, padding="same", activation="tanh",
                                        name="char_conv")

    def build(self, input_shape):
        self.embedding.build((None, None))
        self.conv.build((None, None, self.dim))

    def call(self, chars):
        shape = ops.shape(chars)
        flat = ops.reshape(chars, (-1, shape[2]))
        real = ops.expand_dims(ops.not_equal(flat, 0), -1)
        h = self.conv(self.embedding(flat))
        h = ops.where(real, h, ops.cast(-2.0, h.dtype))  # Below tanh's range: never the max.
        pooled = ops.max(h, axis=1)
        pooled = ops.where(ops.any(real, axis=1), pooled, ops.zeros_like(pooled))
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim,
                "filters": self.filters, "width": self.width}
