"""A short two-task training run reaches the same loss with the fused and the Keras LSTM."""

import keras
import numpy as np
import tensorflow as tf

from tfmtl.layers.lstm import make_lstm
from tfmtl.ops import GradientReversal

VOCAB, TIME, BATCH, STEPS = 40, 12, 16, 30


def _data(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, TIME + 1, size=(STEPS, BATCH))
    tokens = rng.integers(1, VOCAB, size=(STEPS, BATCH, TIME))
    tokens[np.arange(TIME)[None, None, :] >= lengths[..., None]] = 0
    tags = (tokens % 5).astype(np.int32)  # tagging task: token class
    labels = (lengths > TIME // 2).astype(np.int32)  # classification task: long or short
    return tokens.astype(np.int32), tags, labels


def _model(implementation):
    keras.utils.set_random_seed(1234)
    tokens = keras.Input((TIME,), dtype="int32")
    h = keras.layers.Embedding(VOCAB, 16, mask_zero=True)(tokens)
    h = keras.layers.Bidirectional(make_lstm(implementation, 24, return_sequences=True))(h)
    tagging = keras.layers.Dense(5, name="tagging")(h)
    pooled = make_lstm(implementation, 24, return_sequences=False)(h)
    classification = keras.layers.Dense(2, name="classification")(GradientReversal(0.1)(pooled))
    return keras.Model(tokens, [tagging, classification])


def _train(implementation, initial_weights=None):
    model = _model(implementation)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    weights0 = model.get_weights()
    opt = keras.optimizers.SGD(0.5)
    xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    tokens, tags, labels = _data(0)

    @tf.function
    def step(x, y, task):
        with tf.GradientTape() as tape:
            tagging, classification = model(x, training=True)
            if task == 0:
                mask = tf.cast(x > 0, tf.float32)
                loss = xent(y, tagging, sample_weight=mask)
            else:
                loss = xent(y, classification)
        grads = tape.gradient(loss, model.trainable_weights)
        grads = [tf.zeros_like(v) if g is None else g
                 for g, v in zip(grads, model.trainable_weights, strict=True)]
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss

    losses = []
    for i in range(STEPS):  # the tasks alternate
        if i % 2 == 0:
            losses.append(float(step(tokens[i], tags[i], 0)))
        else:
            losses.append(float(step(tokens[i], labels[i], 1)))
    return np.array(losses), weights0


def test_fused_training_matches_keras():
    keras_losses, weights0 = _train("keras")
    fused_losses, _ = _train("fused", weights0)
    assert keras_losses[-2] < keras_losses[0]  # tagging learns
    np.testing.assert_allclose(fused_losses, keras_losses, rtol=1e-3, atol=1e-4)
