"""A lean inference-only LSTM of stock ops, installed into the exported model's LSTM layers.

Keras' LSTM on CPU runs a ``while`` loop of many small ops per time step, which
makes serving one sentence cost milliseconds per layer. For export the same
weights run through TensorFlow's own fused kernel, ``BlockLSTMV2`` (a core op,
whole sequence in one kernel, gates in Keras' i, f, c, o order), one per
direction; a backward direction reads each sequence reversed within its length
(``ReverseSequence``), which is what Keras' masked ``go_backwards`` computes.
``BlockLSTMV2`` knows no masks, so a batch whose mask has holes (a real token
after a padded one, which only a literal ``<pad>`` word in the input makes)
runs instead through a masked ``while`` loop with Keras' exact semantics (a
masked step keeps the state). Either way the results equal Keras' up to float
rounding.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def _supported_lstm(lstm: keras.layers.Layer) -> bool:
    if not isinstance(lstm, keras.layers.LSTM):
        return False
    cell = lstm.cell
    return (cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and cell.use_bias and not lstm.return_state and not lstm.stateful
            and not lstm.unroll and lstm.compute_dtype == "float32")


def supported(layer: keras.layers.Layer) -> bool:
    """True when `layer` is an LSTM (or a Bidirectional of two) this module can run.

    Subclasses of ``keras.layers.LSTM`` with its weights (tfmtl's FusedLSTM)
    qualify; layers with other activations, no bias, states in or out, stateful
    ones or a lone ``go_backwards`` LSTM keep their own call.
    """
    if isinstance(layer, keras.layers.Bidirectional):
        forward, backward = layer.forward_layer, layer.backward_layer
        return (layer.merge_mode == "concat" and not layer.return_state
                and _supported_lstm(forward) and _supported_lstm(backward)
                and not forward.go_backwards and backward.go_backwards
                and forward.return_sequences == backward.return_sequences)
    return _supported_lstm(layer) and not layer.go_backwards


class InferenceLSTM(tf.Module):
    """The weights of one LSTM or Bidirectional LSTM layer and its inference.

    Args:
        layer: a built layer for which :func:`supported` is true.
    """

    def __init__(self, layer: keras.layers.Layer):
        super().__init__(name=f"{layer.name}_inference")
        directions = ([layer.forward_layer, layer.backward_layer]
                      if isinstance(layer, keras.layers.Bidirectional) else [layer])
        self.units = directions[0].units
        self.return_sequences = directions[0].return_sequences
        self.backwards = tuple(lstm.go_backwards for lstm in directions)
        # Masked steps of a sequence output: zeros, or (Keras' default outside a
        # Bidirectional) the previous step's output.
        self.zero_output = bool(directions[0].zero_output_for_mask)
        # Per direction, BlockLSTM's layout: [features + units, 4 units] (the input kernel
        # over the recurrent one) and [4 units], gate blocks i, f, c, o as in Keras.
        self.kernels = [
            tf.Variable(np.concatenate([lstm.cell.kernel.numpy(),
                                        lstm.cell.recurrent_kernel.numpy()]),
                        trainable=False, name="kernel")
            for lstm in directions
        ]
        self.biases = [tf.Variable(lstm.cell.bias.numpy(), trainable=False, name="bias")
                       for lstm in directions]

    def __call__(self, sequences, mask=None):
        """What the layer returns for ``(sequences, mask=mask, training=False)``.

        Args:
            sequences: float32 [batch, time, features].
            mask: bool [batch, time] (True on real steps), or None.

        Returns:
            [batch, time, units * directions] for sequence outputs, else
            [batch, units * directions].
        """
        x = tf.convert_to_tensor(sequences, tf.float32)
        shape = tf.shape(x)
        if mask is None:
            return self._fused(x, tf.fill(shape[:1], shape[1]))
        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, shape[1])))
        return tf.cond(right_padded, lambda: self._fused(x, lengths),
                       lambda: self._masked_loop(x, mask))

    def _fused(self, x, lengths):
        """The layer on right-padded sequences of `lengths`, with BlockLSTMV2."""
        units = self.units
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        inputs = tf.transpose(x, [1, 0, 2])  # Time-major, as BlockLSTM wants.
        lengths64 = tf.cast(lengths, tf.int64)
        zeros = tf.zeros(tf.stack([batch, units]))
        no_peephole = tf.zeros([units])
        outputs = []
        for kernel, bias, backwards in zip(self.kernels, self.biases, self.backwards,
                                           strict=True):
            sequence = inputs
            if backwards:
                sequence = tf.reverse_sequence(sequence, lengths64, seq_axis=0, batch_axis=1)
            h = tf.raw_ops.BlockLSTMV2(
                seq_len_max=tf.cast(time, tf.int64), x=sequence, cs_prev=zeros, h_prev=zeros,
                w=kernel, wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=bias,
                cell_clip=-1.0, use_peephole=False,
            ).h  # [time, batch, units]
            if not self.return_sequences:  # The state after each sequence's own last step.
                last = tf.stack([tf.maximum(lengths - 1, 0), tf.range(batch)], axis=1)
                outputs.append(tf.where(lengths[:, None] > 0, tf.gather_nd(h, last), 0.0))
                continue
            if backwards:
                h = tf.reverse_sequence(h, lengths64, seq_axis=0, batch_axis=1)
            outputs.append(h)
        output = tf.concat(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        if not self.return_sequences:
            return output
        output = tf.transpose(output, [1, 0, 2])
        if self.zero_output:
            return output * tf.cast(tf.sequence_mask(lengths, time), tf.float32)[..., None]
        # Past its end, a sequence repeats its last output (zeros when it has none).
        last = tf.minimum(tf.range(time)[None, :], tf.maximum(lengths - 1, 0)[:, None])
        repeated = tf.gather(output, last, batch_dims=1)
        return tf.where(lengths[:, None, None] > 0, repeated, 0.0)

    def _masked_loop(self, x, mask):
        """The layer for any mask: a while loop in which masked steps keep the state."""
        units = self.units
        count = len(self.backwards)
        shape = tf.shape(x)
        batch, time = shape[0], shape[1]
        features = self.kernels[0].shape[0] - units
        flat = tf.reshape(tf.transpose(x, [1, 0, 2]), tf.stack([time * batch, shape[2]]))
        mask = tf.transpose(mask)
        projected, masks, recurrent = [], [], []
        for kernel, bias, backwards in zip(self.kernels, self.biases, self.backwards,
                                           strict=True):
            xw = tf.reshape(tf.nn.bias_add(tf.matmul(flat, kernel[:features]), bias),
                            tf.stack([time, batch, 4 * units]))
            projected.append(tf.reverse(xw, [0]) if backwards else xw)
            masks.append(tf.reverse(mask, [0]) if backwards else mask)
            recurrent.append(kernel[features:])
        # [directions, time, batch, 4 units] and [directions, time, batch, 1].
        xw = tf.stack(projected)
        steps_mask = tf.stack(masks)[..., None]
        recurrent = tf.stack(recurrent)
        zeros = tf.zeros(tf.stack([count, batch, units]))
        return_sequences = self.return_sequences

        def step(t, h, c, outputs):
            z = tf.gather(xw, t, axis=1) + tf.matmul(h, recurrent)
            i, f, g, o = tf.split(z, 4, axis=-1)
            c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h_new = tf.sigmoid(o) * tf.tanh(c_new)
            m = tf.gather(steps_mask, t, axis=1)
            h = tf.where(m, h_new, h)
            if return_sequences:
                outputs = outputs.write(t, h)  # Masked steps are zeroed after the loop.
            return t + 1, h, tf.where(m, c_new, c), outputs

        outputs = tf.TensorArray(tf.float32, size=time if return_sequences else 0,
                                 element_shape=tf.TensorShape([count, None, units]))
        _, h, _, outputs = tf.while_loop(
            lambda t, *_: t < time, step, (tf.constant(0), zeros, zeros, outputs),
        )
        if not return_sequences:
            return tf.concat(tf.unstack(h, num=count), axis=-1) if count > 1 else h[0]
        sequence = outputs.stack()  # [time, directions, batch, units]
        if self.zero_output:
            sequence = sequence * tf.cast(tf.transpose(steps_mask, [1, 0, 2, 3]), tf.float32)
        sequence = tf.unstack(sequence, num=count, axis=1)  # Each [time, batch, units].
        results = [tf.reverse(s, [0]) if back else s
                   for s, back in zip(sequence, self.backwards, strict=True)]
        result = tf.concat(results, axis=-1) if count > 1 else results[0]
        return tf.transpose(result, [1, 0, 2])


def install(model: keras.Model) -> list[InferenceLSTM]:
    """Routes every supported LSTM layer of `model` (nested ones too) through an InferenceLSTM.

    Meant for a model instance built for export, with its weights loaded: the
    layers' ``call`` is replaced and reads a copy of the weights made now, so
    training or restoring the model afterwards would not reach the calls.

    Returns:
        The InferenceLSTMs, whose variables an export must save.
    """
    layers = list(model._flatten_layers(include_self=False, recursive=True))
    inner = set()
    for layer in layers:
        if isinstance(layer, keras.layers.Bidirectional):
            inner.update((id(layer.forward_layer), id(layer.backward_layer)))
    modules = []
    for layer in layers:
        if id(layer) in inner or not supported(layer):
            continue
        module = InferenceLSTM(layer)
        # Layers call self.call, so an instance attribute takes over from the method.
        layer.call = _inference_call(layer.name, module)
        modules.append(module)
    return modules


def replaced_variables(model: keras.Model) -> set[int]:
    """Ids of the variables of `model`'s layers that :func:`install` rerouted."""
    ids = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if "call" in vars(layer):
            ids.update(id(v) for v in layer.variables)
    return ids


def _inference_call(name: str, module: InferenceLSTM):
    def call(sequences, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            raise ValueError(f"{name}: the exported LSTM takes no initial state")
        return module(sequences, mask)

    return call
