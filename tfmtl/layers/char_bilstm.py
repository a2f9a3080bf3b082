"""Character BiLSTM word features (Plank et al. 2016)."""

import keras
from keras import ops

from tfmtl.layers.lstm import make_bidirectional


@keras.saving.register_keras_serializable(package="tfmtl")
class CharBiLSTM(keras.layers.Layer):
    """A word's characters -> embeddings -> BiLSTM -> both final states.

    Input: int [batch, time, chars] character ids (0 = padding). Output:
    float [batch, time, 2 * units]; all-zero for padding words.

    Args:
        vocab_size: character vocabulary size (id 0 is padding).
        dim: character embedding size.
        units: LSTM units per direction.
        lstm: LSTM implementation name (see tfmtl.layers.lstm).

    Reference:
        Plank, Søgaard and Goldberg, "Multilingual part-of-speech tagging with
        bidirectional LSTM models and auxiliary loss", ACL 2016.
    """

    def __init__(self, vocab_size: int, dim: int, units: int, lstm: str = "keras", **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.dim = dim
        self.units = units
        self.lstm = lstm
        self.embedding = keras.layers.Embedding(vocab_size, dim, name="char_embedding")
        self.bilstm = make_bidirectional(lstm, units, return_sequences=False,
                                         name="char_bilstm", lstm_name="char_lstm")

    def build(self, input_shape):
        self.embedding.build((None, None))
        self.bilstm.build((None, None, self.dim))

    def call(self, chars):
        shape = ops.shape(chars)
        flat = ops.reshape(chars, (-1, shape[2]))
        mask = ops.not_equal(flat, 0)
        h = self.bilstm(self.embedding(flat), mask=mask)
        h = ops.where(ops.any(mask, axis=1, keepdims=True), h, ops.zeros_like(h))
        return ops.reshape(h, (shape[0], shape[1], 2 * self.units))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim,
                "units": self.units, "lstm": self.lstm}
