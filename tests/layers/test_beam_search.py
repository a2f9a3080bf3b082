"""Beam search against exhaustive search, greedy search, padding, batching, the state."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tfmtl.layers.beam_search import beam_search, length_penalty, tile_beams

END, START, VOCAB = 0, 3, 3  # Tokens 0 (end), 1, 2; START is only ever fed.


def _model(seed, batch, max_length):
    """A toy decoder whose next-token distribution depends on the row, the time, the last
    token and (through the state) how many 1s the hypothesis holds, so a search that
    mixed up its hypotheses' states would score them wrongly."""
    rng = np.random.default_rng(seed)
    table = rng.normal(scale=2.0, size=(batch, max_length, VOCAB + 1, VOCAB))
    ones = rng.normal(scale=1.5, size=(batch, VOCAB))

    def log_probs(row, time, last, count):
        logits = table[row, time, last] + ones[row] * count
        return logits - np.log(np.exp(logits).sum())

    return table, ones, log_probs


def _step_fn(table, ones):
    table, ones = tf.constant(table, tf.float32), tf.constant(ones, tf.float32)

    def step(ids, state, time):
        rows, count = state
        logits = (tf.gather_nd(table, tf.stack([rows, tf.fill(tf.shape(ids), time), ids], -1))
                  + tf.gather(ones, rows) * count[:, None])
        return tf.nn.log_softmax(logits), (rows, count + tf.cast(tf.equal(ids, 1), tf.float32))

    return step


def _exhaustive(log_probs, row, max_length, alpha):
    """Every hypothesis: an end token after 0..max_length-1 others, or max_length tokens
    without one; (score, log-prob, tokens) sorted best first."""
    hypotheses = []
    for length in range(1, max_length + 1):
        for body in itertools.product((1, 2), repeat=length - 1):
            for tokens in ((*body, END),) + (((*body, 1), (*body, 2))
                                             if length == max_length else ()):
                total, last, count = 0.0, START, 0
                for time, token in enumerate(tokens):
                    total += log_probs(row, time, last, count)[token]
                    count += last == 1
                    last = token
                score = total / ((5.0 + len(tokens)) / 6.0) ** alpha
                hypotheses.append((score, total, tokens))
    return sorted(hypotheses, key=lambda h: -h[0])


def _search(table, ones, batch, beam, max_length, alpha):
    state = (tile_beams(tf.range(batch), beam), tf.zeros([batch * beam]))
    return beam_search(_step_fn(table, ones), state, batch, start_id=START,
                       end_id=END, beam_size=beam, max_length=max_length, alpha=alpha)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
def test_a_wide_beam_is_exhaustive_search(alpha):
    batch, max_length = 3, 4
    table, ones, log_probs = _model(0, batch, max_length)
    # 2 + 4 + 8 + 16 finished-or-full hypotheses of 4 tokens at most, 16 live ones at most:
    # a beam of 32 prunes nothing that could end best.
    beam = 32
    found = _search(table, ones, batch, beam, max_length, alpha)
    for row in range(batch):
        want = _exhaustive(log_probs, row, max_length, alpha)
        for i in range(8):
            score, total, tokens = want[i]
            length = int(found.lengths[row, i])
            assert tuple(np.asarray(found.ids[row, i, :length])) == tokens
            assert float(found.log_probs[row, i]) == pytest.approx(total, abs=1e-4)
            assert float(found.scores[row, i]) == pytest.approx(score, abs=1e-4)
            # Padding after the end is the end token.
            assert set(np.asarray(found.ids[row, i, length:])) <= {END}


def test_a_narrow_beam_beats_greedy_search_where_greedy_is_wrong():
    batch, max_length = 64, 4
    table, ones, log_probs = _model(1, batch, max_length)
    greedy = _search(table, ones, batch, 1, max_length, 0.0)
    beam = _search(table, ones, batch, 4, max_length, 0.0)
    best = [_exhaustive(log_probs, row, max_length, 0.0)[0] for row in range(batch)]
    greedy_right = beam_right = 0
    for row in range(batch):
        # Greedy search is the argmax at every step.
        last, count, tokens = START, 0, []
        for time in range(max_length):
            token = int(np.argmax(log_probs(row, time, last, count)))
            count += last == 1
            last = token
            tokens.append(token)
            if token == END:
                break
        length = int(greedy.lengths[row, 0])
        assert tuple(np.asarray(greedy.ids[row, 0, :length])) == tuple(tokens)
        greedy_right += tuple(tokens) == best[row][2]
        beam_right += tuple(np.asarray(beam.ids[row, 0, :int(beam.lengths[row, 0])])) == \
            best[row][2]
        assert float(beam.log_probs[row, 0]) >= float(greedy.log_probs[row, 0]) - 1e-5
    # Rows where greedy misses the best hypothesis (12 of 64 here) and a beam of 4 finds
    # it (all 64 here).
    assert greedy_right <= batch - 8
    assert beam_right >= greedy_right + 8


def test_in_graph_with_a_dynamic_batch_and_length():
    table, ones, _ = _model(2, 2, 5)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
    def search(batch, max_length):
        state = (tile_beams(tf.range(batch), 3), tf.zeros([batch * 3]))
        return beam_search(_step_fn(table, ones), state, batch, start_id=START,
                           end_id=END, beam_size=3, max_length=max_length, alpha=0.6)

    eager = _search(table, ones, 2, 3, 5, 0.6)
    graph = search(tf.constant(2), tf.constant(5))
    np.testing.assert_array_equal(graph.ids, eager.ids)
    np.testing.assert_allclose(graph.scores, eager.scores, rtol=1e-6)
    assert graph.ids.shape == (2, 3, 5)
    # Scores come best first.
    assert np.all(np.diff(np.asarray(graph.scores), axis=1) <= 1e-6)


def test_length_penalty():
    np.testing.assert_allclose(length_penalty([1, 7], 0.6), [1.0, 2.0 ** 0.6], rtol=1e-6)
    np.testing.assert_allclose(length_penalty([3, 9], 0.0), [1.0, 1.0])
