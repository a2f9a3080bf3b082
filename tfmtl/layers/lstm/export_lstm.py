"""The LSTM exports are built with: Keras' weights, inference on TensorFlow's own fused kernel."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfmtl.layers.lstm import BIDIRECTIONAL, LSTMS
from tfmtl.layers.tracking import tracked_layers
from tfmtl.ops.fused_lstm import has_fused_cell


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

    ``BlockLSTMV2`` reads one weight matrix, the input kernel over the
    recurrent one. Each call concatenates the two, unless
    :meth:`freeze_block_kernel` made a copy of them in that layout once the
    weights were loaded (as the exporter does, see :func:`freeze_block_kernels`):
    the graph then reads the copy, a variable of its own that is no Keras
    weight (the layer's weights stay Keras' three). A frozen layer refuses to
    train, since the copy would no longer follow the weights.

    While training, and for what the fused kernel cannot run (activations
    other than tanh and sigmoid, no bias, another dtype, ``unroll``), it is the
    Keras layer. It never takes the cuDNN path: the graph it leaves must run on
    a CPU server.

    Example:
        encoder = ExportBidirectional(ExportLSTM(256, return_sequences=True))
    """

    def __init__(self, units: int, **kwargs):
        if kwargs.pop("use_cudnn", False) not in (False, "auto"):
            raise ValueError("ExportLSTM never uses cuDNN (its graph is for CPU servers)")
        super().__init__(units, use_cudnn=False, **kwargs)
        self._block_kernel = None

    def freeze_block_kernel(self) -> tf.Variable:
        """Copies ``[kernel; recurrent_kernel]`` into a variable that inference reads from now on.

        Call it once the weights are final (again after they change, which refreshes
        the copy); functions traced before it keep concatenating the weights.

        Returns:
            The copy, [features + units, 4 units], not trainable: a SavedModel of a graph
            that reads it must save it (it is no Keras weight of the layer).
        """
        if not self.built:
            raise ValueError(f"{self.name}: build the layer before freezing its kernel")
        value = self._concatenated_kernel()
        if self._block_kernel is None:
            self._block_kernel = tf.Variable(value, trainable=False,
                                             name=f"{self.name}_block_kernel")
        else:
            self._block_kernel.assign(value)
        return self._block_kernel

    @property
    def frozen_block_kernel(self) -> tf.Variable | None:
        """The copy :meth:`freeze_block_kernel` made, or None."""
        return self._block_kernel

    def block_kernel_is_current(self) -> bool:
        """Whether the layer is frozen and its copy equals its weights now."""
        if self._block_kernel is None:
            return False
        return bool(tf.reduce_all(tf.equal(self._block_kernel, self._concatenated_kernel())))

    def _concatenated_kernel(self):
        # BlockLSTM's layout: the input kernel over the recurrent one, [features + units,
        # 4 units], gate blocks i, f, c, o as in Keras.
        return tf.concat([self.cell.kernel, self.cell.recurrent_kernel], axis=0)

    def fusable(self, training) -> bool:
        """Whether a call with `training` runs on ``BlockLSTMV2`` (else it is Keras' LSTM)."""
        return has_fused_cell(self, training) and not training

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if training is not None and training is not False and self._block_kernel is not None:
            raise ValueError(f"{self.name}: its kernel is frozen for inference (an export "
                             "model); train the model it was trained as")
        if not self.fusable(training):
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
                       lambda: self.masked_loop(x, h0, c0, mask))

    def block_lstm(self, inputs, h0, c0, time):
        """One ``BlockLSTMV2`` over time-major `inputs`, from states `h0`, `c0`."""
        kernel = self._block_kernel if self._block_kernel is not None else (
            self._concatenated_kernel())
        no_peephole = tf.zeros([self.units])
        return tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(time, tf.int64), x=inputs, cs_prev=c0, h_prev=h0, w=kernel,
            wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=self.cell.bias,
            cell_clip=-1.0, use_peephole=False,
        )

    def _block(self, x, h0, c0, lengths, masked: bool):
        """Right-padded sequences of `lengths` through one ``BlockLSTMV2``."""
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        inputs = tf.transpose(x, [1, 0, 2])  # Time-major, as BlockLSTM wants.
        lengths64 = tf.cast(lengths, tf.int64)
        if self.go_backwards:
            inputs = (tf.reverse_sequence(inputs, lengths64, seq_axis=0, batch_axis=1)
                      if masked else tf.reverse(inputs, [0]))
        block = self.block_lstm(inputs, h0, c0, time)
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

    def masked_loop(self, x, h0, c0, mask):
        """Any mask: a while loop in which masked steps keep the state, as Keras' loop.

        Returns:
            (last output, outputs [batch, time, units] in Keras' order, (h, c)), as
            ``inner_loop``.
        """
        units = self.units
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        if self._block_kernel is None:
            kernel, recurrent = self.cell.kernel, self.cell.recurrent_kernel
        else:  # The frozen copy only: the graph reads no other kernel variable.
            features = self._block_kernel.shape[0] - units
            kernel, recurrent = self._block_kernel[:features], self._block_kernel[features:]
        flat = tf.reshape(tf.transpose(x, [1, 0, 2]), tf.stack([time * batch, shape[2]]))
        xw = tf.reshape(tf.nn.bias_add(tf.matmul(flat, kernel), self.cell.bias),
                        tf.stack([time, batch, 4 * units]))
        steps = tf.transpose(mask)[..., None]  # [time, batch, 1]
        if self.go_backwards:
            xw, steps = tf.reverse(xw, [0]), tf.reverse(steps, [0])
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


@BIDIRECTIONAL.register("export")
@keras.saving.register_keras_serializable(package="tfmtl")
class ExportBidirectional(keras.layers.Bidirectional):
    """`keras.layers.Bidirectional` of two ExportLSTMs that runs both directions together.

    Same weights, config and results as the Keras wrapper, which calls its two
    layers apart; at inference this one transposes the input to time-major
    once, checks the mask once and runs the two ``BlockLSTMV2`` (the backward
    one on the sequences reversed within their lengths) side by side, their
    outputs concatenated time-major and transposed back once. What it cannot
    run so (initial states, another merge mode, training, a layer the fused
    kernel cannot run) goes through the Keras wrapper.
    """

    def _fusable(self, initial_state, training) -> bool:
        forward, backward = self.forward_layer, self.backward_layer
        return (
            initial_state is None and self.merge_mode == "concat" and not self.stateful
            and isinstance(forward, ExportLSTM) and isinstance(backward, ExportLSTM)
            and not forward.go_backwards and backward.go_backwards
            and forward.units == backward.units
            and forward.fusable(training) and backward.fusable(training)
            # Inside a Bidirectional, masked steps of a sequence output zeros.
            and (not self.return_sequences
                 or (forward.zero_output_for_mask and backward.zero_output_for_mask))
        )

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if not self._fusable(initial_state, training):
            return super().call(sequences, initial_state=initial_state, mask=mask,
                                training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        x = tf.convert_to_tensor(sequences)
        if mask is None:
            shape = tf.shape(x)
            return self._blocks(x, tf.fill(shape[:1], shape[1]), None)
        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, tf.shape(x)[1])))
        return tf.cond(right_padded, lambda: self._blocks(x, lengths, mask),
                       lambda: self._holes(x, mask))

    def _blocks(self, x, lengths, mask):
        """Right-padded sequences `x` of `lengths` (`mask` None: all full) both ways."""
        forward, backward = self.forward_layer, self.backward_layer
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        inputs = tf.transpose(x, [1, 0, 2])  # Time-major, as BlockLSTM wants.
        zeros = tf.zeros(tf.stack([batch, forward.units]))
        lengths64 = tf.cast(lengths, tf.int64)

        def reverse(t):  # Each sequence reversed within its length.
            if mask is None:
                return tf.reverse(t, [0])
            return tf.reverse_sequence(t, lengths64, seq_axis=0, batch_axis=1)

        ahead = forward.block_lstm(inputs, zeros, zeros, time)
        behind = backward.block_lstm(reverse(inputs), zeros, zeros, time)
        output = None
        if self.return_sequences:
            # The backward outputs aligned with the input, as the wrapper's flip leaves them.
            h = tf.transpose(tf.concat([ahead.h, reverse(behind.h)], axis=-1), [1, 0, 2])
            # Zeros on masked steps; a product, which costs less than a broadcast select.
            output = h if mask is None else h * tf.cast(mask, h.dtype)[..., None]
            if not self.return_state:
                return output
        # Each sequence's state after its own last step; zeros for an empty one.
        last = tf.stack([tf.maximum(lengths - 1, 0), tf.range(batch)], axis=1)
        nonempty = (lengths > 0)[:, None]
        lasts = [tf.where(nonempty, tf.gather_nd(block.h, last), 0.0) for block in (ahead, behind)]
        if output is None:
            # Keras' last output is that of the last step it reads: zeros when that step
            # is masked and masked steps output zeros.
            outputs = [tf.where((lengths >= time)[:, None], h_last, 0.0)
                       if layer.zero_output_for_mask and not layer.go_backwards else h_last
                       for layer, h_last in zip((forward, backward), lasts, strict=True)]
            output = tf.concat(outputs, axis=-1)
        if not self.return_state:
            return output
        states = []
        for block, h_last in zip((ahead, behind), lasts, strict=True):
            states += [h_last, tf.where(nonempty, tf.gather_nd(block.cs, last), 0.0)]
        return (output, *states)

    def _holes(self, x, mask):
        """Any mask: each direction's masked loop, merged as the Keras wrapper merges them."""
        zeros = tf.zeros(tf.stack([tf.shape(x)[0], self.forward_layer.units]))
        results = []
        states = []
        for layer in (self.forward_layer, self.backward_layer):
            last_output, outputs, layer_states = layer.masked_loop(x, zeros, zeros, mask)
            if not self.return_sequences:
                results.append(last_output)
            else:
                results.append(tf.reverse(outputs, [1]) if layer.go_backwards else outputs)
            states += list(layer_states)
        output = tf.concat(results, axis=-1)
        return (output, *states) if self.return_state else output


def export_lstms(model) -> list[ExportLSTM]:
    """Every ExportLSTM `model` holds, nested ones included (in custom layers' attributes too)."""
    return tracked_layers(model, ExportLSTM)


def freeze_block_kernels(model) -> list[tf.Variable]:
    """Freezes every built ExportLSTM of `model` (:meth:`ExportLSTM.freeze_block_kernel`).

    For a model built for export, once its weights are loaded and before its
    inference is traced. Returns the copies, which a SavedModel must save.
    """
    return [layer.freeze_block_kernel() for layer in export_lstms(model) if layer.built]


def unfrozen_lstms(model) -> list[str]:
    """Names of the built ExportLSTMs of `model` with no current copy of their kernels."""
    return [layer.name for layer in export_lstms(model)
            if layer.built and not layer.block_kernel_is_current()]


@LSTMS.register("export")
def make_export_lstm(units: int, *, return_sequences: bool = True, go_backwards: bool = False,
                     return_state: bool = False, name: str | None = None) -> keras.layers.Layer:
    return ExportLSTM(
        units, return_sequences=return_sequences, go_backwards=go_backwards,
        return_state=return_state, name=name
    )
