"""Fused LSTM: the whole sequence, forward and backward, in one native op."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfmtl.ops.loader import load_library


def _fused_lstm_tf(x, h0, c0, kernel, recurrent_kernel, bias, lengths, reverse):
    """Pure-TensorFlow twin of the native op (same semantics, autodiff gradients)."""
    time = tf.shape(x)[1]
    xw = tf.einsum("bte,eg->tbg", x, kernel) + bias
    steps = tf.range(time)
    if reverse:
        xw = tf.reverse(xw, [0])
        steps = tf.reverse(steps, [0])
    active = steps[:, None] < lengths[None, :]

    def step(carry, inputs):
        h, c, _ = carry
        xw_t, active_t = inputs
        z = xw_t + tf.matmul(h, recurrent_kernel)
        i, f, g, o = tf.split(z, 4, axis=1)
        c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h_new = tf.sigmoid(o) * tf.tanh(c_new)
        active_t = active_t[:, None]
        return (tf.where(active_t, h_new, h), tf.where(active_t, c_new, c),
                tf.where(active_t, h_new, tf.zeros_like(h_new)))

    hs, cs, outs = tf.scan(step, (xw, active), initializer=(h0, c0, tf.zeros_like(h0)))
    if reverse:
        outs = tf.reverse(outs, [0])
    hseq = tf.transpose(outs, [1, 0, 2])
    # With no time steps the state is the initial one.
    h_last = tf.cond(time > 0, lambda: hs[-1], lambda: h0)
    c_last = tf.cond(time > 0, lambda: cs[-1], lambda: c0)
    return hseq, h_last, c_last


def fused_lstm(x, h0, c0, kernel, recurrent_kernel, bias, lengths=None, reverse=False,
               training=True):
    """Runs an LSTM over a whole sequence (gates and weights of keras.layers.LSTM).

    Args:
        x: [batch, time, input] float32 (float64 on CPU).
        h0, c0: [batch, units] initial state.
        kernel: [input, 4 * units]; recurrent_kernel: [units, 4 * units];
            bias: [4 * units]; gate blocks in the order i, f, c, o.
        lengths: [batch] int32, steps 0..lengths[b]-1 are in each sequence
            (default: all). Outputs past a length are zero and the state stops.
        reverse: run each sequence from its last step to its first; outputs
            stay aligned with the inputs.
        training: False skips saving what the backward pass needs (faster
            inference); gradients still work, by recomputing.

    Returns:
        (hseq [batch, time, units], h_last [batch, units], c_last [batch, units]).
    """
    x = tf.convert_to_tensor(x)
    dtype = x.dtype
    h0, c0, kernel, recurrent_kernel, bias = (
        tf.convert_to_tensor(t, dtype) for t in (h0, c0, kernel, recurrent_kernel, bias)
    )
    if lengths is None:
        lengths = tf.fill(tf.shape(x)[:1], tf.shape(x)[1])
    lengths = tf.cast(lengths, tf.int32)
    library = load_library()
    if library is not None and dtype in (tf.float32, tf.float64):
        hseq, h_last, c_last, _ = library.tfmtl_fused_lstm(
            x, h0, c0, kernel, recurrent_kernel, bias, lengths, reverse=bool(reverse),
            save_workspace=bool(training),
        )
        return hseq, h_last, c_last
    return _fused_lstm_tf(x, h0, c0, kernel, recurrent_kernel, bias, lengths, bool(reverse))


def has_fused_cell(layer: keras.layers.LSTM, training) -> bool:
    """Whether an LSTM layer's cell is the one fused kernels compute (tanh, sigmoid gates, a
    bias, not unrolled, float32) and `training` is a Python flag, not a tensor."""
    cell = layer.cell
    return (
        cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
        and cell.use_bias
        and not layer.unroll
        and layer.compute_dtype == "float32"
        and isinstance(training, (bool, type(None)))
    )


@keras.saving.register_keras_serializable(package="tfmtl")
class FusedLSTM(keras.layers.LSTM):
    """Drop-in `keras.layers.LSTM` that runs the whole sequence in one native op.

    Same constructor, weights (`cell.kernel`, `cell.recurrent_kernel`,
    `cell.bias`), config and checkpoints as `keras.layers.LSTM`, so a model
    trained with it exports by rebuilding with the stock layer
    (`tfmtl.ops.to_stock`). The fused op runs when the configuration allows:
    tanh and sigmoid activations, a bias, float32, no recurrent dropout while
    training, not unrolled, and masks (if any) right-padded; otherwise the
    layer behaves exactly as its parent. `return_sequences`, `return_state`,
    `go_backwards`, `initial_state`, `stateful` and `keras.layers.Bidirectional`
    work as with the stock layer.

    The native kernel is float32 (float64 on CPU) only: built under a mixed dtype policy
    (``mixed_bfloat16``, ``mixed_float16``) without a `dtype`, the layer takes the float32
    policy, so inside a mixed-precision model it still runs the fused op, in float32 (Keras
    casts its inputs to float32; the next layer casts its outputs back to 16 bits), until a
    16-bit kernel exists. Given a 16-bit compute dtype explicitly it is the parent layer.

    Example:
        encoder = keras.layers.Bidirectional(FusedLSTM(256, return_sequences=True))
    """

    def __init__(self, units, **kwargs):
        if kwargs.get("dtype") is None and keras.config.dtype_policy().name.startswith("mixed_"):
            kwargs["dtype"] = "float32"
        super().__init__(units, **kwargs)

    def _fusable(self, training) -> bool:
        return has_fused_cell(self, training) and not (training and self.cell.recurrent_dropout)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._fusable(training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if training and self.cell.dropout:
            # The same input dropout mask at every step, like the parent's cuDNN path.
            dp_mask = self.cell.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * tf.expand_dims(dp_mask, 1)
        h0, c0 = initial_state[0], initial_state[1]
        time = tf.shape(sequences)[1]
        if mask is None:
            lengths = tf.fill(tf.shape(sequences)[:1], time)
            return self._fused(sequences, h0, c0, lengths, None, training)
        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, time)))
        stock = super().inner_loop

        def fallback():
            last, outputs, states = stock(sequences, initial_state, mask, training=training)
            return last, outputs, tuple(states)

        return tf.cond(
            right_padded, lambda: self._fused(sequences, h0, c0, lengths, mask, training),
            fallback,
        )

    def _fused(self, x, h0, c0, lengths, mask, training):
        cell = self.cell
        hseq, h_last, c_last = fused_lstm(
            x, h0, c0, cell.kernel, cell.recurrent_kernel, cell.bias, lengths,
            reverse=self.go_backwards, training=bool(training),
        )
        if self.go_backwards:
            # Keras returns the outputs in processing order.
            outputs = tf.reverse(hseq, [1])
        elif mask is not None and not self.zero_output_for_mask:
            # Keras repeats the last output over the padding.
            last_valid = tf.where((lengths > 0)[:, None], h_last, tf.zeros_like(h_last))
            outputs = tf.where(mask[:, :, None], hseq, last_valid[:, None, :])
        else:
            outputs = hseq
        last_output = outputs[:, -1]
        if not self.return_sequences:
            outputs = last_output[:, None]
        return last_output, outputs, (h_last, c_last)
