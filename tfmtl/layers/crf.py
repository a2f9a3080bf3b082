"""A linear-chain CRF output: its parameters as a Keras layer, its likelihood and Viterbi decoding.

Written on TensorFlow's stock ops (``tf.scan`` over time, no custom kernel), so a SavedModel
with a CRF head still loads in stock TF Serving. TensorFlow Addons' CRF, the usual choice, is
unmaintained.

Reference:
    Lafferty, McCallum and Pereira, "Conditional random fields", ICML 2001; as an output layer
    over a BiLSTM: Lample, Ballesteros, Subramanian, Kawakami and Dyer, "Neural architectures
    for named entity recognition", NAACL 2016.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfmtl.layers.precision import float32_under_mixed_policy


@keras.saving.register_keras_serializable(package="tfmtl")
class CRF(keras.layers.Layer):
    """The parameters of a linear-chain CRF over ``num_tags`` labels.

    Calling it on emissions ``[batch, time, num_tags]`` returns the parameters
    broadcast over the batch, ``[batch, num_tags + 2, num_tags]``: rows
    ``0..K-1`` the transition scores ``from -> to``, row ``K`` the start
    scores, row ``K + 1`` the end scores. Passing them out of the model as a
    head output keeps the likelihood (:func:`crf_log_likelihood`) and the
    decoding (:func:`crf_decode`) plain functions of the head's outputs.

    Args:
        num_tags: the number of labels K.
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**float32_under_mixed_policy(kwargs))
        self.supports_masking = True  # Takes the masked emissions; returns no mask.
        if num_tags < 1:
            raise ValueError(f"num_tags must be at least 1, got {num_tags}")
        self.num_tags = num_tags

    def build(self, input_shape):
        self.parameters = self.add_weight(
            name="parameters", shape=(self.num_tags + 2, self.num_tags),
            initializer="zeros", trainable=True)

    def call(self, emissions):
        batch = tf.shape(emissions)[0]
        parameters = tf.cast(self.parameters, emissions.dtype)
        return tf.broadcast_to(parameters[None], tf.stack([batch, self.num_tags + 2,
                                                           self.num_tags]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_tags + 2, self.num_tags)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}


def _split(parameters):
    """Transitions [K, K], start [K] and end [K] of one batch row of :class:`CRF`'s output."""
    num_tags = parameters.shape[-1]
    if num_tags is None:
        num_tags = tf.shape(parameters)[-1]
    return parameters[0, :num_tags], parameters[0, num_tags], parameters[0, num_tags + 1]


def crf_log_likelihood(emissions, tags, lengths, parameters):
    """The log-probability of each sentence's tag sequence under the CRF.

    Args:
        emissions: float [B, T, K], the per-token label scores.
        tags: int [B, T], the gold labels (any value past a sentence's length).
        lengths: int [B], each sentence's length (0 allowed: its log-likelihood is 0).
        parameters: :class:`CRF`'s output, [B, K + 2, K].

    Returns:
        float [B]: ``score(tags) - log Z``, 0 for empty sentences.
    """
    transitions, start, end = _split(parameters)
    lengths = tf.cast(lengths, tf.int32)
    emissions = _at_least_one_step(emissions)
    time = tf.shape(emissions)[1]
    tags = tf.cast(tags, tf.int32)
    tags = tf.pad(tags, [[0, 0], [0, time - tf.shape(tags)[1]]])
    mask = tf.sequence_mask(lengths, time, dtype=emissions.dtype)
    safe_tags = tf.where(mask > 0, tags, 0)
    # The gold path's score: emissions, start, transitions between real tokens, end.
    emitted = tf.reduce_sum(tf.gather(emissions, safe_tags, batch_dims=2) * mask, axis=1)
    first = tf.gather(start, safe_tags[:, 0])
    last_index = tf.maximum(lengths - 1, 0)
    last = tf.gather(end, tf.gather(safe_tags, last_index, batch_dims=1))
    pairs = tf.gather_nd(transitions, tf.stack([safe_tags[:, :-1], safe_tags[:, 1:]], axis=-1))
    moved = tf.reduce_sum(pairs * mask[:, 1:], axis=1)
    nonempty = tf.cast(lengths > 0, emissions.dtype)
    gold = (emitted + first + last + moved) * nonempty
    return gold - _log_partition(emissions, mask, transitions, start, end) * nonempty


def _log_partition(emissions, mask, transitions, start, end):
    """log Z per sentence by the forward algorithm (padding positions carry alpha unchanged)."""
    alpha = _alphas(emissions, mask, transitions, start)[-1]
    return tf.reduce_logsumexp(alpha + end[None], axis=1)


def crf_marginals(emissions, lengths, parameters):
    """Each token's label marginals ``p(y_t = k | sentence)`` (forward-backward), in graph.

    Args:
        emissions: float [B, T, K].
        lengths: int [B].
        parameters: :class:`CRF`'s output, [B, K + 2, K].

    Returns:
        float [B, T, K]: rows sum to 1 on real tokens; 0 past each sentence's length.
    """
    transitions, start, end = _split(parameters)
    lengths = tf.cast(lengths, tf.int32)
    time = tf.shape(emissions)[1]
    emissions = _at_least_one_step(emissions)
    padded_time = tf.shape(emissions)[1]
    mask = tf.sequence_mask(lengths, padded_time, dtype=emissions.dtype)
    alphas = _alphas(emissions, mask, transitions, start)  # [T, B, K]
    log_z = tf.reduce_logsumexp(
        tf.gather(tf.transpose(alphas, [1, 0, 2]), tf.maximum(lengths - 1, 0), batch_dims=1)
        + end[None], axis=1)
    ends = tf.broadcast_to(end[None], tf.shape(emissions[:, 0]))
    later = (tf.transpose(emissions[:, 1:], [1, 0, 2]), tf.transpose(mask[:, 1:]))

    def step(beta, inputs):
        emission, valid = inputs  # Of the token after the one whose beta this is.
        moved = tf.reduce_logsumexp(transitions[None] + (emission + beta)[:, None, :], axis=2)
        return tf.where(valid[:, None] > 0, moved, ends)

    betas = tf.cond(padded_time > 1,
                    lambda: tf.concat([tf.scan(step, later, initializer=ends, reverse=True),
                                       ends[None]], axis=0),
                    lambda: ends[None])
    marginals = tf.exp(alphas + betas - log_z[None, :, None])
    return (tf.transpose(marginals, [1, 0, 2]) * mask[:, :, None])[:, :time]


def _alphas(emissions, mask, transitions, start):
    """The forward scores of every position, time-major [T, B, K] (carried through padding)."""
    alpha = start[None] + emissions[:, 0]
    steps = (tf.transpose(emissions[:, 1:], [1, 0, 2]), tf.transpose(mask[:, 1:]))

    def step(alpha, inputs):
        emission, valid = inputs
        moved = tf.reduce_logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emission
        return tf.where(valid[:, None] > 0, moved, alpha)

    return tf.cond(tf.shape(emissions)[1] > 1,
                   lambda: tf.concat([alpha[None], tf.scan(step, steps, initializer=alpha)],
                                     axis=0),
                   lambda: alpha[None])


def crf_decode(emissions, lengths, parameters):
    """The highest-scoring tag sequence of each sentence (Viterbi), in graph.

    Args:
        emissions: float [B, T, K].
        lengths: int [B].
        parameters: :class:`CRF`'s output, [B, K + 2, K].

    Returns:
        int32 [B, T]: the best tags, 0 past each sentence's length.
    """
    transitions, start, end = _split(parameters)
    lengths = tf.cast(lengths, tf.int32)
    time = tf.shape(emissions)[1]
    emissions = _at_least_one_step(emissions)
    padded_time = tf.shape(emissions)[1]
    mask = tf.sequence_mask(lengths, padded_time)
    identity = tf.broadcast_to(tf.range(tf.shape(emissions)[2])[None], tf.shape(emissions[:, 0]))
    delta = start[None] + emissions[:, 0]
    steps = (tf.transpose(emissions[:, 1:], [1, 0, 2]), tf.transpose(mask[:, 1:]))

    def forward(carry, inputs):
        delta, _ = carry
        emission, valid = inputs
        scores = delta[:, :, None] + transitions[None]  # [B, from, to]
        best = tf.argmax(scores, axis=1, output_type=tf.int32)
        moved = tf.reduce_max(scores, axis=1) + emission
        # Past the end the score stays and the back-pointer is the identity, so the
        # backtrack carries the last real token's label through the padding.
        return tf.where(valid[:, None], moved, delta), tf.where(valid[:, None], best, identity)

    def backward(label, pointer):
        return tf.gather(pointer, label, batch_dims=1)

    def longer():
        deltas, pointers = tf.scan(forward, steps, initializer=(delta, identity))
        best_last = tf.argmax(deltas[-1] + end[None], axis=1, output_type=tf.int32)
        earlier = tf.scan(backward, pointers, initializer=best_last, reverse=True)  # [T-1, B]
        return tf.concat([earlier, best_last[None]], axis=0)

    def one():
        return tf.argmax(delta + end[None], axis=1, output_type=tf.int32)[None]

    path = tf.transpose(tf.cond(padded_time > 1, longer, one))
    return tf.where(mask, path, 0)[:, :time]


def _at_least_one_step(emissions):
    """Emissions padded with zeros to at least one time step (a batch of empty sentences)."""
    missing = tf.maximum(1 - tf.shape(emissions)[1], 0)
    return tf.pad(emissions, [[0, 0], [0, missing], [0, 0]])
