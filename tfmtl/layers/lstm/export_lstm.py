"""The LSTM exports are built with: Keras' weights, inference on TensorFlow's own fused kernel."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfmtl.layers.lstm import LSTMS


@keras.saving.register_keras_serializable(package="tfmtl")
class ExportLSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` whose inference runs stock TensorFlow's fused ``BlockLSTMV2``.

    Keras' LSTM on CPU runs a ``while`` loop of many small ops per time step,
    which makes serving one sentence cost milliseconds per layer. This layer
    keeps the Keras layer's API, config and weights (``cell.kernel``,
    ``cell.recurrent_kernel``, ``cell.bias``; gates i, f, c, o), so a
    checkpoint of a ``"keras"`` or ``"fused"`` run loads into it as it is, and
    at inference (``training`` false) runs the whole sequence through
    ``BlockLSTMV2``, a core TensorFlow op that TF Serving knows. A backward
    layer reads each sequence reversed within its length (``ReverseSequence``),
    which is what Keras' masked ``go_backwards`` computes. ``BlockLSTMV2``
    knows no masks, so a batch whose mask has holes (a real token after a
    padded one, which only a literal ``<pad>`` word in the input makes) runs
    instead through a masked ``while`` loop with Keras' exact semantics (a
    masked step keeps the state). Either way the outputs, the last output and
    the final states equal Keras' up to float rounding.

    While training, and for what the fused kernel cannot run (activations
    other than tanh and sigmoid, no bias, another dtype, ``unroll``), it is the
    Keras layer. It never takes the cuDNN path: the graph it leaves must run on
    a CPU server.

    Example:
        encoder = keras.layers.Bidirectional(ExportLSTM(256, return_sequences=True))
    """

    def __init__(self, units: int, **kwargs):
        if kwargs.pop("use_cudnn", False) not in (False, "auto"):
            raise ValueError("ExportLSTM never uses cuDNN (its graph is for CPU servers)")
        super().__init__(units, use_cudnn=False, **kwargs)

    def _fusable(self, training) -> bool:
        cell = self.cell
        return (
            cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and cell.use_bias
            and not self.unroll
            and self.compute_dtype == "float32"
            and isinstance(training, (bool, type(None)))
            and not training
        )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._fusable(training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        x = tf.convert_to_tensor(sequences)
        h0, c0 = initial_state[0], initial_state[1]
        time = tf.shape(x)[1]
        if mask is None:
            return self._block(x, h0, c0, tf.fill(tf.shape(x)[:1], time), masked=False)
        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, time)))
        return tf.cond(right_padded, lambda: self._block(x, h0, c0, lengths, masked=True),
                       lambda: self._masked_loop(x, h0, c0, mask))

    def _block(self, x, h0, c0, lengths, masked: bool):
        """Right-padded sequences of `lengths` through one ``BlockLSTMV2``."""
        cell = self.cell
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        inputs = tf.transpose(x, [1, 0, 2])  # Time-major, as BlockLSTM wants.
        lengths64 = tf.cast(lengths, tf.int64)
        if self.go_backwards:
            inputs = (tf.reverse_sequence(inputs, lengths64, seq_axis=0, batch_axis=1)
                      if masked else tf.reverse(inputs, [0]))
        no_peephole = tf.zeros([self.units])
        block = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(time, tf.int64), x=inputs, cs_prev=c0, h_prev=h0,
            # BlockLSTM's layout: the input kernel over the recurrent one, [features + units,
            # 4 units], gate blocks i, f, c, o as in Keras.
            w=tf.concat([cell.kernel, cell.recurrent_kernel], axis=0),
            wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=cell.bias,
            cell_clip=-1.0, use_peephole=False,
        )
        h, cs = block.h, block.cs  # [time, batch, units], steps in reading order.
        # Each sequence's state after its own last step; the initial state for an empty one.
        last = tf.stack([tf.maximum(lengths - 1, 0), tf.range(batch)], axis=1)
        nonempty = (lengths > 0)[:, None]
        h_last = tf.where(nonempty, tf.gather_nd(h, last), h0)
        c_last = tf.where(nonempty, tf.gather_nd(cs, last), c0)
        # Keras' last output is the output of the last step it reads: zeros when that step
        # is masked and masked steps output zeros, else the last real step's output (zeros
        # for an empty sequence, whatever the initial state).
        final_step_real = lengths > 0 if self.go_backwards else lengths >= time
        real = final_step_real if self.zero_output_for_mask else lengths > 0
        last_output = tf.where(real[:, None], h_last, 0.0)
        if not self.return_sequences:
            return last_output, last_output[:, None], (h_last, c_last)
        if masked:
            steps = tf.transpose(tf.sequence_mask(lengths, time))[..., None]  # [time, batch, 1]
            if self.go_backwards:
                # Aligned with the input, then in Keras' order (last position first), in
                # which the padding comes first and outputs zeros.
                aligned = tf.reverse_sequence(h, lengths64, seq_axis=0, batch_axis=1)
                h = tf.reverse(tf.where(steps, aligned, 0.0), [0])
            elif self.zero_output_for_mask:
                h = tf.where(steps, h, 0.0)
            else:  # Past its end, a sequence repeats its last output.
                h = tf.where(steps, h, last_output[None])
        return last_output, tf.transpose(h, [1, 0, 2]), (h_last, c_last)

    def _masked_loop(self, x, h0, c0, mask):
        """Any mask: a while loop in which masked steps keep the state, as Keras' loop."""
        cell = self.cell
        units = self.units
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        flat = tf.reshape(tf.transpose(x, [1, 0, 2]), tf.stack([time * batch, shape[2]]))
        xw = tf.reshape(tf.nn.bias_add(tf.matmul(flat, cell.kernel), cell.bias),
                        tf.stack([time, batch, 4 * units]))
        steps = tf.transpose(mask)[..., None]  # [time, batch, 1]
        if self.go_backwards:
            xw, steps = tf.reverse(xw, [0]), tf.reverse(steps, [0])
        recurrent = cell.recurrent_kernel
        zero_output = self.zero_output_for_mask
        return_sequences = self.return_sequences

        def step(t, h, c, output, outputs):
            i, f, g, o = tf.split(tf.gather(xw, t) + tf.matmul(h, recurrent), 4, axis=-1)
            c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h_new = tf.sigmoid(o) * tf.tanh(c_new)
            real = tf.gather(steps, t)
            output = tf.where(real, h_new, 0.0 if zero_output else output)
            if return_sequences:
                outputs = outputs.write(t, output)
            return t + 1, tf.where(real, h_new, h), tf.where(real, c_new, c), output, outputs

        outputs = tf.TensorArray(tf.float32, size=time if return_sequences else 0,
                                 element_shape=tf.TensorShape([None, units]))
        _, h, c, last_output, outputs = tf.while_loop(
            lambda t, *_: t < time, step,
            (tf.constant(0), h0, c0, tf.zeros_like(h0), outputs),
        )
        if not return_sequences:
            return last_output, last_output[:, None], (h, c)
        return last_output, tf.transpose(outputs.stack(), [1, 0, 2]), (h, c)


@LSTMS.register("export")
def make_export_lstm(units: int, *, return_sequences: bool = True, go_backwards: bool = False,
                     return_state: bool = False, name: str | None = None) -> keras.layers.Layer:
    return ExportLSTM(
        units, return_sequences=return_sequences, go_backwards=go_backwards,
        return_state=return_state, name=name
    )
