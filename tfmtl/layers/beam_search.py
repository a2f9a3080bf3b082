"""Batched beam search (and greedy search, its beam of one) in graph, with stock ops only.

Written on ``tf.while_loop`` rather than keras-hub's samplers: the decoders' step
carries LSTM states and attention memory through the loop and must export to a
SavedModel that stock TensorFlow Serving runs, and the hypotheses' scores must
follow the length penalty exactly (tested against exhaustive search).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import tensorflow as tf

StepFn = Callable[[tf.Tensor, object, tf.Tensor], tuple[tf.Tensor, object]]
"""``step(ids [n], state, time) -> (log_probs [n, vocab], state)``: the next token's
log-probabilities after each hypothesis' last token ``ids`` (``n`` = batch x beam); ``state``
is any nest of tensors whose leading dimension is ``n``."""


class Hypotheses(NamedTuple):
    """What a search returns, best first along the beam axis.

    Attributes:
        ids: [batch, beam, max_length] int32 tokens, the end token included where a
            hypothesis ended, then ``end_id`` as padding.
        lengths: [batch, beam] int32 tokens of each hypothesis (with its end token).
        log_probs: [batch, beam] float32 sum of the tokens' log-probabilities.
        scores: [batch, beam] float32 ``log_probs`` divided by the length penalty (the
            ranking).
    """

    ids: tf.Tensor
    lengths: tf.Tensor
    log_probs: tf.Tensor
    scores: tf.Tensor


def length_penalty(lengths, alpha: float):
    """Wu et al. (2016)'s length normalization ``((5 + length) / 6) ** alpha`` (1 for
    ``alpha`` = 0: plain log-probabilities)."""
    lengths = tf.cast(lengths, tf.float32)
    return tf.pow((5.0 + lengths) / 6.0, alpha)


def tile_beams(tensor, beam_size: int):
    """[batch, ...] -> [batch x beam, ...], each row repeated ``beam_size`` times in a row
    (the layout a step function's state has)."""
    tensor = tf.convert_to_tensor(tensor)
    return tf.repeat(tensor, beam_size, axis=0)


def _gather_beams(tensor, indices, batch_size, beam_size):
    """Rows of a [batch x beam, ...] tensor picked per batch by [batch, beam] beam indices."""
    shape = tf.shape(tensor)
    folded = tf.reshape(tensor, tf.concat([[batch_size, beam_size], shape[1:]], 0))
    picked = tf.gather(folded, indices, batch_dims=1)
    return tf.reshape(picked, shape)


def beam_search(step: StepFn, state, batch_size, *, start_id: int, end_id: int,
                beam_size: int, max_length, alpha: float = 0.0) -> Hypotheses:
    """The ``beam_size`` best continuations of ``start_id`` under ``step``, per batch row.

    Each iteration extends every live hypothesis by every token, keeps the
    ``beam_size`` best by score (log-probability over :func:`length_penalty` of the
    length it would have), and carries the state of each kept hypothesis' parent.
    A hypothesis that emitted ``end_id`` stays in the beam with its score frozen
    (its only continuation is ``end_id`` at log-probability 0 that does not count
    towards its length), so finished and live hypotheses compete on equal terms;
    the loop ends when every hypothesis of every row has finished or after
    ``max_length`` tokens. With a beam wide enough to keep every hypothesis, the
    result is exhaustive search's (tested); with ``beam_size=1`` it is greedy search.

    Args:
        step: the model's step (see :data:`StepFn`).
        state: the initial state for [batch x beam] hypotheses (see :func:`tile_beams`).
        batch_size: rows (a scalar, may be dynamic).
        start_id: the token fed first.
        end_id: the token that ends a hypothesis.
        beam_size: hypotheses kept per row.
        max_length: most tokens per hypothesis (a scalar, may be dynamic, e.g. from the
            source length).
        alpha: length penalty exponent (0: none).

    Returns:
        :class:`Hypotheses`, best first.
    """
    k = beam_size
    max_length = tf.convert_to_tensor(max_length, tf.int32)
    batch_size = tf.convert_to_tensor(batch_size, tf.int32)
    n = batch_size * k
    neg_inf = tf.constant(-1e9, tf.float32)
    # Only the first beam is live at first, so the first step does not pick k copies.
    log_probs = tf.tile(tf.concat([[0.0], tf.fill([k - 1], neg_inf)], 0)[None], [batch_size, 1])
    ids = tf.fill([batch_size, k, 0], end_id)
    last = tf.fill([n], start_id)
    finished = tf.zeros([batch_size, k], tf.bool)
    lengths = tf.zeros([batch_size, k], tf.int32)

    def cond(time, log_probs, ids, last, finished, lengths, state):
        return tf.logical_and(time < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(time, log_probs, ids, last, finished, lengths, state):
        token_log_probs, state = step(last, state, time)
        vocab = tf.shape(token_log_probs)[-1]
        token_log_probs = tf.reshape(tf.cast(token_log_probs, tf.float32),
                                     [batch_size, k, vocab])
        # A finished hypothesis continues with end_id only, at no cost.
        frozen = tf.where(tf.equal(tf.range(vocab), end_id), 0.0, neg_inf)
        token_log_probs = tf.where(finished[..., None], frozen[None, None],
                                   token_log_probs)
        total = log_probs[..., None] + token_log_probs  # [batch, k, vocab]
        new_lengths = lengths + tf.cast(tf.logical_not(finished), tf.int32)
        scores = total / length_penalty(new_lengths, alpha)[..., None]
        top_scores, flat = tf.math.top_k(tf.reshape(scores, [batch_size, k * vocab]), k=k)
        del top_scores
        parent, token = flat // vocab, flat % vocab
        log_probs = tf.gather(tf.reshape(total, [batch_size, k * vocab]), flat, batch_dims=1)
        was_finished = tf.gather(finished, parent, batch_dims=1)
        lengths = tf.gather(new_lengths, parent, batch_dims=1)
        ids = tf.concat([tf.gather(ids, parent, batch_dims=1), token[..., None]], -1)
        finished = tf.logical_or(was_finished, tf.equal(token, end_id))
        state = tf.nest.map_structure(lambda s: _gather_beams(s, parent, batch_size, k), state)
        return (time + 1, log_probs, ids, tf.reshape(token, [n]), finished, lengths, state)

    _, log_probs, ids, _, _, lengths, _ = tf.while_loop(
        cond, body, (tf.constant(0), log_probs, ids, last, finished, lengths, state),
        shape_invariants=(tf.TensorShape([]), log_probs.shape, tf.TensorShape([None, k, None]),
                          last.shape, finished.shape, lengths.shape,
                          tf.nest.map_structure(_loose, state)))
    pad = max_length - tf.shape(ids)[-1]
    ids = tf.pad(ids, [[0, 0], [0, 0], [0, pad]], constant_values=end_id)
    scores = log_probs / length_penalty(lengths, alpha)
    # top_k kept the beam sorted by the score each hypothesis had when it was picked,
    # which is its final one.
    return Hypotheses(ids, lengths, log_probs, scores)


def _loose(tensor) -> tf.TensorShape:
    shape = tf.convert_to_tensor(tensor).shape
    return tf.TensorShape([None, *shape[1:]]) if shape.rank else shape
