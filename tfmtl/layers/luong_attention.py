"""Luong et al. (2015)'s global attention: the attentional hidden state of a decoder."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfmtl")
class LuongAttention(keras.layers.Layer):
    """``h~_t = tanh(W_c [c_t; h_t])`` with ``c_t`` the source states averaged by
    ``softmax_s score(h_t, h_s)`` over the source's real tokens.

    Called on ``(queries, memory)`` with ``memory_mask``: queries [batch, time, d] (the
    decoder's top-layer outputs, every target position at once) or [batch, d] (one
    step), memory [batch, source, d_s] (the encoder's outputs). Returns the attentional
    states ([batch, time, units] or [batch, units]) and the attention weights
    ([batch, time, source] or [batch, source]).

    Args:
        score: "dot" (``h_t . h_s``: ``d`` must equal ``d_s``) or "general"
            (``h_t W_a h_s``).
        units: size of the attentional state.

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural Machine
        Translation", EMNLP 2015 (section 3.1, global attention).
    """

    SCORES = ("dot", "general")

    def __init__(self, score: str = "general", units: int = 0, **kwargs):
        super().__init__(**kwargs)
        if score not in self.SCORES:
            raise ValueError(f"score must be one of {self.SCORES}, got {score!r}")
        if units <= 0:
            raise ValueError(f"units must be > 0, got {units}")
        self.score = score
        self.units = units
        # Queries may carry a Keras mask (an LSTM's outputs); it is not passed on: the
        # caller holds its target mask.
        self.supports_masking = True

    def build(self, queries_shape, memory_shape):
        query_dim, memory_dim = queries_shape[-1], memory_shape[-1]
        if self.score == "dot" and query_dim != memory_dim:
            raise ValueError(f"dot attention needs queries as wide as the memory, got "
                             f"{query_dim} and {memory_dim}: use score='general'")
        if self.score == "general":
            self.score_kernel = self.add_weight(shape=(query_dim, memory_dim),
                                                name="score_kernel",
                                                initializer="glorot_uniform")
        self.output_kernel = self.add_weight(shape=(memory_dim + query_dim, self.units),
                                             name="output_kernel",
                                             initializer="glorot_uniform")

    def call(self, queries, memory, memory_mask=None):
        single = len(queries.shape) == 2
        if single:
            queries = ops.expand_dims(queries, 1)
        keys = queries if self.score == "dot" else ops.matmul(queries, self.score_kernel)
        scores = ops.einsum("btd,bsd->bts", keys, memory)
        if memory_mask is not None:
            scores = ops.where(ops.expand_dims(memory_mask, 1), scores,
                               ops.cast(-1e9, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        context = ops.einsum("bts,bsd->btd", weights, memory)
        attentional = ops.tanh(ops.matmul(ops.concatenate([context, queries], -1),
                                          self.output_kernel))
        if single:
            return attentional[:, 0], weights[:, 0]
        return attentional, weights

    def compute_mask(self, queries, memory, memory_mask=None, previous_mask=None):
        return [None, None]

    def compute_output_shape(self, queries_shape, memory_shape):
        return ((*queries_shape[:-1], self.units), (*queries_shape[:-1], memory_shape[1]))

    def get_config(self):
        return {**super().get_config(), "score": self.score, "units": self.units}
