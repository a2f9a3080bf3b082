"""The LSTM decoder: teacher forcing over a whole target equals decoding it step by step
(what beam search relies on), for each LSTM implementation and attention; the bridge."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfmtl.layers.lstm_decoder import LSTMDecoder, StateBridge

B, T, S, D, UNITS, VOCAB = 3, 5, 4, 6, 8, 11


def _teacher_forced(decoder, memory_dim):
    x = keras.Input((None, D), name="x")
    mask = keras.Input((None,), dtype="bool", name="mask")
    memory = keras.Input((None, memory_dim), name="memory")
    memory_mask = keras.Input((None,), dtype="bool", name="memory_mask")
    states = [(keras.Input((UNITS,), name=f"h{i}"), keras.Input((UNITS,), name=f"c{i}"))
              for i in range(decoder.layers)]
    logits = decoder(x, mask, states, memory, memory_mask)
    inputs = [x, mask, memory, memory_mask, *[t for pair in states for t in pair]]
    return keras.Model(inputs, logits)


@pytest.mark.parametrize("lstm,attention,memory_dim", [
    ("keras", "none", 7), ("fused", "none", 7), ("keras", "general", 7),
    ("fused", "general", 7), ("fused", "dot", UNITS)])
def test_teacher_forcing_is_decoding_step_by_step(lstm, attention, memory_dim):
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    decoder = LSTMDecoder(2, UNITS, VOCAB, dropout=0.5, lstm=lstm, attention=attention)
    model = _teacher_forced(decoder, memory_dim)
    x = rng.normal(size=(B, T, D)).astype("float32")
    lengths = np.array([5, 3, 1])
    mask = np.arange(T)[None] < lengths[:, None]
    memory = rng.normal(size=(B, S, memory_dim)).astype("float32")
    memory_mask = np.arange(S)[None] < np.array([[4], [2], [3]])
    states = [rng.normal(scale=0.5, size=(B, UNITS)).astype("float32") for _ in range(4)]
    logits = np.asarray(model([x, mask, memory, memory_mask, *states]), np.float64)
    want = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    step_states = [(tf.constant(states[0]), tf.constant(states[1])),
                   (tf.constant(states[2]), tf.constant(states[3]))]
    for t in range(T):
        log_probs, step_states = decoder.step(tf.constant(x[:, t]), step_states,
                                              tf.constant(memory), tf.constant(memory_mask))
        real = mask[:, t]
        np.testing.assert_allclose(np.asarray(log_probs, np.float64)[real], want[real, t],
                                   rtol=1e-4, atol=1e-5)
    # Dropout is on in training (so teacher forcing trains through it) and off in steps.
    trained = np.asarray(model([x, mask, memory, memory_mask, *states], training=True))
    assert not np.allclose(trained, logits, atol=1e-3)


def test_the_bridge_is_direct_when_the_shapes_match_and_learned_otherwise():
    rng = np.random.default_rng(1)
    # A 2-layer BiLSTM of 4 units per direction: per layer ((h, c) forward, (h, c) backward).
    encoder = [tuple((rng.normal(size=(2, 4)).astype("float32"),
                      rng.normal(size=(2, 4)).astype("float32")) for _ in range(2))
               for _ in range(2)]
    direct = StateBridge(2, 8, 2, 8)
    assert direct.direct and not direct.dense
    for (h, c), layer in zip(direct(encoder), encoder, strict=True):
        np.testing.assert_array_equal(h, np.concatenate([layer[0][0], layer[1][0]], -1))
        np.testing.assert_array_equal(c, np.concatenate([layer[0][1], layer[1][1]], -1))
    learned = StateBridge(2, 8, 3, 5, name="b")
    out = learned(encoder)
    assert not learned.direct and len(out) == 3
    assert all(h.shape == (2, 5) and c.shape == (2, 5) for h, c in out)
    # Each comes from every encoder layer's h and c.
    flat = np.concatenate([np.concatenate([d[0] for d in layer] + [d[1] for d in layer], -1)
                           for layer in encoder], -1)
    dense = learned.dense[0]
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out[0][0], np.tanh(flat @ kernel + bias), rtol=1e-5, atol=1e-6)
